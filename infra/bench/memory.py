"""Peak memory of each function binary over a realistic run, to choose its Lambda MemorySize.

Each function's binary is started once against a local Lambda runtime API (cold_start.py's) and
handed INVOCATIONS requests of its own route, in the order a chat goes: a customer starts a
session and writes, an agent signs in (argon2), lists, reads, replies, claims; the customer polls
the replies, leaves and rates. The peak resident memory (VmHWM, what Lambda reports as "Max
Memory Used") is read after the last answer.

Usage: memory.py BIN_DIR (env: the DynamoDB endpoint and credentials, TABLE_NAME of a table made
from template.yaml, BENCH_ADMIN_EMAIL / BENCH_ADMIN_PASSWORD of an existing admin)
"""

import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from cold_start import EVENT, start  # noqa: E402

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


class Run:
    def __init__(self, bin_dir):
        self.bin_dir = bin_dir
        self.rows = []

    def drive(self, name, events):
        """Runs `name` over `events`; returns the parsed envelopes, records the row."""
        answers, peak = start(os.path.join(self.bin_dir, name), events)
        envelopes, ok = [], 0
        for _, response in answers:
            if not isinstance(response, dict) or "statusCode" not in response:  # the idle sweep
                ok += 1
                envelopes.append(response)
                continue
            ok += 200 <= response["statusCode"] < 300
            body = response.get("body") or "null"
            envelopes.append(json.loads(body) if body.startswith(("{", "[")) else body)
        warm = [b - a for (a, _), (b, _) in zip(answers, answers[1:])]
        self.rows.append((name, len(events), ok, peak, answers[0][0], statistics.median(warm) if warm else None))
        return envelopes

    def print(self):
        print(f"| function | invocations | 2xx | peak RSS (MiB) | first answer ms | warm ms (median) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, count, ok, peak, first, warm in self.rows:
            warm_text = f"{warm:.1f}" if warm is not None else "-"
            print(f"| {name} | {count} | {ok} | {peak / 1024:.1f} | {first:.1f} | {warm_text} |")


def main():
    run = Run(sys.argv[1])
    n = INVOCATIONS
    user = {"userId": "user-42", "name": "Ada Lovelace", "email": "ada@example.com", "isGuest": False}
    created = run.drive("create-session", [
        event("POST", "/api/chat/session", "/api/chat/session", {"userInfo": user}, ip=f"203.0.113.{i % 200}")
        for i in range(n)])
    sessions = [(c["data"]["sessionId"], c["data"]["clientToken"]) for c in created]
    (sid, token), (other_sid, _) = sessions[0], sessions[1]
    email, password = os.environ["BENCH_ADMIN_EMAIL"], os.environ["BENCH_ADMIN_PASSWORD"]
    login = "/api/admin/auth/login"
    # One unknown email first (verifies against the dummy hash), then real sign-ins.
    signed_in = run.drive("admin-login", [
        event("POST", login, login, {"email": "nobody@example.com", "password": "wrong password 1"})] + [
        event("POST", login, login, {"email": email, "password": password}) for _ in range(min(n, 20) - 1)])
    admin = signed_in[-1]["data"]["token"]
    admin_id = signed_in[-1]["data"]["admin"]["adminId"]
    run.drive("send-message", [
        event("POST", "/api/chat/message", "/api/chat/message",
              {"sessionId": sid, "message": f"Customer line {i}: my order has not arrived yet.",
               "messageId": f"msg_1700000000{i:03d}_bench"}, token=token)
        for i in range(n)])
    run.drive("admin-active-sessions", [
        event("GET", "/api/admin/chat/active-sessions", "/api/admin/chat/active-sessions", admin=admin)
        for _ in range(n)])
    run.drive("admin-claim-session", [
        event("POST", "/api/admin/chat/claim", "/api/admin/chat/claim", {"sessionId": s}, admin=admin)
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
    run.drive("idle-sweep", [{"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
                             for _ in range(n)])
    run.print()


if __name__ == "__main__":
    main()
