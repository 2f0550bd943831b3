"""Exit codes, and the one place that maps failures to them."""
from __future__ import annotations

from sandbox import ImageBuildError, SandboxError

from ..core.errors import BackendError, ConfigError, MakegreenError, RemoteError, TestSuiteError
from ..run.status import Status

EXIT_GREEN = 0
EXIT_NOT_SOLVED = 1
EXIT_USAGE = 2  # bad flags, settings or paths; tests that cannot run
EXIT_ENVIRONMENT = 3  # Docker, the image, the model backend, GitHub
EXIT_CONTRADICTION = 4  # the tests contradict each other (or the message): shown, not gamed
EXIT_CONFLICT = 5  # solved, but the user's files changed meanwhile: the patch was saved, nothing applied
EXIT_NOT_COMMITTED = 6  # solved and applied, but --commit could not commit it (a hook refused; the user's work)
EXIT_INTERRUPTED = 130

STATUS_EXIT = {Status.GREEN: EXIT_GREEN, Status.ALREADY_GREEN: EXIT_GREEN, Status.NOT_SOLVED: EXIT_NOT_SOLVED,
               Status.OUT_OF_BUDGET: EXIT_NOT_SOLVED, Status.CONTRADICTION: EXIT_CONTRADICTION,
               Status.CONFLICT: EXIT_CONFLICT, Status.NOT_COMMITTED: EXIT_NOT_COMMITTED}


_told: list[int] = []  # an interrupt's message was printed (agent/launch.py prints one where none was)
_written: list[str] = []  # the files a command wrote into the user's tree, for an interrupt after it returned


def interrupt_told() -> bool:
    return bool(_told)


def note_written(files: list[str]) -> None:
    """A command wrote these files into the user's tree: an interrupt from now on must say so."""
    _written[:] = files


def written_files() -> list[str]:
    return list(_written)


def after_write(files: list[str]) -> str:
    return "interrupted after the fix was written: it is in your files (" + ", ".join(files) + ")"


def interrupted_line() -> str:
    """What an interrupt that no command reported says: what is in the user's files."""
    return after_write(_written) if _written else "interrupted; nothing was changed"


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, KeyboardInterrupt):
        _told.append(1)  # every caller prints the interrupt's message (or puts it in the JSON summary)
        return EXIT_INTERRUPTED
    if isinstance(error, (ConfigError, TestSuiteError)):
        return EXIT_USAGE
    if isinstance(error, (BackendError, SandboxError, ImageBuildError, RemoteError)):
        return EXIT_ENVIRONMENT
    if isinstance(error, MakegreenError):
        return EXIT_USAGE
    raise error


def describe(error: BaseException) -> tuple[str, str]:
    """(message, detail) for a known failure."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted; your files are as they were", ""
    if isinstance(error, ImageBuildError):
        return str(error), "\n".join(error.log.splitlines()[-40:])
    if isinstance(error, TestSuiteError):
        return str(error), error.detail
    return str(error), ""


def run_guarded(body) -> int:
    """Run a command's body; a known failure becomes its message on stderr and its exit code."""
    import sys

    try:
        return body()
    except Exception as error:  # noqa: BLE001 - exit_code_for re-raises what it does not know
        code = exit_code_for(error)
        text, detail = describe(error)
        print(f"makegreen: error: {text}", file=sys.stderr)
        if detail:
            print(detail, file=sys.stderr)
        return code
    except KeyboardInterrupt as error:
        print(f"makegreen: {describe(error)[0]}", file=sys.stderr)
        return exit_code_for(error)
