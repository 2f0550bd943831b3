"""The `makegreen` command's entry: signals are set first, before the slow import of the CLI (typer, rich, the
commands: a few tenths of a second), so that an interrupt there ends with exit 130 and one line, never a traceback.
SIGTERM (a cancelled CI job, a killed hook) is treated as Ctrl-C everywhere."""
from __future__ import annotations

import signal
import sys

INTERRUPTED = 130


def _interrupt(signum, frame):
    """Ctrl-C and SIGTERM as KeyboardInterrupt, but never inside a finaliser (`__del__`): an exception cannot leave
    one — Python prints it as "Exception ignored" and the run goes on as if nothing came. There, the signal is
    sent again a moment later, once the finaliser is done."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            import os
            import threading

            threading.Timer(0.02, os.kill, (os.getpid(), signum)).start()
            return
        frame = frame.f_back
    raise KeyboardInterrupt


def _hook_run(argv: list[str]) -> str | None:
    """The mode of a plain `hook run [--check|--fix] [--untrusted]`, which runs on every commit: it goes straight to
    its body, without the CLI's imports (typer, rich and every command: a third of a second); None otherwise."""
    flags = argv[2:]
    if argv[:2] != ["hook", "run"] or len(set(flags)) != len(flags) or not set(flags) <= QUICK_FLAGS \
            or {"--check", "--fix"} <= set(flags):
        return None
    return "fix" if "--fix" in flags else "check"


QUICK_FLAGS = {"--check", "--fix", "--untrusted"}


def main() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    mode = _hook_run(sys.argv[1:])
    try:
        if mode is not None:
            from agent.cli.boundary import run_guarded
            from agent.hook import run
        else:
            from agent.cli.app import app
    except KeyboardInterrupt:
        print("makegreen: interrupted before it started; nothing was changed", file=sys.stderr)
        sys.exit(INTERRUPTED)
    if mode is not None:
        sys.exit(run_guarded(lambda: run(mode, "--untrusted" in sys.argv, lambda line: print(line, flush=True))))
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
