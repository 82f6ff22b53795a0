"""asyncapi_check.py passes frames that follow docs/asyncapi.yaml and fails every way a frame or
the coverage can be wrong (a check that cannot fail is worthless):
`.venv-tools/bin/python infra/checks/test_asyncapi_check.py`."""

import contextlib
import io
import json
import tempfile
import unittest
from pathlib import Path

import asyncapi_check

AT = "2026-12-08T10:00:00.000Z"
SESSION = "chat_1733650000000_abc123"
ADMIN = "adm_AAAAAAAAAAAAAAAAAAAAAA"
ROW = {
    "sessionId": SESSION,
    "userInfo": {"name": "Dana", "isGuest": False},
    "startTime": AT,
    "status": "active",
    "lastMessage": {"messageId": "msg_000000000002", "message": "hello", "sender": "user", "timestamp": AT},
    "messageCount": 2,
    "waitingSince": AT,
    "assignedTo": None,
}
# One frame of every type the server sends, as the functions would send them.
GOOD = [
    {"type": "message.created", "id": "1100000000017454423009", "sessionId": SESSION, "at": AT,
     "data": {"messageId": "msg_000000000003", "message": "How can I help?", "sender": "admin", "timestamp": AT}},
    {"type": "message.created", "id": "1100000000017454423010", "sessionId": SESSION, "at": AT,
     "data": {"messageId": "msg_000000000004", "message": "Hi", "sender": "admin", "timestamp": AT, "adminId": ADMIN}},
    {"type": "session.waiting", "id": "1100000000017454423005.1", "sessionId": SESSION, "at": AT,
     "data": {"status": "active", "waitingSince": AT, "endReason": None}},
    {"type": "session.ended", "id": "1100000000017454423020.1", "sessionId": SESSION, "at": AT,
     "data": {"status": "ended_by_admin", "waitingSince": None, "endReason": "admin"}},
    {"type": "session.assigned", "id": "1100000000017454423007.2", "sessionId": SESSION, "at": AT,
     "data": {"assignedTo": {"adminId": ADMIN, "name": "Ana"}, "via": "claim"}},
    {"type": "session.assigned", "id": "1100000000017454423008", "sessionId": SESSION, "at": AT,
     "data": {"assignedTo": None, "via": "release"}},
    {"type": "typing", "id": "1100000000017454423011", "sessionId": SESSION, "at": AT, "data": {"side": "admin", "at": AT}},
    {"type": "read", "id": "1100000000017454423012", "sessionId": SESSION, "at": AT,
     "data": {"side": "admin", "upTo": "msg_000000000002"}},
    {"type": "lists.changed", "id": "1100000000017454423013", "at": AT,
     "data": {"lists": ["all", "waiting"], "sessions": [ROW], "truncated": False}},
    {"type": "closing", "id": "1100000000017454423020.2", "sessionId": SESSION, "at": AT, "data": {"reason": "session-ended"}},
    {"type": "pong", "at": AT, "data": {"t": 1733650000000}},
    {"type": "error", "at": AT, "data": {"code": "UNKNOWN_ACTION", "message": "Only ping is accepted"}},
    {"type": "viewing", "at": AT, "data": {"sessionId": SESSION}},
]


def run(frames, *, raw_lines=()):
    """The check's exit status and output over a frames file holding `frames` (and raw lines)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "frames.jsonl"
        path.write_text("".join(json.dumps(f) + "\n" for f in frames) + "".join(line + "\n" for line in raw_lines))
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            status = asyncapi_check.main([str(path)])
    return status, output.getvalue()


def failures(output):
    return [line for line in output.splitlines() if line.startswith("FAIL")]


class AsyncApiCheckTest(unittest.TestCase):
    def test_a_frame_of_every_type_passes(self):
        status, output = run(GOOD)
        self.assertEqual((status, failures(output)), (0, []), output)
        self.assertIn("asyncapi checks:", output.splitlines()[-1])

    def test_a_directory_of_recordings_is_read_whole(self):
        with tempfile.TemporaryDirectory() as directory:
            half = len(GOOD) // 2
            for name, part in (("a.jsonl", GOOD[:half]), ("b.jsonl", GOOD[half:])):
                (Path(directory) / name).write_text("".join(json.dumps(f) + "\n" for f in part))
            with contextlib.redirect_stdout(io.StringIO()) as output:
                status = asyncapi_check.main([directory])
        self.assertEqual(status, 0, output.getvalue())

    def test_bad_frames_fail_with_where_and_why(self):
        bad = [dict(f) for f in GOOD]
        bad[0] = {**bad[0], "extra": 1}
        bad[4] = {**bad[4], "id": "12a"}
        bad[6] = {**bad[6], "data": {"side": "bot", "at": AT}}
        bad[8] = {**bad[8], "data": {**bad[8]["data"], "sessions": [ROW] * 21}}
        bad[10] = {"type": "pong", "at": AT, "data": {}}
        status, output = run(bad)
        found = "\n".join(failures(output))
        self.assertEqual(status, 1)
        self.assertIn("`message.created` frame(s) match", found)
        self.assertIn("frames.jsonl:1: (frame): Additional properties are not allowed ('extra' was unexpected)", found)
        self.assertIn("frames.jsonl:5: id:", found)
        self.assertIn("frames.jsonl:7: data/side: 'bot' is not one of ['user', 'admin']", found)
        self.assertIn("frames.jsonl:9: data/sessions:", found)
        self.assertIn("frames.jsonl:11: data: 't' is a required property", found)
        self.assertEqual(len(failures(output)), 5, output)

    def test_a_type_the_document_does_not_have_fails(self):
        status, output = run(GOOD + [{"type": "message.deleted", "id": "1", "at": AT, "data": {}}], raw_lines=["not json"])
        self.assertEqual(status, 1)
        self.assertEqual(
            failures(output),
            ["FAIL every frame's type is a message of the document: frames.jsonl:14: type 'message.deleted'; "
             "frames.jsonl:15: not JSON (Expecting value)"],
        )

    def test_a_message_never_seen_is_a_coverage_gap(self):
        status, output = run([f for f in GOOD if f["type"] not in ("read", "lists.changed", "error")])
        self.assertEqual(status, 1)
        self.assertEqual(
            failures(output),
            ["FAIL every message the server sends was seen in the tests: never seen: error, lists.changed, read"],
        )

    def test_the_client_ping_is_not_a_server_message(self):
        status, output = run(GOOD + [{"action": "ping", "t": 1}])
        self.assertEqual(status, 1)
        self.assertIn("type None", "\n".join(failures(output)))

    def test_no_recording_fails(self):
        with contextlib.redirect_stdout(io.StringIO()) as output:
            status = asyncapi_check.main(["/nonexistent/frames.jsonl"])
        self.assertEqual(status, 1)
        self.assertIn("FAIL recorded frames exist", output.getvalue())
        status, output = run([])
        self.assertEqual(status, 1)
        self.assertIn("FAIL frames were recorded", output)


if __name__ == "__main__":
    unittest.main()
