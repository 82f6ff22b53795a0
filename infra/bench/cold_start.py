"""Cold start of each function: from process start to its first answered invocation.

A minimal Lambda runtime API (the HTTP interface the Lambda service gives a custom runtime)
hands the process one API Gateway event and notes when the answer arrives. Each binary is
started RUNS times; the median is reported, next to a hello-world lambda_http binary.

Usage: cold_start.py BIN_DIR FUNCTION... (needs DYNAMODB endpoint in AWS_ENDPOINT_URL_DYNAMODB)
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNS = int(os.environ.get("RUNS", "10"))
EVENT = {
    "resource": "/api/chat/poll/{sessionId}",
    "path": "/api/chat/poll/chat_bench_session",
    "httpMethod": "GET",
    "headers": {"x-chat-token": "bench"},
    "multiValueHeaders": {"x-chat-token": ["bench"]},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": {"sessionId": "chat_bench_session"},
    "stageVariables": None,
    "requestContext": {
        "accountId": "000000000000", "apiId": "bench", "resourcePath": "/api/chat/poll/{sessionId}",
        "httpMethod": "GET", "path": "/v1/api/chat/poll/chat_bench_session", "stage": "v1",
        "requestId": "bench", "identity": {"sourceIp": "127.0.0.1"},
    },
    "body": "{}",
    "isBase64Encoded": False,
}


class Runtime(BaseHTTPRequestHandler):
    """One runtime API per start: each `once` makes a subclass with its own state."""

    served = False
    answered = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        cls = type(self)
        if cls.served:  # after the one event: hold the poll, as Lambda freezes the process
            time.sleep(30)
            return
        cls.served = True
        body = json.dumps(EVENT).encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-request")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 10_000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:bench")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).answered = (time.perf_counter(), self.path)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def once(binary: str) -> float:
    # A fresh class per start: a request still parked from an earlier start cannot touch it.
    runtime = type("RuntimeForOneStart", (Runtime,), {"served": False, "answered": None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), runtime)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_port}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
        "LOG_LEVEL": "warn",
    })
    started = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while runtime.answered is None:
            if process.poll() is not None:
                raise SystemExit(f"{binary} exited with {process.returncode} before answering")
            if time.perf_counter() - started > 20:
                raise SystemExit(f"{binary} did not answer within 20 s")
            time.sleep(0.0005)
        answered_at, path = runtime.answered
        if not path.endswith("/response"):
            raise SystemExit(f"{binary} reported an error: {path}")
        return (answered_at - started) * 1000
    finally:
        process.kill()
        process.wait()
        server.shutdown()
        server.server_close()


def main() -> None:
    bin_dir, names = sys.argv[1], sys.argv[2:]
    print(f"| binary | median ms (of {RUNS}) | min ms | max ms |")
    print("|---|---:|---:|---:|")
    for name in names:
        times = [once(os.path.join(bin_dir, name)) for _ in range(RUNS)]
        print(f"| {name} | {statistics.median(times):.1f} | {min(times):.1f} | {max(times):.1f} |")


if __name__ == "__main__":
    main()
