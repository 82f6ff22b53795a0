"""Waits for the local API to answer, then signs in its seeded admin and prints the token.

Usage: fuzz_session.py BASE_URL EMAIL PASSWORD API_PID (infra/fuzz.sh runs it).
"""

import json
import os
import sys
import time
import urllib.request

base, email, password, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for _ in range(240):
    try:
        urllib.request.urlopen(f"{base}/api/health", timeout=2)
        break
    except OSError:
        os.kill(pid, 0)  # raises once the API has exited
        time.sleep(0.5)
body = json.dumps({"email": email, "password": password}).encode()
request = urllib.request.Request(
    f"{base}/api/admin/auth/login", body, {"content-type": "application/json"}
)
print(json.load(urllib.request.urlopen(request, timeout=10))["data"]["token"])
