"""Cold start of each function: from process start to its first answered invocation.

A minimal Lambda runtime API (the HTTP interface the Lambda service gives a custom runtime)
hands the process the event its trigger in template.yaml sends (an API Gateway request on the
function's own route, the WebSocket API's route event, the schedule's event, or a batch of the
table's stream records) and notes when the answer arrives. Each binary is started RUNS times;
the median is reported, next to a hello-world lambda_http binary.

Usage: cold_start.py BIN_DIR FUNCTION... (needs DYNAMODB endpoint in AWS_ENDPOINT_URL_DYNAMODB
and a table made from template.yaml; DYNAMODB_STUB=1: an in-process stub that answers every
call with no item, instead)
"""

import base64
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

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


SCHEDULED_EVENT = {
    "version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events",
    "account": "000000000000", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:000000000000:rule/bench"], "detail": {},
}


def api_event(method: str, resource: str) -> dict:
    """API Gateway's request for `method resource`, every path parameter set to `bench`."""
    params = re.findall(r"{(\w+)\+?}", resource)
    path = re.sub(r"{(\w+)\+?}", "bench", resource)
    context = dict(EVENT["requestContext"], resourcePath=resource, httpMethod=method, path=f"/v1{path}")
    return dict(EVENT, resource=resource, path=path, httpMethod=method, requestContext=context,
                pathParameters={p: "bench" for p in params} or None)


# What template.yaml gives the push functions (PUSH_URL: the ticket endpoints; the consumer's
# PUSH_CALLBACK_URL: the stage it posts to). Nothing listens on port 9: the cold-start events
# make no post; memory.py points the consumer at its own management API.
PUSH_ENV = {
    "PUSH_URL": "wss://bench.execute-api.us-east-1.amazonaws.com/v1",
    "PUSH_CALLBACK_URL": "http://127.0.0.1:9/v1",
}


def aws_id() -> str:
    """An id as API Gateway's connection and request ids look: 16 base64 characters ending `=`."""
    return base64.b64encode(os.urandom(11)).decode()


def socket_event(route_key: str, connection_id: str, body: str | None = None, query: dict | None = None) -> dict:
    """API Gateway's WebSocket route event for `route_key`, in the shape the local gateway
    (infra/local-api/src/websocket.rs) builds it: `$connect` with the upgrade's headers and the
    query, `$disconnect` with the headers API Gateway always sends, a message with its body."""
    now = time.time()
    request_id = aws_id()
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
    domain = "bench.execute-api.us-east-1.amazonaws.com"
    context = {
        "routeKey": route_key, "eventType": event_type, "extendedRequestId": request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "messageDirection": "IN", "stage": "v1",
        "connectedAt": int(now * 1000),
        "requestTimeEpoch": int(now * 1000),
        "identity": {"sourceIp": "203.0.113.9", "userAgent": "Mozilla/5.0 (bench)"},
        "requestId": request_id, "domainName": domain, "connectionId": connection_id, "apiId": "bench",
    }
    if event_type == "MESSAGE":
        context["messageId"] = aws_id()
        return {"requestContext": context, "body": body, "isBase64Encoded": False}
    if event_type == "DISCONNECT":
        context.update(disconnectStatusCode=1001, disconnectReason="Going away")
        headers = {"Host": domain, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    else:
        headers = {
            "Host": domain, "Origin": "https://support.example.com", "User-Agent": "Mozilla/5.0 (bench)",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(), "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
            "x-amzn-trace-id": f"Root=1-{int(now):08x}-{os.urandom(12).hex()}",
            "x-forwarded-for": "203.0.113.9", "x-forwarded-port": "443", "x-forwarded-proto": "https",
        }
    event = {"headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
             "requestContext": context, "isBase64Encoded": False}
    if query:  # API Gateway leaves both out when the URL has no query string
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return event


# 43 characters of the ticket alphabet, as a real ticket: spent by nobody, so `$connect` makes
# the ticket's DeleteItem and answers 401 (a refused connect, the cheap way in).
UNKNOWN_TICKET = "bench-ticket-that-was-never-issued-".ljust(43, "0")


# A client's keep-alive frame, as a browser's JSON.stringify writes it.
PING = '{"action":"ping","t":1}'


def socket_events() -> dict:
    """The first event of each WebSocket route, by route key: a refused `$connect`, a
    `$disconnect`, a ping on `$default`."""
    connection = aws_id()
    return {
        "$connect": socket_event("$connect", connection, query={"ticket": UNKNOWN_TICKET}),
        "$disconnect": socket_event("$disconnect", connection),
        "$default": socket_event("$default", connection, body=PING),
    }


def stream_record(event_name: str, keys: dict, new_image: dict | None, old_image: dict | None,
                  sequence: int, created: float | None = None) -> dict:
    """One stream record as Lambda puts it in the consumer's event (infra/local-api/src/stream.rs
    builds the same): images in DynamoDB's wire JSON ({"S": ...}), NEW_AND_OLD_IMAGES."""
    change = {"ApproximateCreationDateTime": float(int(created if created is not None else time.time())),
              "Keys": keys}
    if new_image is not None:
        change["NewImage"] = new_image
    if old_image is not None:
        change["OldImage"] = old_image
    # About the items' size; the consumer does not read it.
    size = len(json.dumps(keys)) + len(json.dumps(new_image or {})) + len(json.dumps(old_image or {}))
    change.update(SequenceNumber=str(sequence), SizeBytes=size, StreamViewType="NEW_AND_OLD_IMAGES")
    return {
        "eventID": os.urandom(16).hex(), "eventName": event_name, "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": change,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/bench/stream/2026-01-01T00:00:00.000",
    }


def first_message_record() -> dict:
    """A customer's first message committed (what a fresh chat's stream record is), its session
    absent from the bench table: the consumer decodes it, reads the session to find its holder
    (one GetItem), finds none and posts nothing."""
    now = time.time()
    pk, sk = "SESSION#chat_bench_session", "MSG#000000000001"
    image = {
        "PK": {"S": pk}, "SK": {"S": sk}, "entity": {"S": "message"},
        "messageId": {"S": "msg_000000000001"}, "sender": {"S": "user"},
        "message": {"S": "Hello, my order has not arrived yet."},
        "timestamp": {"S": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now))},
        "expiresAt": {"N": str(int(now) + 90 * 86400)},
    }
    return stream_record("INSERT", {"PK": {"S": pk}, "SK": {"S": sk}}, image, None,
                         1100000000000000000001, now)


class Template(yaml.SafeLoader):
    pass


# CloudFormation's short-form functions (!Sub, !GetAtt, ...) do not matter for the triggers;
# `!Ref X.Alias` stays readable: it is how a WebSocket route names its function.
Template.add_multi_constructor("!", lambda loader, suffix, node: None)
Template.add_constructor("!Ref", lambda loader, node: loader.construct_scalar(node))


def trigger_events(template: str = "template.yaml") -> dict:
    """The first event each function's trigger sends, by function folder (its CodeUri)."""
    with open(template) as f:
        resources = yaml.load(f, Template)["Resources"]
    events = {}
    functions = {}  # logical id -> folder, for the WebSocket routes
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        name = os.path.basename(properties["CodeUri"].rstrip("/"))
        functions[logical_id] = name
        for trigger in (properties.get("Events") or {}).values():
            kind, props = trigger["Type"], trigger.get("Properties") or {}
            if kind == "Api":
                events[name] = api_event(props["Method"].upper(), props["Path"])
            elif kind == "Schedule":
                events[name] = SCHEDULED_EVENT
            elif kind == "DynamoDB":
                events[name] = {"Records": [first_message_record()]}
            else:
                raise SystemExit(f"{name}: no bench event for a {kind} trigger")
            break
    # A WebSocket API's functions have no Events: the API's Routes name them.
    route_events = socket_events()
    for api_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::WebSocketApi":
            continue
        for route_key, route in (resource["Properties"].get("Routes") or {}).items():
            target = route.get("FunctionArn")
            logical_id = target.split(".")[0] if isinstance(target, str) else None
            if logical_id not in functions:
                raise SystemExit(f"{api_id} route {route_key}: no function named by {target!r}")
            if route_key not in route_events:
                raise SystemExit(f"{api_id}: no bench event for the route {route_key}")
            events[functions[logical_id]] = route_events[route_key]
    return events


class Runtime(BaseHTTPRequestHandler):
    """One runtime API per start: each `start` makes a subclass with its own state."""

    events = [EVENT]
    served = 0
    answers = None  # (perf_counter, path, body) per answered event

    def log_message(self, *args):
        pass

    def do_GET(self):
        cls = type(self)
        if cls.served >= len(cls.events):  # after the last event: hold the poll, as Lambda freezes the process
            time.sleep(30)
            return
        body = json.dumps(cls.events[cls.served]).encode()
        cls.served += 1
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", f"bench-request-{cls.served}")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 10_000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:bench")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).answers.append((time.perf_counter(), self.path, body))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def peak_rss_kib(pid: int) -> int:
    """The process's high-water mark of resident memory (what Lambda's "Max Memory Used" reports)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/<pid>/status")


# Set on developer machines and CI, never on Lambda; each changes how the SDK finds the root
# certificates, which is a large part of init (docs/performance/cold-start-init.md).
NOT_ON_LAMBDA = ("SSL_CERT_FILE", "SSL_CERT_DIR", "AWS_CA_BUNDLE")


def lambda_like_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in NOT_ON_LAMBDA}


def start(binary: str, events: list, extra_env: dict | None = None):
    """Starts `binary` against a fresh runtime API that hands it `events` one after the other.

    Returns the answers (ms since process start, parsed response) and the peak RSS in KiB."""
    # A fresh class per start: a request still parked from an earlier start cannot touch it.
    runtime = type("RuntimeForOneStart", (Runtime,), {"events": events, "served": 0, "answers": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), runtime)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = lambda_like_env()
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_port}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
        "LOG_LEVEL": "warn",
    })
    env.update(PUSH_ENV)
    env.update(extra_env or {})
    started = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while len(runtime.answers) < len(events):
            if process.poll() is not None:
                raise SystemExit(f"{binary} exited with {process.returncode} before answering")
            if time.perf_counter() - started > 20 + len(events):
                raise SystemExit(f"{binary} did not answer within {20 + len(events)} s")
            time.sleep(0.0005)
        peak = peak_rss_kib(process.pid)
        answers = []
        for answered_at, path, body in runtime.answers:
            if not path.endswith("/response"):
                raise SystemExit(f"{binary} reported an error: {path} {body[:200]!r}")
            answers.append(((answered_at - started) * 1000, json.loads(body)))
        return answers, peak
    finally:
        process.kill()
        process.wait()
        server.shutdown()
        server.server_close()


def once(binary: str, event: dict) -> float:
    answers, _ = start(binary, [event])
    return answers[0][0]


class StubDynamoDB(BaseHTTPRequestHandler):
    """Answers every DynamoDB call with `{}` (no item) in one write, at once: with it, a start
    measures init and the handler, not the local DynamoDB server's own latency (tens of ms at
    times on a loaded machine)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                         b"Content-Length: 2\r\n\r\n{}")
        self.wfile.flush()


def start_stub_dynamodb() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubDynamoDB)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def main() -> None:
    bin_dir, names = sys.argv[1], sys.argv[2:]
    if os.environ.get("DYNAMODB_STUB") == "1":
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = start_stub_dynamodb()
    print(f"| binary | median ms (of {RUNS}) | min ms | max ms |")
    print("|---|---:|---:|---:|")
    triggers = trigger_events()
    for name in names:
        event = EVENT if name == "hello-lambda" else triggers[name]
        times = [once(os.path.join(bin_dir, name), event) for _ in range(RUNS)]
        print(f"| {name} | {statistics.median(times):.1f} | {min(times):.1f} | {max(times):.1f} |")


if __name__ == "__main__":
    main()
