"""The `makegreen` command's entry: signals are set first, before the slow import of the CLI (typer, rich, the
commands: a few tenths of a second), so that an interrupt there ends with exit 130 and one line, never a traceback.
SIGTERM (a cancelled CI job, a killed hook) is treated as Ctrl-C everywhere."""
from __future__ import annotations

import signal
import sys

INTERRUPTED = 130


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from agent.cli import app
    except KeyboardInterrupt:
        print("makegreen: interrupted before it started; nothing was changed", file=sys.stderr)
        sys.exit(INTERRUPTED)
    try:
        app()
    except KeyboardInterrupt:  # while typer builds the commands, before its own handling starts
        print("makegreen: interrupted; nothing was changed", file=sys.stderr)
        sys.exit(INTERRUPTED)
    except SystemExit as done:
        from agent.cli.boundary import interrupt_told

        # typer turns an interrupt outside a command's boundary (parsing, before a command's first line) into a
        # silent 130: nothing had started
        if done.code == INTERRUPTED and not interrupt_told():
            print("makegreen: interrupted; nothing was changed", file=sys.stderr)
        raise
