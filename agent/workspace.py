"""The user's tree, snapshotted in memory; the run's changes, diffed and applied back atomically.

Nothing in the user's tree is written before the end, and then only the files the run changed, each only if it
still holds what the snapshot saw.
"""
from __future__ import annotations

import base64
import difflib
import json
import os
import shutil
import signal
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator, Mapping

from sandbox.owner import Owner, owned_tempdir, remove_dead_tempdirs

from .errors import ApplyConflict, ConfigError

STATE_DIR = ".makegreen"
TEMP_PREFIXES = ("makegreen-ws-", "makegreen-staged-")  # older versions' copies of the tree; the hook's export
MAX_FILE_BYTES = 5 * 1024 * 1024
_WALK_SKIP = {".git", STATE_DIR, ".venv", "venv", "__pycache__", ".tox", ".nox", "node_modules", ".mypy_cache",
              ".pytest_cache", ".ruff_cache", "build", "dist"}


def gitpython():
    """gitpython, or None where git itself is not installed (gitpython fails to import then)."""
    try:
        import git
    except ImportError:
        return None
    return git


def find_root(start: Path) -> Path:
    """The git work tree holding start, or start itself outside git."""
    git = gitpython()
    if git is None:
        return start
    try:
        return Path(git.Repo(start, search_parent_directories=True).working_tree_dir)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return start


def list_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files (git), or every file outside the usual junk (no git)."""
    git = gitpython()
    repo = None
    if git is not None:
        try:
            repo = git.Repo(root)
        except git.InvalidGitRepositoryError:
            pass
    if repo is None:
        found = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in _WALK_SKIP and not d.endswith(".egg-info")]
            found += [os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/") for name in files]
        return sorted(found)
    try:
        # safe.directory: a root makegreen (sudo) in a user's repository is the user's own doing, not an attack
        listed = repo.git(c=f"safe.directory={root}").ls_files(
            "--cached", "--others", "--exclude-standard", "-z").split("\0")
    except git.GitCommandError as exc:
        raise ConfigError(f"git cannot list the files of {root}: {exc.stderr.strip()}") from exc
    return sorted({path for path in listed if path and not path.startswith(STATE_DIR + "/")})


class Workspace:
    """The user's tree as the run found it, and the run's changes to it, in memory. It is the one writer: the
    model's edits come to it as contents (agent/edits.py reads and never writes), it tells the sandbox what changed
    since it last looked, and it alone writes into the user's tree, at the end, all or nothing."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.original: dict[str, bytes] = {}
        self.links: dict[str, str] = {}  # symbolic links in the tree: path → where it points, as written
        for prefix in TEMP_PREFIXES:  # folders left by runs that were killed (SIGKILL, a power cut)
            remove_dead_tempdirs(prefix)
        for path in list_files(self.root):
            source = self.root / path
            if source.is_symlink():
                self.links[path] = os.readlink(source)
            elif source.is_file() and source.stat().st_size <= MAX_FILE_BYTES:
                self.original[path] = source.read_bytes()
        self._changes: dict[str, bytes | None] = {}
        self._synced: dict[str, bytes | None] = {}  # the changes the sandbox holds

    def fork(self) -> "Workspace":
        """Another workspace on the same snapshot (for a candidate), with no changes."""
        twin = object.__new__(Workspace)
        twin.root, twin.original, twin.links = self.root, self.original, self.links
        twin._changes, twin._synced = {}, {}
        return twin

    def files(self) -> dict[str, bytes]:
        """The files as the run found them."""
        return dict(self.original)

    def current(self) -> dict[str, bytes]:
        """The files as they are now: the snapshot with the run's changes (a removed file left out)."""
        now = dict(self.original)
        for path, content in self._changes.items():
            if content is None:
                now.pop(path, None)
            else:
                now[path] = content
        return now

    def read(self, path: str) -> bytes | None:
        """A file's content now (links followed), or None where there is none."""
        real = self.resolve(path)
        if real is None:
            return None
        return self._changes[real] if real in self._changes else self.original.get(real)

    def resolve(self, path: str) -> str | None:
        """The path that path leads to through the tree's symbolic links, relative to the root; None where it leads
        out of the project (or round in circles)."""
        done: list[str] = []
        todo, hops = list(PurePosixPath(path).parts), 0
        while todo:
            part = todo.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not done:
                    return None
                done.pop()
                continue
            here = "/".join([*done, part])
            target = self.links.get(here)
            if target is None and os.path.islink(self.root / here):  # a link the snapshot did not list (no git)
                target = os.readlink(self.root / here)
            if target is None:
                done.append(part)
                continue
            hops += 1
            if hops > 40:
                return None
            if target.startswith("/"):
                inside = os.path.relpath(os.path.realpath(target), self.root)
                if inside == ".." or inside.startswith("../"):
                    return None
                done, target = [], inside
            todo = list(PurePosixPath(target).parts) + todo
        return "/".join(done)

    def is_folder(self, path: str) -> bool:
        """Whether path is a folder: of the tree as it is now (some file lies under it), or an empty one in the
        user's tree."""
        prefix = path.rstrip("/") + "/"
        return (self.root / path).is_dir() or any(
            name.startswith(prefix) for name in (*self.original, *self._changes)
            if self._changes.get(name, self.original.get(name)) is not None)

    def write(self, contents: Mapping[str, bytes | None]) -> None:
        """Take these contents (None: the file removed) as the files' new state."""
        for path, content in contents.items():
            if content == self.original.get(path):
                self._changes.pop(path, None)
            else:
                self._changes[path] = content

    def changes(self) -> dict[str, bytes | None]:
        """Every file whose content now differs from the snapshot (None: removed)."""
        return dict(sorted(self._changes.items()))

    def unsynced(self) -> dict[str, bytes | None]:
        """Changes since the last call: what the sandbox has not seen yet (a file back as the snapshot had it comes
        with its original content)."""
        delta = {path: self.read(path) for path in sorted(self._changes.keys() | self._synced.keys())
                 if self._changes.get(path, self.original.get(path)) != self._synced.get(path, self.original.get(path))}
        self._synced = dict(self._changes)
        return delta

    def diff(self) -> str:
        return "".join(unified(path, self.original.get(path), new) for path, new in self.changes().items())

    def restore(self, changes: Mapping[str, bytes | None]) -> None:
        """Put the workspace back to the snapshot plus these changes (a result kept from earlier in the run)."""
        self._changes = {}
        self.write(changes)

    def diff_stat(self, paths: list[str]) -> str:
        """+added −removed lines in paths against the snapshot."""
        added = removed = 0
        for path in paths:
            new = self._changes.get(path, self.original.get(path))
            for line in difflib.unified_diff(_lines(self.original.get(path)), _lines(new), n=0):
                if line.startswith("+") and not line.startswith("+++"):
                    added += 1
                elif line.startswith("-") and not line.startswith("---"):
                    removed += 1
        return f"+{added} −{removed} lines since the start"

    def apply(self, patch_path: Path, on_written: Callable[[], None] | None = None) -> list[str]:
        """Write the changes into the user's tree, all or none; on a conflict, save the patch and raise."""
        return write_all(self.root, self.original, self.changes(), patch_path=patch_path, diff=self.diff(),
                         on_written=on_written)


def write_all(root: Path, original: Mapping[str, bytes], changes: Mapping[str, bytes | None], *, patch_path: Path,
              diff: str, why: str = "changed while makegreen ran", on_written: Callable[[], None] | None = None,
              before_write: Callable[[], None] | None = None) -> list[str]:
    """Write changes into root, all or none, under the repository's apply lock (every makegreen run, hook and
    Action on this tree takes it): a file that no longer holds what original says, or a folder that refuses a
    write, stops it before any file is replaced; the patch is saved instead and the error says where. The new
    contents are staged under .makegreen/ and a journal names them before the first rename, so a run killed in the
    middle is finished by the next one (recover). on_written runs once every file is in place; an interrupt
    during the write waits for it and is raised after. before_write: the tests' way into the gap before the
    final check."""
    state = state_dir(root)
    with apply_lock(state):
        _recover(root)
        _check_unchanged(root, original, changes, patch_path=patch_path, diff=diff, why=why)
        with interrupts_deferred():
            staging = owned_tempdir(".staging-", state)
            kept = False  # the staging outlives the call only when a journal still needs it
            try:
                staged = _stage_all(root, changes, staging, patch_path, diff)
                if before_write is not None:
                    before_write()
                try:  # checked again with everything staged: what changed since the first check is not overwritten
                    _check_unchanged(root, original, changes, patch_path=patch_path, diff=diff, why=why)
                except ApplyConflict:
                    for _path, temp in staged:  # (those staged beside their targets: another filesystem)
                        if temp:
                            Path(temp).unlink(missing_ok=True)
                    raise
                journal = state / f"apply-{staging.name}.json"
                save_text(journal, json.dumps({"files": [{"path": path, "temp": temp} for path, temp in staged]}))
                try:
                    _finish(root, staged)
                except OSError as exc:  # checked while staging, so rare (a disk gone): the journal stays
                    kept = True
                    raise ConfigError(f"writing into {root} failed midway ({exc}); the rest is kept in "
                                      f"{journal.parent}: `makegreen recover` (or the next run) finishes it") from exc
                journal.unlink()
            finally:
                if not kept:
                    shutil.rmtree(staging, ignore_errors=True)
            if on_written is not None:
                on_written()
    return list(changes)


def _check_unchanged(root: Path, original: Mapping[str, bytes], changes: Mapping[str, bytes | None], *,
                     patch_path: Path, diff: str, why: str) -> None:
    # a folder where a file was (or is to be) counts as changed: its path is not the file's any more
    conflicts = [path for path in changes if (root / path).is_dir() or _read(root / path) != original.get(path)]
    if conflicts:
        save_text(patch_path, diff)
        raise ApplyConflict(
            f"{', '.join(conflicts)} {why}; nothing was written. "
            f"The change is saved in {patch_path}: apply it with `git apply {patch_path}`",
            conflicts, str(patch_path),
        )


def _stage_all(root: Path, changes: Mapping[str, bytes | None], staging: Path, patch_path: Path,
               diff: str) -> list[tuple[str, str | None]]:
    """Every new content written in full first, in staging (or beside its target where staging is on another
    filesystem, so that the rename stays atomic); (path, temp), temp None for a file to remove."""
    staged: list[tuple[str, str | None]] = []
    try:
        for path, content in changes.items():
            staged.append((path, None if content is None else _stage(root / path, content, staging)))
    except OSError as exc:
        for _path, temp in staged:
            if temp:
                Path(temp).unlink(missing_ok=True)
        save_text(patch_path, diff)
        raise ConfigError(f"cannot write into {root} ({exc}); nothing was applied. The change is "
                          f"saved in {patch_path}") from exc
    return staged


def _finish(root: Path, staged: list[tuple[str, str | None]]) -> None:
    """The renames (and removals) themselves: each atomic; a temp already gone was moved in by an earlier try."""
    for path, temp in staged:
        if temp is None:
            (root / path).unlink(missing_ok=True)
        elif os.path.exists(temp):
            os.replace(temp, root / path)


def recover(root: Path) -> list[str]:
    """Finish the writes that a killed run left half done (its journal is there and its process is gone): every
    file it had staged goes in, as it would have. Returns the paths written; the staging of runs killed before
    their journal was written is removed (nothing of theirs had reached the tree)."""
    if not (root / STATE_DIR).is_dir():
        return []
    with apply_lock(root / STATE_DIR):
        return _recover(root)


def _recover(root: Path) -> list[str]:
    folder = root / STATE_DIR
    written: list[str] = []
    for journal in sorted(folder.glob("apply-.staging-*.json")):
        staging = folder / journal.name[len("apply-"):-len(".json")]
        owner = Owner.from_tag(staging.name[len(".staging-"):].rsplit("-", 1)[0])
        if owner is None or owner.alive() is not False:
            continue
        try:
            staged = [(item["path"], item["temp"]) for item in json.loads(journal.read_text())["files"]]
        except (ValueError, KeyError, TypeError):  # a journal cut short was never acted on: nothing was renamed
            staged = []
        _finish(root, staged)
        written += [path for path, _temp in staged]
        journal.unlink()
        shutil.rmtree(staging, ignore_errors=True)
    remove_dead_tempdirs(".staging-", str(folder))
    return written


@contextmanager
def apply_lock(state: Path) -> Iterator[None]:
    """One writer at a time per repository (an advisory lock: other makegreen processes wait on it)."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock, the double check still holds
        yield
        return
    with open(state / "apply.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


UNDO = "undo.json"  # in a run's record: what its apply replaced, and what it wrote


def save_undo(run_dir: Path, original: Mapping[str, bytes], changes: Mapping[str, bytes | None]) -> None:
    """Keep, before the apply, each file's content before and after it, for `makegreen undo`."""
    def text(content: bytes | None) -> str | None:
        return None if content is None else base64.b64encode(content).decode()

    save_text(run_dir / UNDO, json.dumps({path: {"before": text(original.get(path)), "after": text(new)}
                                          for path, new in changes.items()}))


def undo(root: Path, run_dir: Path) -> list[str]:
    """Put back what a run's apply replaced, all or none: refused (ApplyConflict) for any file that changed since
    the apply, and ConfigError when the run applied nothing."""
    path = run_dir / UNDO
    if not path.is_file():
        raise ConfigError(f"run {run_dir.name} wrote nothing into your files: there is nothing to undo")
    data = json.loads(path.read_text(encoding="utf-8"))

    def content(value: str | None) -> bytes | None:
        return None if value is None else base64.b64decode(value)

    after = {name: content(item["after"]) for name, item in data.items()}
    before = {name: content(item["before"]) for name, item in data.items()}
    diff = "".join(unified(name, after[name], before[name]) for name in sorted(data))
    return write_all(root, {k: v for k, v in after.items() if v is not None}, before,
                     patch_path=run_dir / "undo.patch", diff=diff, why="changed since the run applied its fix")


def unified(path: str, old: bytes | None, new: bytes | None) -> str:
    """One file's change as a unified diff (None: the file does not exist on that side)."""
    return "".join(difflib.unified_diff(_lines(old), _lines(new),
                                        fromfile=f"a/{path}" if old is not None else "/dev/null",
                                        tofile=f"b/{path}" if new is not None else "/dev/null"))


def _lines(content: bytes | None) -> list[str]:
    if content is None:
        return []
    lines = content.decode("utf-8", "replace").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _stage(target: Path, content: bytes, staging: Path) -> str:
    """Write content into staging (or beside target, when staging is on another filesystem and a rename from it
    would not be atomic), with the mode and owner that the file has, or for a new file that its folder gives: the
    user's, whoever runs makegreen (sudo included)."""
    _make_parents(target.parent)
    # what would make the rename fail is found now, before any file is replaced
    if not target.parent.is_dir():
        raise NotADirectoryError(f"{target.parent} is not a folder")
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise PermissionError(f"{target.parent} may not be written")
    where = staging if os.stat(staging).st_dev == os.stat(target.parent).st_dev else target.parent
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".makegreen", dir=where)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    if target.exists():
        info = target.stat()
        os.chmod(temp, stat.S_IMODE(info.st_mode))
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        info = target.parent.stat()
    _own(temp, info)
    return temp


def _make_parents(folder: Path) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    owner = folder.stat()
    for new in reversed(missing):
        new.mkdir()
        _own(str(new), owner)


def _own(path: str, like: os.stat_result) -> None:
    # Only root can give a file away, and only a root makegreen would otherwise leave root's files in a user's tree.
    if hasattr(os, "geteuid") and os.geteuid() == 0 and (like.st_uid, like.st_gid) != (0, 0):
        os.chown(path, like.st_uid, like.st_gid)


def save_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while the block runs (a write of milliseconds; the clean-up at the end of a run),
    and are raised as KeyboardInterrupt when it is done: never lost, never in the middle."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []

    def note(signum, frame) -> None:
        arrived.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if arrived:
        raise KeyboardInterrupt


def state_dir(root: Path) -> Path:
    """makegreen's own folder in the user's repo, kept out of git by its own .gitignore."""
    folder = root / STATE_DIR
    try:
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# makegreen's run records; not part of the project\n*\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {folder}: {exc}") from exc
    return folder

