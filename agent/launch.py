"""The `makegreen` command's entry: signals are set first, before the slow import of the CLI (typer, rich, the
commands: a few tenths of a second), so that an interrupt there ends with exit 130 and one line, never a traceback.
SIGTERM (a cancelled CI job, a killed hook) is treated as Ctrl-C everywhere."""
from __future__ import annotations

import signal
import sys

INTERRUPTED = 130


def _ignoring(code) -> bool:
    """A function that an exception cannot leave (Python prints it as "Exception ignored" and goes on): a finaliser,
    or the weak-reference callback by which the import system drops a module's lock."""
    return code.co_name == "__del__" or (code.co_name == "cb" and code.co_filename.startswith("<frozen importlib"))


def _interrupt(signum, frame):
    """Ctrl-C and SIGTERM as KeyboardInterrupt, but never inside a function an exception cannot leave (a finaliser,
    a weak reference's callback): there the run would go on as if nothing came. There, the signal is sent again a
    moment later, once that function is done."""
    while frame is not None:
        if _ignoring(frame.f_code):
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
        from agent.cli.boundary import interrupt_told, interrupted_line, run_guarded

        if mode is not None:
            from agent.integrations.hook import run
        else:
            from agent.cli.app import app
    except KeyboardInterrupt:
        print("makegreen: interrupted before it started; nothing was changed", file=sys.stderr)
        sys.exit(INTERRUPTED)
    arrived: list[int] = []
    try:
        if mode is not None:
            code = run_guarded(lambda: run(mode, "--untrusted" in sys.argv, lambda line: print(line, flush=True)))
        else:
            app()
            code = 0
        _noted(arrived)
    except KeyboardInterrupt:  # while typer builds the commands, or after a command's own handling ended
        _noted(arrived)
        print(f"makegreen: {interrupted_line()}", file=sys.stderr)
        code = INTERRUPTED
    except SystemExit as done:
        _noted(arrived)
        # typer turns an interrupt outside a command's boundary (parsing, before a command's first line, or
        # after its last) into a silent 130
        if done.code == INTERRUPTED and not interrupt_told():
            print(f"makegreen: {interrupted_line()}", file=sys.stderr)
        code = done.code
    _last_word(code, arrived)


def _noted(arrived: list[int]) -> None:
    """From here to the end, an interrupt is noted, not raised: the command is over."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: arrived.append(signum))


def _last_word(code, arrived: list[int]) -> None:
    """The process's end with its handlers still in place: Python's own shutdown puts the default ones back
    first, so a Ctrl-C or SIGTERM there would end the process by the signal itself (status -2 or -15, no word,
    though the fix may be written). Here the end is done by hand — the threads that are not daemons joined, the
    exit functions run, the streams flushed — and an interrupt arriving meanwhile gets its line and 130."""
    import atexit
    import os
    import threading

    from agent.cli.boundary import interrupted_line

    if isinstance(code, str):  # sys.exit("message"), as Python prints it
        print(code, file=sys.stderr)
        code = 1
    code = 0 if code is None else code if isinstance(code, int) else 1
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    if arrived and code != INTERRUPTED:  # at 130 its line was said already
        print(f"makegreen: {interrupted_line()}", file=sys.stderr)
        code = INTERRUPTED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nobody is reading what is left
            pass
    os._exit(code)
