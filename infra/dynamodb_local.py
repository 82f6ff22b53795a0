"""A DynamoDB-compatible server for development and tests: moto's, one request at a time.

moto's stock `moto_server` is threaded, and its conditional writes and transactions are not
atomic across concurrent requests (measured: 240 committed transactions, 223 stored messages).
DynamoDB makes each one atomic; serving requests one at a time makes moto do the same, so the
concurrency tests test our code, not moto.

Usage: dynamodb_local.py [--host 127.0.0.1] [--port 0]
Prints `READY http://HOST:PORT` once it accepts connections (port 0 picks a free one).
With --exit-with-stdin it exits when its standard input closes, so a test run that starts it
never leaves it behind, however that run ends.
"""

import argparse
import logging
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-with-stdin", action="store_true")
    parser.add_argument("--log-requests", action="store_true")
    args = parser.parse_args()
    if not args.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app = DomainDispatcherApplication(create_backend_app)
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
