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
- Consumed capacity is computed as DynamoDB computes it (infra/dynamodb_capacity.py: 4 KB read
  units, halved when eventually consistent; 1 KB write units, doubled in a transaction; index
  writes where an index entry is put, removed or changed), from the items before and after each
  request; moto answers fixed numbers. A request asking for it (`ReturnConsumedCapacity` TOTAL
  or INDEXES) gets it in its answer; running totals of every request are served on
  `GET /_local/capacity` to loopback clients only (`{"requests", "read", "write",
  "operations": {op: {...}}, "indexes": {name: units}}`).

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dynamodb_capacity as capacity  # noqa: E402


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


CAPACITY_PATH = "/_local/capacity"
WRITES = ("PutItem", "UpdateItem", "DeleteItem")
READS = ("GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan")
MEASURED = WRITES + READS + ("TransactWriteItems", "BatchWriteItem")
# Answers that list capacity per table rather than give one object.
PER_TABLE = ("BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems")


def schema_of(table) -> capacity.Schema:
    indexes = []
    for index in table.global_indexes:
        keys = sorted(index.schema, key=lambda e: e["KeyType"] != "HASH")
        projection = index.projection or {}
        indexes.append(
            capacity.Index(
                name=index.name,
                keys=tuple(e["AttributeName"] for e in keys),
                projection=projection.get("ProjectionType", "ALL"),
                included=tuple(projection.get("NonKeyAttributes", [])),
            )
        )
    keys = (table.hash_key_attr,) + ((table.range_key_attr,) if table.range_key_attr else ())
    return capacity.Schema(keys=keys, indexes=tuple(indexes))


def stored_item(table_name: str, key: dict) -> dict | None:
    """The item as stored now (wire format), or None."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = find_table(table_name)
    if table is None:
        return None
    try:
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(hash_key, range_key)
    except Exception:  # a malformed key: moto answers the error; nothing to measure
        return None
    return item.to_json()["Attributes"] if item else None


def written_keys(operation: str, request: dict) -> list[tuple[str, str, dict, bool]]:
    """(table, kind, key, is a condition check) of every item a write request touches."""
    def key_of(table_name: str, item: dict) -> dict:
        table = find_table(table_name)
        if table is None:
            return {}
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        return {n: item[n] for n in names if n in item}

    if operation in WRITES:
        name = request.get("TableName", "")
        key = request.get("Key") or key_of(name, request.get("Item", {}))
        return [(name, operation, key, False)]
    found = []
    if operation == "TransactWriteItems":
        for entry in request.get("TransactItems", []):
            for kind, body in entry.items():
                name = body.get("TableName", "")
                key = body.get("Key") or key_of(name, body.get("Item", {}))
                found.append((name, kind, key, kind == "ConditionCheck"))
    elif operation == "BatchWriteItem":
        for name, requests in request.get("RequestItems", {}).items():
            for entry in requests:
                for kind, body in entry.items():
                    key = body.get("Key") or key_of(name, body.get("Item", {}))
                    found.append((name, kind, key, False))
    return found


class Totals:
    def __init__(self):
        self.requests = 0
        self.all = capacity.Consumed()
        self.operations: dict[str, dict] = {}

    def add(self, operation: str, per_table: dict[str, capacity.Consumed]) -> None:
        self.requests += 1
        entry = self.operations.setdefault(operation, {"requests": 0, "read": 0.0, "write": 0.0})
        entry["requests"] += 1
        for consumed in per_table.values():
            self.all.merge(consumed)
            entry["read"] += consumed.read
            entry["write"] += consumed.write

    def as_json(self) -> dict:
        return {
            "requests": self.requests,
            "read": self.all.read,
            "write": self.all.write,
            "operations": self.operations,
            "indexes": self.all.indexes,
        }


class LikeDynamoDb:
    """WSGI middleware: the DynamoDB behaviours moto lacks (see the module docstring)."""

    def __init__(self, app):
        self.app = app
        self.tokens = {}  # token -> (time, request digest, status, headers, body)
        self.totals = Totals()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == CAPACITY_PATH and environ.get("REQUEST_METHOD") == "GET":
            return self.capacity_totals(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rsplit(".", 1)[-1]
        if operation not in MEASURED:
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

        token = request.get("ClientRequestToken") if operation == "TransactWriteItems" else None
        now = time.monotonic()
        digest = hashlib.sha256(raw).hexdigest()
        if token:
            self.tokens = {t: v for t, v in self.tokens.items() if now - v[0] < TOKEN_WINDOW_SECONDS}
            if token in self.tokens:
                _, first_digest, status, headers, body = self.tokens[token]
                if first_digest != digest:
                    return self.answer(
                        start_response,
                        error("IdempotentParameterMismatchException", "token reused with another request"),
                    )
                return self.answer(start_response, (status, headers, body))

        touched = written_keys(operation, request)
        before = [stored_item(name, key) for name, _, key, _ in touched]
        status, headers, body = self.call(environ)
        per_table = self.consumed(operation, request, status, body, touched, before, environ)
        self.totals.add(operation, per_table)
        if status.startswith("200"):
            body = self.with_capacity(operation, request, body, per_table)
            headers = [(k, v) for k, v in headers if k.lower() != "x-amz-crc32"]
            if token:
                self.tokens[token] = (now, digest, status, headers, body)
        return self.answer(start_response, (status, headers, body))

    def call(self, environ):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        return captured["status"], captured["headers"], body

    def consumed(self, operation, request, status, body, touched, before, environ):
        """Units per table this request consumed (nothing for a request DynamoDB refuses
        outright; the table's units for a write its condition refused)."""
        per_table: dict[str, capacity.Consumed] = {}

        def add(name: str, consumed: capacity.Consumed) -> None:
            per_table.setdefault(name, capacity.Consumed()).merge(consumed)

        ok = status.startswith("200")
        refused = not ok and (b"ConditionalCheckFailed" in body or b"TransactionCanceled" in body)
        if touched and (ok or refused):
            transactional = operation == "TransactWriteItems"
            for (name, _, key, check), old in zip(touched, before):
                if ok and not check:
                    new = stored_item(name, key)
                    add(name, capacity.write_consumed(old, new, schema_of(find_table(name)), transactional))
                else:
                    add(name, capacity.refused_write_consumed(old, transactional))
            return per_table
        if not ok:
            return per_table
        answer = json.loads(body or b"{}")
        if operation == "GetItem":
            size = capacity.item_size(answer.get("Item"))
            add(request.get("TableName", ""), capacity.item_reads_consumed([size], bool(request.get("ConsistentRead"))))
        elif operation == "BatchGetItem":
            unprocessed = answer.get("UnprocessedKeys") or {}
            for name, wanted in request.get("RequestItems", {}).items():
                found = [capacity.item_size(i) for i in answer.get("Responses", {}).get(name, [])]
                processed = len(wanted.get("Keys", [])) - len(unprocessed.get(name, {}).get("Keys", []))
                sizes = found + [0] * max(0, processed - len(found))
                add(name, capacity.item_reads_consumed(sizes, bool(wanted.get("ConsistentRead"))))
        elif operation == "TransactGetItems":
            for entry, got in zip(request.get("TransactItems", []), answer.get("Responses", [])):
                name = entry.get("Get", {}).get("TableName", "")
                add(name, capacity.item_reads_consumed([capacity.item_size(got.get("Item"))], True, True))
        elif operation in ("Query", "Scan"):
            items = self.evaluated_items(request, answer, environ)
            sizes = [capacity.item_size(i) for i in items]
            add(request.get("TableName", ""), capacity.query_consumed(sizes, bool(request.get("ConsistentRead")), request.get("IndexName")))
        return per_table

    def evaluated_items(self, request, answer, environ):
        """Every item a Query or Scan read: a filter or projection hides some of what it
        read, so the same request without them is asked again (a read: nothing changes)."""
        hiding = ("FilterExpression", "ProjectionExpression", "Select", "AttributesToGet")
        if not any(k in request for k in hiding):
            return answer.get("Items", [])
        plain = {k: v for k, v in request.items() if k not in hiding}
        placeholders_in = ("ExpressionAttributeNames", "ExpressionAttributeValues")
        used = json.dumps({k: v for k, v in plain.items() if k not in placeholders_in})
        mentioned = lambda name: re.search(re.escape(name) + r"(?!\w)", used)  # noqa: E731
        for placeholders in placeholders_in:
            plain[placeholders] = {
                k: v for k, v in request.get(placeholders, {}).items() if mentioned(k)
            }
        plain = {k: v for k, v in plain.items() if v != {}}
        raw = json.dumps(plain).encode()
        shadow = dict(environ, **{"wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw))})
        status, _, body = self.call(shadow)
        return json.loads(body).get("Items", []) if status.startswith("200") else answer.get("Items", [])

    @staticmethod
    def with_capacity(operation, request, body, per_table):
        detail = request.get("ReturnConsumedCapacity", "NONE")
        answer = json.loads(body or b"{}")
        answer.pop("ConsumedCapacity", None)
        if detail in ("TOTAL", "INDEXES"):
            reports = [capacity.report(c, name, detail) for name, c in per_table.items()]
            if operation in PER_TABLE:
                answer["ConsumedCapacity"] = reports
            elif reports:
                answer["ConsumedCapacity"] = reports[0]
        return json.dumps(answer).encode()

    def capacity_totals(self, environ, start_response):
        if environ.get("REMOTE_ADDR") not in ("127.0.0.1", "::1", None):
            return self.answer(start_response, ("403 Forbidden", [("Content-Type", "text/plain")], b"local only"))
        body = json.dumps(self.totals.as_json()).encode()
        return self.answer(start_response, ("200 OK", [("Content-Type", "application/json")], body))

    @staticmethod
    def answer(start_response, response):
        status, headers, body = response
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]


def snapshot_streams_cheaply() -> None:
    """moto snapshots every table a transaction touches (`copy.deepcopy`) to restore it if the
    transaction is cancelled, and a table with a stream carries every stream record ever
    written (moto never trims them): each transaction would copy the whole stream, growing
    with every write, until requests time out. A record never changes once written, so the
    snapshot shares them and copies only the list: restoring it still drops the records of a
    cancelled transaction, as DynamoDB never writes them."""
    import copy

    from moto.dynamodb.models.table import StreamShard

    def snapshot(shard, memo):
        clone = StreamShard.__new__(StreamShard)
        memo[id(shard)] = clone
        clone.__dict__.update(shard.__dict__)
        clone.table = copy.deepcopy(shard.table, memo)
        clone.items = list(shard.items)
        return clone

    StreamShard.__deepcopy__ = snapshot


def main() -> None:
    snapshot_streams_cheaply()
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
