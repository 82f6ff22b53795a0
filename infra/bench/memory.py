"""Peak memory of each function binary over a realistic run, to choose its Lambda MemorySize.

Each function's binary is started once against a local Lambda runtime API (cold_start.py's) and
handed INVOCATIONS requests of its own route, in the order a chat goes: a customer starts a
session, signals typing and writes; an agent signs in (argon2), fills the team's canned replies
and lists them, lists the waiting chats, claims, signals typing, replies, reads the transcript,
edits the canned replies; every customer and the agent's dashboard take push tickets and connect
with them (WebSocket route events as API Gateway sends them), the customers ping, the stream
consumer is handed the records of the chat's sends (its posts answered by a local stand-in for
API Gateway's management API), and the connections close; the customer polls the replies,
leaves and rates; the agent reads the analytics summary and deletes the canned replies. The peak
resident memory (VmHWM, what Lambda reports as "Max Memory Used") is read after the last answer.

Every answer is checked against what that request should get: a 2xx (with no error frame, for
a WebSocket message; with no failed record, for the stream consumer), or the named error
(status and envelope code) where the story provokes one. Answers that differ are listed on
stderr and the run exits non-zero after printing the table; except a 503 SERVICE_UNAVAILABLE
(for `$connect`, a bare 500), the designed answer when DynamoDB does not answer within the
functions' limits (2.5 s per operation), which the local server does at times on a loaded
machine: those are counted in their own column and listed, and do not fail the run.

Usage: memory.py BIN_DIR (env: the DynamoDB endpoint and credentials, TABLE_NAME of a table made
from template.yaml, BENCH_ADMIN_EMAIL / BENCH_ADMIN_PASSWORD of an existing admin)
"""

import base64
import copy
import datetime
import json
import os
import statistics
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

sys.path.insert(0, os.path.dirname(__file__))
from cold_start import EVENT, PING, UNKNOWN_TICKET, aws_id, socket_event, start, stream_record  # noqa: E402

INVOCATIONS = int(os.environ.get("INVOCATIONS", "100"))


def event(method, resource, path, body=None, token=None, admin=None, path_params=None, query=None, ip="203.0.113.9"):
    headers = {"content-type": "application/json", "x-forwarded-for": ip}
    if token:
        headers["x-chat-token"] = token
    if admin:
        headers["authorization"] = f"Bearer {admin}"
    context = dict(EVENT["requestContext"], resourcePath=resource, httpMethod=method, path=f"/v1{path}",
                   identity={"sourceIp": ip})
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_params, "stageVariables": None, "requestContext": context,
        "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
    }


class Refused:
    """A request the story expects to be refused, with this status and envelope error code."""

    def __init__(self, event, status, code):
        self.event, self.status, self.code = event, status, code


def error_code(envelope):
    if isinstance(envelope, dict) and isinstance(envelope.get("error"), dict):
        return envelope["error"].get("code")
    # A WebSocket route's error frame ({"type": "error", "data": {"code": ...}}), answered 200.
    if isinstance(envelope, dict) and envelope.get("type") == "error" and isinstance(envelope.get("data"), dict):
        return envelope["data"].get("code")
    return None


def dynamodb_failed(request, status, envelope):
    """Whether the answer is the designed one for DynamoDB not answering in time: an API's 503
    SERVICE_UNAVAILABLE, or `$connect`'s bare 500 (API Gateway passes only a status there)."""
    if (status, error_code(envelope)) == (503, "SERVICE_UNAVAILABLE"):
        return True
    event = request.event if isinstance(request, Refused) else request
    route = (event.get("requestContext") or {}).get("routeKey")
    return route == "$connect" and status == 500 and envelope == "null"


class Run:
    def __init__(self, bin_dir):
        self.bin_dir = bin_dir
        self.rows = []
        self.unexpected = []
        self.unavailable = []
        self.statuses = []  # the last drive's status per request (None: not an HTTP answer)

    def drive(self, name, requests, env=None):
        """Runs `name` over `requests` (events, or `Refused` for an expected error), with `env`
        added to its environment; returns the parsed envelopes, records the row and every
        answer that is not the expected one."""
        events = [r.event if isinstance(r, Refused) else r for r in requests]
        answers, peak = start(os.path.join(self.bin_dir, name), events, env)
        envelopes, ok, expected, unavailable = [], 0, 0, 0
        self.statuses = [response.get("statusCode") if isinstance(response, dict) else None
                         for _, response in answers]
        for index, (request, (_, response)) in enumerate(zip(requests, answers)):
            if isinstance(response, dict) and "batchItemFailures" in response:  # the stream consumer
                failed = len(response["batchItemFailures"])
                ok += not failed
                expected += not failed
                if failed:
                    self.unexpected.append(f"{name} request {index}: {failed} records failed, expected none")
                envelopes.append(response)
                continue
            if not isinstance(response, dict) or "statusCode" not in response:  # the idle sweep
                ok += 1
                expected += 1
                envelopes.append(response)
                continue
            status = response["statusCode"]
            body = response.get("body") or "null"
            envelope = json.loads(body) if body.startswith(("{", "[")) else body
            envelopes.append(envelope)
            ok += 200 <= status < 300
            if isinstance(request, Refused):
                matches = (status, error_code(envelope)) == (request.status, request.code)
                wanted = f"{request.status} {request.code}"
            else:
                matches = 200 <= status < 300 and error_code(envelope) is None
                wanted = "2xx"
            expected += matches
            if matches:
                continue
            answer = f"{name} request {index}: {status} {error_code(envelope)}, expected {wanted}"
            if dynamodb_failed(request, status, envelope):
                unavailable += 1
                self.unavailable.append(answer)
            else:
                self.unexpected.append(answer)
        warm = [b - a for (a, _), (b, _) in zip(answers, answers[1:])]
        self.rows.append((name, len(events), ok, expected, unavailable, peak, answers[0][0],
                          statistics.median(warm) if warm else None))
        return envelopes

    def print(self):
        print("| function | invocations | 2xx | as expected | 503 (DynamoDB too slow) | peak RSS (MiB) "
              "| first answer ms | warm ms (median) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, count, ok, expected, unavailable, peak, first, warm in self.rows:
            warm_text = f"{warm:.1f}" if warm is not None else "-"
            print(f"| {name} | {count} | {ok} | {expected} | {unavailable} | {peak / 1024:.1f} | {first:.1f} "
                  f"| {warm_text} |")
        for line in self.unavailable:
            print(f"{line} (DynamoDB too slow)", file=sys.stderr)
        for line in self.unexpected:
            print(line, file=sys.stderr)


class ManagementApi(BaseHTTPRequestHandler):
    """API Gateway's `@connections` API as the stream consumer's posts meet it: 200 (a post)
    or 204 (a close) for a connection in `live`, 410 GoneException for any other, as for a
    connection that has closed. Answered at once: against an address nobody listens on, every
    post is a connection refused that the SDK retries with backoff, about 1.2 s a batch (3.5 s
    the first), and every record is reported failed."""

    protocol_version = "HTTP/1.1"
    live = set()
    answered = {}  # status -> count

    def log_message(self, *args):
        pass

    def answer(self, live_status):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        connection = urllib.parse.unquote(self.path.rsplit("/@connections/", 1)[-1])
        cls = type(self)
        if connection in cls.live:
            status, headers, body = live_status, {}, b""
        else:
            status, body = 410, b'{"message":null}'
            headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "GoneException"}
        cls.answered[status] = cls.answered.get(status, 0) + 1
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.answer(200)

    def do_DELETE(self):
        self.answer(204)


def start_management_api(live) -> tuple:
    api = type("ManagementApiForOneRun", (ManagementApi,), {"live": set(live), "answered": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), api)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, api


def wire(value):
    """An attribute value as the stream's JSON carries it (boto3 gives binary values as bytes)."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


def send_records(session, messages, n):
    """The stream records of `n` of the session's sends, spread over its transcript (customer
    lines, then support replies): each a message INSERT and the session's MODIFY that moved
    `lastSeq` and `lastMessage` to it, committed in one transaction, so one batch each."""
    def preview(message):
        return {"M": {k: message[k] if k != "message" else {"S": message[k]["S"][:200]}
                      for k in ("messageId", "message", "sender", "timestamp")}}

    def seq(message):
        return int(message["SK"]["S"].removeprefix("MSG#"))

    session_keys = {"PK": session["PK"], "SK": session["SK"]}
    by_seq = {seq(m): m for m in messages}
    batches = []
    sequence = 1100000000000000000000
    for i in range(n):
        message = messages[i * len(messages) // n]
        k = seq(message)
        new, old = copy.deepcopy(session), copy.deepcopy(session)
        new.update(lastSeq={"N": str(k)}, lastMessage=preview(message))
        old["lastSeq"] = {"N": str(k - 1)}
        if k - 1 in by_seq:
            old["lastMessage"] = preview(by_seq[k - 1])
        if message["sender"]["S"] == "user":
            new["lastUserSeq"] = {"N": str(k)}
        sequence += 2
        batches.append({"Records": [
            stream_record("INSERT", {"PK": message["PK"], "SK": message["SK"]}, message, None, sequence - 1),
            stream_record("MODIFY", session_keys, new, old, sequence),
        ]})
    return batches


def push_story(run, n, sessions, admin):
    """Tickets, connections, pings, the stream consumer's batches and the closes, for every
    customer in `sessions` (each holds one) and the agent (`admin`'s token)."""
    ticket = "/api/chat/realtime/ticket"
    issued = run.drive("realtime-ticket", [
        event("POST", ticket, ticket, {"sessionId": s}, token=t) for s, t in sessions[:n]])
    customer_tickets = [i["data"]["ticket"] for i in issued if isinstance(i, dict) and i.get("success")]
    # The dashboard takes a ticket each time it opens (reloads, other tabs).
    admin_ticket = "/api/admin/realtime/ticket"
    issued = run.drive("admin-realtime-ticket", [
        event("POST", admin_ticket, admin_ticket, admin=admin) for _ in range(n)])
    agent_tickets = [i["data"]["ticket"] for i in issued if isinstance(i, dict) and i.get("success")]
    tickets = customer_tickets + agent_tickets
    connections = [aws_id() for _ in tickets]
    # Each ticket opens one connection; a replayed ticket and one never issued are refused.
    run.drive("push-connect", [
        socket_event("$connect", c, query={"ticket": t}) for c, t in zip(connections, tickets)] + [
        Refused(socket_event("$connect", aws_id(), query={"ticket": tickets[0]}), 401, None),
        Refused(socket_event("$connect", aws_id(), query={"ticket": UNKNOWN_TICKET}), 401, None)])
    opened = [c for c, status in zip(connections, run.statuses) if status == 200]
    customers, agents = opened[:len(customer_tickets)], opened[len(customer_tickets):]
    # Each customer's connection pings once (the protocol asks for one every 5 minutes).
    run.drive("push-message", [socket_event("$default", c, body=PING) for c in customers])
    # The consumer gets the records of the first chat's sends. Every customer's connection and
    # the agent's newest are open; the agent's older ones closed without their $disconnect
    # having arrived (API Gateway sends it at best effort): posts to those are 410 and the
    # consumer forgets them.
    sid = sessions[0][0]
    table = boto3.client("dynamodb")
    key = {"PK": {"S": f"SESSION#{sid}"}, "SK": {"S": "SESSION"}}
    session = wire(table.get_item(TableName=os.environ["TABLE_NAME"], Key=key, ConsistentRead=True)["Item"])
    pages = table.get_paginator("query").paginate(
        TableName=os.environ["TABLE_NAME"], ConsistentRead=True,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :msg)",
        ExpressionAttributeValues={":pk": key["PK"], ":msg": {"S": "MSG#"}})
    messages = [wire(item) for page in pages for item in page["Items"]]
    server, api = start_management_api(customers + agents[-1:])
    try:
        # LIST_HINT_MS=0: every batch wins the list hint's turn (and posts it to every agent's
        # connection), as batches further apart than its 2 s interval do; a batch that loses
        # the turn would sleep until the next, which costs time, not memory.
        run.drive("push-fanout", send_records(session, messages, n),
                  env={"PUSH_CALLBACK_URL": f"http://127.0.0.1:{server.server_port}/v1", "LIST_HINT_MS": "0"})
    finally:
        server.shutdown()
        server.server_close()
    print("push-fanout: management API answers " + ", ".join(
        f"{count} x {status}" for status, count in sorted(api.answered.items())), file=sys.stderr)
    # Every connection closes (the customers leave, the agent signs out): a $disconnect each.
    run.drive("push-disconnect", [socket_event("$disconnect", c) for c in opened])


def main():
    run = Run(sys.argv[1])
    n = INVOCATIONS
    user = {"userId": "user-42", "name": "Ada Lovelace", "email": "ada@example.com", "isGuest": False}
    created = run.drive("create-session", [
        event("POST", "/api/chat/session", "/api/chat/session", {"userInfo": user}, ip=f"203.0.113.{i % 200}")
        for i in range(n)])
    # (A request answered 503 by a slow local server has no data: the story goes on without it.)
    sessions = [(c["data"]["sessionId"], c["data"]["clientToken"]) for c in created if c.get("success")]
    (sid, token), (other_sid, _) = sessions[0], sessions[1]
    # Each customer signals typing as they compose their first line (one write each).
    run.drive("client-typing", [
        event("POST", "/api/chat/typing", "/api/chat/typing", {"sessionId": s}, token=t) for s, t in sessions])
    email, password = os.environ["BENCH_ADMIN_EMAIL"], os.environ["BENCH_ADMIN_PASSWORD"]
    login = "/api/admin/auth/login"
    # One unknown email first (verifies against the dummy hash), then real sign-ins.
    signed_in = run.drive("admin-login", [
        Refused(event("POST", login, login, {"email": "nobody@example.com", "password": "wrong password 1"}),
                401, "AUTH_FAILED")] + [
        event("POST", login, login, {"email": email, "password": password}) for _ in range(min(n, 20) - 1)])
    signed = [s for s in signed_in if s.get("success")]
    admin = signed[-1]["data"]["token"]
    admin_id = signed[-1]["data"]["admin"]["adminId"]
    # The agent fills the team's canned replies to the cap (100); one more is refused.
    canned = "/api/admin/canned-responses"
    cap = 100
    made = run.drive("admin-create-canned-response", [
        event("POST", canned, canned, {"shortcut": f"reply-{i}", "text": f"Canned reply {i}: " + "thanks! " * 40},
              admin=admin) for i in range(cap)] + [
        Refused(event("POST", canned, canned, {"shortcut": "one-too-many", "text": "Over the cap"}, admin=admin),
                409, "TOO_MANY_CANNED_RESPONSES")])
    canned_ids = [m["data"]["id"] for m in made[:cap] if m.get("success")]
    # The dashboard lists them whenever an agent opens a chat: each answer holds all 100.
    run.drive("admin-canned-responses", [event("GET", canned, canned, admin=admin) for _ in range(n)])
    send = "/api/chat/message"
    run.drive("send-message", [
        event("POST", send, send,
              {"sessionId": sid, "message": f"Customer line {i}: my order has not arrived yet.",
               "messageId": f"msg_1700000000{i:03d}_bench"}, token=token)
        for i in range(n)])
    run.drive("admin-active-sessions", [
        event("GET", "/api/admin/chat/active-sessions", "/api/admin/chat/active-sessions", admin=admin)
        for _ in range(n)])
    run.drive("admin-claim-session", [
        event("POST", "/api/admin/chat/claim", "/api/admin/chat/claim", {"sessionId": s}, admin=admin)
        for s, _ in sessions[:n]])
    # The agent signals typing in each claimed chat before replying.
    run.drive("admin-typing", [
        event("POST", "/api/admin/chat/typing", "/api/admin/chat/typing", {"sessionId": s}, admin=admin)
        for s, _ in sessions[:n]])
    run.drive("admin-send-message", [
        event("POST", "/api/admin/chat/message", "/api/admin/chat/message",
              {"sessionId": sid, "message": f"Support reply {i}: let me check that for you.", "sender": "admin"},
              admin=admin)
        for i in range(n)])
    messages = "/api/admin/chat/messages/{sessionId}"
    run.drive("admin-session-messages", [
        event("GET", messages, f"/api/admin/chat/messages/{sid}", admin=admin, path_params={"sessionId": sid})
        for _ in range(n)])
    push_story(run, n, sessions, admin)
    # Every canned reply is reworded; every tenth gets a new shortcut (the guard item moves), and
    # the last tries a shortcut another reply holds.
    one_canned = "/api/admin/canned-responses/{id}"

    def rewording(i, reply_id):
        shortcut = f"reply-{i}-v2" if i % 10 == 0 else f"reply-{i}"
        put = event("PUT", one_canned, f"{canned}/{reply_id}", {"shortcut": shortcut, "text": f"Reworded {i}."},
                    admin=admin, path_params={"id": reply_id})
        return put

    last = len(canned_ids) - 1
    run.drive("admin-update-canned-response", [rewording(i, reply_id) for i, reply_id in enumerate(canned_ids[:last])] + [
        Refused(event("PUT", one_canned, f"{canned}/{canned_ids[last]}", {"shortcut": "reply-1", "text": "Taken."},
                      admin=admin, path_params={"id": canned_ids[last]}), 409, "SHORTCUT_TAKEN")])
    poll = "/api/chat/poll/{sessionId}"
    run.drive("poll-messages", [
        event("GET", poll, f"/api/chat/poll/{sid}", token=token, path_params={"sessionId": sid})
        for _ in range(n)])
    run.drive("admin-transfer-session", [
        event("POST", "/api/admin/chat/transfer", "/api/admin/chat/transfer",
              {"sessionId": other_sid, "toAdminId": admin_id}, admin=admin) for _ in range(n)])
    run.drive("admin-release-session", [
        event("POST", "/api/admin/chat/release", "/api/admin/chat/release", {"sessionId": s}, admin=admin)
        for s, _ in sessions[2:n]])
    run.drive("admin-agents", [event("GET", "/api/admin/agents", "/api/admin/agents", admin=admin) for _ in range(n)])
    run.drive("admin-activity", [event("GET", "/api/admin/activity", "/api/admin/activity", admin=admin)
                                 for _ in range(n)])
    run.drive("health", [event("GET", "/api/health", "/api/health") for _ in range(n)])
    run.drive("admin-dashboard", [event("GET", "/admin", "/admin") for _ in range(n)])
    run.drive("leave-session", [
        event("POST", "/api/chat/session/end", "/api/chat/session/end", {"sessionId": s}, token=t)
        for s, t in sessions[2:n]])
    run.drive("submit-rating", [
        event("POST", "/api/chat/rating", "/api/chat/rating", {"sessionId": s, "rating": 5}, token=t)
        for s, t in sessions[2:n]])
    run.drive("admin-end-session", [
        event("POST", "/api/admin/chat/session/end", "/api/admin/chat/session/end", {"sessionId": s}, admin=admin)
        for s, _ in sessions[:2]])
    # The agent reads the summary of the last 7 days (the default) and of the longest range, a
    # year of 366 days, alternately.
    summary = "/api/admin/analytics/summary"
    today = datetime.datetime.now(datetime.timezone.utc).date()
    year = {"from": (today - datetime.timedelta(days=365)).isoformat(), "to": today.isoformat()}
    run.drive("admin-analytics-summary", [
        event("GET", summary, summary, admin=admin, query=year if i % 2 else None) for i in range(n)])
    run.drive("admin-delete-canned-response", [
        event("DELETE", one_canned, f"{canned}/{reply_id}", admin=admin, path_params={"id": reply_id})
        for reply_id in canned_ids])
    run.drive("idle-sweep", [{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
                             for _ in range(n)])
    run.print()
    if run.unexpected:
        sys.exit(f"{len(run.unexpected)} answers were not the expected ones (listed above)")


if __name__ == "__main__":
    main()
