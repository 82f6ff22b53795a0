"""Sums schemathesis passes into one line: `schemathesis: N passed, M failed` (test cases).

Usage: fuzz_summary.py EXIT_STATUS OUTPUT... -- JUNIT... (infra/fuzz.sh runs it). Exits 1 when
anything failed, when a pass exited non-zero, or when a report is missing.
"""

import re
import sys
import xml.etree.ElementTree as ET

status, rest = int(sys.argv[1]), sys.argv[2:]
outputs, junits = rest[: rest.index("--")], rest[rest.index("--") + 1 :]
passed = failed = 0
for path in outputs:
    text = open(path, encoding="utf-8").read()
    match = re.search(r"Test cases:\s*(\d+) generated,\s*(\d+) passed", text)
    passed += int(match.group(2)) if match else 0
    failures = re.search(r"(\d+) found (\d+) unique failures", text)
    failed += int(failures.group(2)) if failures else 0
for path in junits:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        failed = max(failed, 1)
        continue
    broken = sum(
        1
        for case in root.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    )
    failed = max(failed, broken)
if status != 0:
    failed = max(failed, 1)
print(f"schemathesis: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
