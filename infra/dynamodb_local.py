"""A DynamoDB-compatible server for development and tests: moto's, one request at a time.

moto's stock `moto_server` is threaded, and its conditional writes and transactions are not
atomic across concurrent requests (measured: 240 committed transactions, 223 stored messages).
DynamoDB makes each one atomic; serving requests one at a time makes moto do the same, so the
concurrency tests test our code, not moto.

Where moto is kinder than DynamoDB, this server behaves like DynamoDB instead:
- `TransactWriteItems` with a `ClientRequestToken` is idempotent for 10 minutes: the same token
  and request again answers as the first time without writing (moto would run it again, and a
  retried conditional write would fail on its own first attempt); the same token with another
  request is `IdempotentParameterMismatchException`.
- A `Query` or `Scan` whose `ExclusiveStartKey` is not exactly the key of the table (and of the
  index queried), with string keys, or whose partition differs from the one queried, is a
  `ValidationException` (moto accepts any map and starts somewhere).

Usage: dynamodb_local.py [--host 127.0.0.1] [--port 0]
Prints `READY http://HOST:PORT` once it accepts connections (port 0 picks a free one).
With --exit-with-stdin it exits when its standard input closes, so a test run that starts it
never leaves it behind, however that run ends.
"""

import argparse
import hashlib
import io
import json
import logging
import os
import re
import signal
import sys
import threading
import time

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


TOKEN_WINDOW_SECONDS = 600


def error(kind: str, message: str):
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message})
    return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")], body.encode()


def find_table(name: str):
    from moto.dynamodb.models import dynamodb_backends

    for regions in dynamodb_backends.values():
        for backend in regions.values():
            table = backend.tables.get(name)
            if table is not None:
                return table
    return None


def start_key_problem(operation: str, request: dict):
    """Why DynamoDB would refuse this request's ExclusiveStartKey, or None."""
    start = request.get("ExclusiveStartKey")
    if start is None:
        return None
    table = find_table(request.get("TableName", ""))
    if table is None:
        return None
    expected = {table.hash_key_attr, table.range_key_attr} - {None}
    index_hash = None
    index_name = request.get("IndexName")
    if index_name:
        index = next((i for i in table.global_indexes + table.indexes if i.name == index_name), None)
        if index is None:
            return None
        for element in index.schema:
            expected.add(element["AttributeName"])
            if element["KeyType"] == "HASH":
                index_hash = element["AttributeName"]
    else:
        index_hash = table.hash_key_attr
    if not isinstance(start, dict) or set(start) != expected:
        return "The provided starting key is invalid: the key attributes do not match the schema"
    if any(not isinstance(v, dict) or set(v) != {"S"} for v in start.values()):
        return "The provided starting key is invalid: key attributes must be strings here"
    if operation == "Query":
        # `<hash> = :value` in the key condition: the start key must be in that partition.
        condition = request.get("KeyConditionExpression", "")
        names = request.get("ExpressionAttributeNames", {})
        values = request.get("ExpressionAttributeValues", {})
        for name, placeholder in re.findall(r"(#?\w+)\s*=\s*(:\w+)", condition):
            if names.get(name, name) == index_hash and start[index_hash] != values.get(placeholder):
                return "The provided starting key is invalid: it is not in the queried partition"
    return None


class LikeDynamoDb:
    """WSGI middleware: the DynamoDB behaviours moto lacks (see the module docstring)."""

    def __init__(self, app):
        self.app = app
        self.tokens = {}  # token -> (time, request digest, status, headers, body)

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rsplit(".", 1)[-1]
        if operation not in ("TransactWriteItems", "Query", "Scan"):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            return self.app(environ, start_response)

        if operation in ("Query", "Scan"):
            problem = start_key_problem(operation, request)
            if problem:
                return self.answer(start_response, error("ValidationException", problem))
            return self.app(environ, start_response)

        token = request.get("ClientRequestToken")
        if not token:
            return self.app(environ, start_response)
        now = time.monotonic()
        self.tokens = {t: v for t, v in self.tokens.items() if now - v[0] < TOKEN_WINDOW_SECONDS}
        digest = hashlib.sha256(raw).hexdigest()
        if token in self.tokens:
            _, first_digest, status, headers, body = self.tokens[token]
            if first_digest != digest:
                return self.answer(
                    start_response,
                    error("IdempotentParameterMismatchException", "token reused with another request"),
                )
            return self.answer(start_response, (status, headers, body))
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        if captured["status"].startswith("200"):
            self.tokens[token] = (now, digest, captured["status"], captured["headers"], body)
        return self.answer(start_response, (captured["status"], captured["headers"], body))

    @staticmethod
    def answer(start_response, response):
        status, headers, body = response
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-with-stdin", action="store_true")
    parser.add_argument("--log-requests", action="store_true")
    args = parser.parse_args()
    if not args.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app = LikeDynamoDb(DomainDispatcherApplication(create_backend_app))
    # threaded=False: one request at a time, each conditional write or transaction atomic.
    server = make_server(
        args.host, args.port, app, threaded=False, request_handler=MotoRequestHandler
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.exit_with_stdin:
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    print(f"READY http://{args.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
