"""Medians of init-steps' timings over RUNS processes: what a function's init spends, by step.

Usage: init_steps.py BINARY [ARG...] (env as for cold_start.py: the DynamoDB endpoint, TABLE_NAME)
"""

import json
import os
import statistics
import subprocess
import sys

from cold_start import lambda_like_env

RUNS = int(os.environ.get("RUNS", "20"))


def main():
    runs = [json.loads(subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True,
                                      env=dict(lambda_like_env(), LOG_LEVEL="warn")).stdout.splitlines()[-1])
            for _ in range(RUNS)]
    print(f"| init step | median µs (of {RUNS}) | min µs | max µs |")
    print("|---|---:|---:|---:|")
    for step in runs[0]:
        values = [run[step] for run in runs]
        print(f"| {step} | {statistics.median(values):.0f} | {min(values)} | {max(values)} |")


if __name__ == "__main__":
    main()
