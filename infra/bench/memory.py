"""Peak memory of each function binary over a realistic run, to choose its Lambda MemorySize.

Each function's binary is started once against a local Lambda runtime API (cold_start.py's) and
handed INVOCATIONS requests of its own route, in the order a chat goes: a customer starts a
session, signals typing and writes; an agent signs in (argon2), fills the team's canned replies
and lists them, lists the waiting chats, claims, signals typing, replies, reads the transcript,
edits the canned replies; the customer polls the replies, leaves and rates; the agent reads the
analytics summary and deletes the canned replies. The peak resident memory (VmHWM, what Lambda
reports as "Max Memory Used") is read after the last answer.

Every answer is checked against what that request should get: a 2xx, or the named error
(status and envelope code) where the story provokes one. Answers that differ are listed on
stderr and the run exits non-zero after printing the table; except a 503 SERVICE_UNAVAILABLE,
the designed answer when DynamoDB does not answer within the functions' limits (2.5 s per
operation), which the local server does at times on a loaded machine: those are counted in
their own column and listed, and do not fail the run.

Usage: memory.py BIN_DIR (env: the DynamoDB endpoint and credentials, TABLE_NAME of a table made
from template.yaml, BENCH_ADMIN_EMAIL / BENCH_ADMIN_PASSWORD of an existing admin)
"""

import datetime
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


class Refused:
    """A request the story expects to be refused, with this status and envelope error code."""

    def __init__(self, event, status, code):
        self.event, self.status, self.code = event, status, code


def error_code(envelope):
    if isinstance(envelope, dict) and isinstance(envelope.get("error"), dict):
        return envelope["error"].get("code")
    return None


class Run:
    def __init__(self, bin_dir):
        self.bin_dir = bin_dir
        self.rows = []
        self.unexpected = []
        self.unavailable = []

    def drive(self, name, requests):
        """Runs `name` over `requests` (events, or `Refused` for an expected error); returns the
        parsed envelopes, records the row and every answer that is not the expected one."""
        events = [r.event if isinstance(r, Refused) else r for r in requests]
        answers, peak = start(os.path.join(self.bin_dir, name), events)
        envelopes, ok, expected, unavailable = [], 0, 0, 0
        for index, (request, (_, response)) in enumerate(zip(requests, answers)):
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
                matches = 200 <= status < 300
                wanted = "2xx"
            expected += matches
            if matches:
                continue
            answer = f"{name} request {index}: {status} {error_code(envelope)}, expected {wanted}"
            if (status, error_code(envelope)) == (503, "SERVICE_UNAVAILABLE"):
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
