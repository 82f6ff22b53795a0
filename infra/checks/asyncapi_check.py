"""The push frames the test suite saw, checked against docs/asyncapi.yaml.

The tests record every frame a client received, exactly as sent, one JSON object a line. Each
frame is validated against the payload schema of the message its `type` names. A frame whose
type the document does not have fails, and so does a message the server may send (the `send`
operations' messages and the replies of `receive` operations) that no recorded frame exercised:
a coverage gap, like the IAM check's function that was never seen calling DynamoDB.

Usage: asyncapi_check.py FRAMES [--asyncapi docs/asyncapi.yaml]
FRAMES is a JSON-lines file, or a directory whose *.jsonl files are read (one per test process).
Prints one line per check and, last, `asyncapi checks: N passed, M failed`; exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

sys.path.insert(0, str(Path(__file__).resolve().parent))
from template_checks import Report  # noqa: E402  (one report format for every check)

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_URI = "urn:support-chat:asyncapi"
# A frame's first few schema errors say enough; thousands would bury the report.
ERRORS_SHOWN = 5


def resolve(document: dict, node: dict) -> tuple[dict, str]:
    """The object a `$ref` chain ends at, and its JSON pointer (local references only)."""
    pointer = ""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        pointer = ref[1:]
        node = document
        for part in pointer.split("/")[1:]:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, pointer


def server_messages(document: dict) -> dict[str, str]:
    """Every message the server sends, by frame type: its payload's JSON pointer."""
    found: dict[str, str] = {}
    for operation in document.get("operations", {}).values():
        refs = list(operation.get("messages", [])) if operation.get("action") == "send" else []
        refs += operation.get("reply", {}).get("messages", [])
        for ref in refs:
            message, pointer = resolve(document, ref)
            frame_type = message["payload"]["properties"]["type"]["const"]
            found[frame_type] = f"{pointer}/payload"
    return found


def read_frames(path: Path) -> list[tuple[str, int, str]]:
    """(file, line number, text) for every non-blank line."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    return [
        (file.name, number, line)
        for file in files
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip()
    ]


def check(report: Report, document: dict, frames_path: Path) -> None:
    report.check(str(document.get("asyncapi", "")).startswith("3."), "the document is AsyncAPI 3", str(document.get("asyncapi")))
    try:
        messages = server_messages(document)
    except (KeyError, TypeError, ValueError) as error:
        report.check(False, "every message the server sends has a payload with a `type` const", repr(error))
        return
    report.check(bool(messages), "the document names the messages the server sends")
    registry = Registry().with_resource(DOCUMENT_URI, Resource(contents=document, specification=DRAFT7))
    validators = {}
    for frame_type, pointer in sorted(messages.items()):
        payload, _ = resolve(document, {"$ref": f"#{pointer}"})
        try:
            Draft7Validator.check_schema(payload)
        except Exception as error:  # jsonschema's SchemaError: the document itself is wrong
            report.check(False, f"`{frame_type}`'s payload is a JSON Schema", str(error).splitlines()[0])
            continue
        validators[frame_type] = Draft7Validator(
            {"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER
        )

    if not frames_path.exists():
        report.check(False, "recorded frames exist", str(frames_path))
        return
    frames = read_frames(frames_path)
    report.check(bool(frames), "frames were recorded", str(frames_path))

    seen: Counter[str] = Counter()
    unknown, invalid = [], {}
    for file, number, text in frames:
        where = f"{file}:{number}"
        try:
            frame = json.loads(text)
        except json.JSONDecodeError as error:
            unknown.append(f"{where}: not JSON ({error.msg})")
            continue
        frame_type = frame.get("type") if isinstance(frame, dict) else None
        if frame_type not in messages:
            unknown.append(f"{where}: type {frame_type!r}")
            continue
        seen[frame_type] += 1
        validator = validators.get(frame_type)
        if validator is None:
            continue
        errors = sorted(validator.iter_errors(frame), key=lambda e: list(e.absolute_path))
        if errors:
            shown = "; ".join(
                f"{'/'.join(map(str, e.absolute_path)) or '(frame)'}: {e.message}" for e in errors[:ERRORS_SHOWN]
            )
            invalid.setdefault(frame_type, []).append(f"{where}: {shown}")

    report.check(not unknown, "every frame's type is a message of the document", "; ".join(unknown[:20]))
    for frame_type in sorted(messages):
        if seen[frame_type]:
            problems = invalid.get(frame_type, [])
            report.check(
                not problems,
                f"{seen[frame_type]} `{frame_type}` frame(s) match the schema",
                f"{len(problems)} do not: " + " | ".join(problems[:10]),
            )
    never = sorted(t for t in messages if not seen[t])
    report.check(not never, "every message the server sends was seen in the tests", "never seen: " + ", ".join(never))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("frames", type=Path, help="JSON-lines file, or a directory of *.jsonl files")
    parser.add_argument("--asyncapi", type=Path, default=ROOT / "docs" / "asyncapi.yaml")
    args = parser.parse_args(argv)
    report = Report()
    document = yaml.safe_load(args.asyncapi.read_text(encoding="utf-8"))
    check(report, document, args.frames)
    print(f"asyncapi checks: {report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
