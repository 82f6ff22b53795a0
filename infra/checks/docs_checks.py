#!/usr/bin/env python3
"""The documentation's own rules, checked so that they cannot drift silently.

Run from anywhere: `python3 infra/checks/docs_checks.py`. Python 3 standard library only.

Checks:
- README.md is under 200 lines and leads with `make dev` and `make test`;
- README.md links ARCHITECTURE.md and CONTRIBUTING.md, and every Markdown file under docs/ is
  reachable from README.md by following relative links;
- every relative link (and #anchor) in every tracked Markdown file resolves to a file in the
  repository (and to a heading of it);
- no tracked text file refers to a file outside the repository (the design notes and the
  sketch this product started from live elsewhere; the contract is docs/contract.md);
- every function crate under functions/ is named in README.md's endpoint table or in
  ARCHITECTURE.md.

Prints one line per failure with its reason, and as its last line
`docs checks: N passed, M failed`. Exits 1 when any check failed.
"""

import os
import re
import subprocess
import sys
from collections import deque

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SELF = os.path.relpath(os.path.abspath(__file__), ROOT)
README_MAX_LINES = 200

# A reference to something outside the repository. Spelled in pieces so that this file does
# not match itself.
OUTSIDE_PATTERNS = [
    ("a path into the parent folder's shared notes", re.compile(r"\.\./" + "shared")),
    ("the product design notes", re.compile(r"DESIGN" + r"\.md")),
    ("the original sketch's folder", re.compile(r"\bseed" + "/")),
    ("a section of the original sketch", re.compile(r"\bseed" + r" [0-9]", re.IGNORECASE)),
    ("an issue tracker entry", re.compile(r"\bthe " + r"issue's\b", re.IGNORECASE)),
    ("an issue tracker entry", re.compile(r"\bissues? " + r"[0-9]+\b", re.IGNORECASE)),
]

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")


def tracked_files():
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        files = [f for f in out.decode("utf-8").split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for dirpath, dirnames, filenames in os.walk(ROOT):
            dirnames[:] = [
                d
                for d in dirnames
                if d not in ("target", "node_modules", ".git") and not d.startswith(".venv")
            ]
            for name in filenames:
                files.append(os.path.relpath(os.path.join(dirpath, name), ROOT))
    # Files staged for deletion or not yet written are not there to read.
    return sorted(f for f in files if os.path.isfile(os.path.join(ROOT, f)))


def read_text(path):
    """The file's text, or None for a binary file."""
    with open(os.path.join(ROOT, path), "rb") as handle:
        data = handle.read()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def prose_lines(text):
    """Lines of Markdown outside fenced code blocks, inline code removed, with line numbers."""
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            yield number, INLINE_CODE.sub("", line)


def slug(heading):
    """The anchor GitHub gives a heading."""
    text = heading.strip().lower()
    text = re.sub(r"[`*_~]", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text, flags=re.UNICODE)
    return text.replace(" ", "-")


def anchors(text):
    found, seen = set(), {}
    in_fence = False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if in_fence or not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path, text):
    """(line, target file relative to the root or None for an external link, anchor, raw)."""
    for number, line in prose_lines(text):
        for match in LINK.finditer(line):
            raw = match.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", raw, re.IGNORECASE):
                continue  # http:, https:, mailto: ...
            target, _, anchor = raw.partition("#")
            if target:
                resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
            else:
                resolved = path
            yield number, resolved, anchor, raw


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def record(self, name, problems):
        if problems:
            self.failed += 1
            for problem in problems:
                print(f"FAIL {name}: {problem}")
        else:
            self.passed += 1


def main():
    files = tracked_files()
    tracked = set(files)
    markdown = [f for f in files if f.endswith(".md")]
    texts = {f: read_text(f) for f in markdown}
    checks = Checks()

    readme = texts.get("README.md")
    if readme is None:
        checks.record("README.md", ["README.md is missing"])
        readme = ""

    lines = readme.count("\n") + (0 if readme.endswith("\n") or not readme else 1)
    checks.record(
        "README length",
        [] if lines < README_MAX_LINES else [f"README.md has {lines} lines; keep it under {README_MAX_LINES}"],
    )

    checks.record(
        "README set-up commands",
        [f"README.md does not mention `{c}`" for c in ("make dev", "make test") if c not in readme],
    )

    readme_targets = {target for _, target, _, _ in links("README.md", readme)}
    checks.record(
        "README links",
        [f"README.md does not link {d}" for d in ("ARCHITECTURE.md", "CONTRIBUTING.md") if d not in readme_targets],
    )

    # Every document under docs/ reachable from the README by relative links.
    reachable, queue = {"README.md"}, deque(["README.md"])
    while queue:
        current = queue.popleft()
        for _, target, _, _ in links(current, texts.get(current) or ""):
            if target.endswith(".md") and target in tracked and target not in reachable:
                reachable.add(target)
                queue.append(target)
    checks.record(
        "docs reachable from README",
        [f"{d} is not reachable from README.md by links" for d in markdown if d.startswith("docs/") and d not in reachable],
    )

    broken = []
    for path in markdown:
        for number, target, anchor, raw in links(path, texts[path] or ""):
            if target.startswith(".."):
                broken.append(f"{path}:{number}: `{raw}` points outside the repository")
            elif target not in tracked:
                broken.append(f"{path}:{number}: `{raw}` does not resolve to a file in the repository")
            elif anchor and target.endswith(".md") and anchor not in anchors(texts.get(target) or read_text(target) or ""):
                broken.append(f"{path}:{number}: `{raw}`: no heading with anchor #{anchor} in {target}")
    checks.record("relative links", broken)

    outside = []
    for path in files:
        if path == SELF:
            continue
        text = read_text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for what, pattern in OUTSIDE_PATTERNS:
                match = pattern.search(line)
                if match:
                    outside.append(f"{path}:{number}: `{match.group(0)}` refers to {what} outside the repository; cite docs/contract.md or say it in place")
    checks.record("no references outside the repository", outside)

    architecture = texts.get("ARCHITECTURE.md") or ""
    table = []
    in_endpoints = False
    for line in readme.splitlines():
        if line.startswith("## "):
            in_endpoints = line.strip().lower() == "## endpoints"
        elif in_endpoints and line.startswith("|"):
            table.append(line)
    named = "\n".join(table) + "\n" + architecture
    crates = []
    functions_dir = os.path.join(ROOT, "functions")
    for entry in sorted(os.listdir(functions_dir)) if os.path.isdir(functions_dir) else []:
        manifest = os.path.join(functions_dir, entry, "Cargo.toml")
        if os.path.isfile(manifest):
            with open(manifest, encoding="utf-8") as handle:
                match = re.search(r'^name\s*=\s*"([^"]+)"', handle.read(), re.MULTILINE)
            crates.append(match.group(1) if match else entry)
    checks.record(
        "function crates documented",
        [f"functions/ crate `{c}` is named neither in README.md's endpoint table nor in ARCHITECTURE.md" for c in crates if f"`{c}`" not in named],
    )

    print(f"docs checks: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
