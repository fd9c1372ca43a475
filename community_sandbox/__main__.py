"""``python -m community_sandbox --scenario DIR [--port N]``: serve until SIGTERM/SIGINT.

Prints one line, ``sandbox listening on http://127.0.0.1:PORT (scenario DIR)``, once it accepts
requests; scripts wait for that line (or ``--ready-file``) before starting the pipelines.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from community_sandbox.loading import ScenarioError
from community_sandbox.server import Sandbox

EXIT_BAD_INPUT = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m community_sandbox", description=__doc__)
    parser.add_argument("--scenario", required=True, type=Path, help="scenario folder")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="only 127.0.0.1 is allowed")
    parser.add_argument("--ready-file", type=Path, help="write the base URL here once listening")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        sandbox = Sandbox(args.scenario, host=args.host, port=args.port)
    except ScenarioError as exc:
        print(f"sandbox: bad scenario {args.scenario}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        sandbox.start()
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        if args.ready_file:
            args.ready_file.write_text(sandbox.base_url + "\n", encoding="utf-8")
        print(f"sandbox listening on {sandbox.base_url} (scenario {args.scenario})", flush=True)
        # A timed wait keeps the main thread responsive to signals.
        while not stopping.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
