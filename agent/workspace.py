"""The user's tree, snapshotted into a temporary directory; the run's changes, diffed and applied back atomically.

Nothing in the user's tree is written before the end, and then only the files the run changed, each only if it
still holds what the snapshot saw.
"""
from __future__ import annotations

import difflib
import os
import shutil
import signal
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

from .errors import ApplyConflict, ConfigError

STATE_DIR = ".makegreen"
MAX_FILE_BYTES = 5 * 1024 * 1024
_WALK_SKIP = {".git", STATE_DIR, ".venv", "venv", "__pycache__", ".tox", ".nox", "node_modules", ".mypy_cache",
              ".pytest_cache", ".ruff_cache", "build", "dist"}


def _git():
    """gitpython, or None where git itself is not installed (gitpython fails to import then)."""
    try:
        import git
    except ImportError:
        return None
    return git


def find_root(start: Path) -> Path:
    """The git work tree holding start, or start itself outside git."""
    git = _git()
    if git is None:
        return start
    try:
        return Path(git.Repo(start, search_parent_directories=True).working_tree_dir)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return start


def list_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files (git), or every file outside the usual junk (no git)."""
    git = _git()
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
    """A private copy of the user's tree that edits are applied to."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.original: dict[str, bytes] = {}
        self.dir = Path(tempfile.mkdtemp(prefix="makegreen-ws-"))
        self._synced: dict[str, bytes | None] = {}
        for path in list_files(self.root):
            source = self.root / path
            if source.is_symlink():
                # kept as a link so that a path through it resolves as it would in the user's tree
                (self.dir / path).parent.mkdir(parents=True, exist_ok=True)
                os.symlink(os.readlink(source), self.dir / path)
                continue
            if not source.is_file() or source.stat().st_size > MAX_FILE_BYTES:
                continue
            content = source.read_bytes()
            self.original[path] = content
            (self.dir / path).parent.mkdir(parents=True, exist_ok=True)
            (self.dir / path).write_bytes(content)
        self._synced = dict(self.original)

    def fork(self) -> "Workspace":
        """Another private copy of the same snapshot (for a candidate), at the snapshot."""
        twin = object.__new__(Workspace)
        twin.root, twin.original = self.root, self.original
        twin.dir = Path(tempfile.mkdtemp(prefix="makegreen-ws-"))
        shutil.copytree(self.dir, twin.dir, symlinks=True, dirs_exist_ok=True)
        twin._synced = dict(self.original)  # its sandbox starts from the snapshot
        twin.restore({})
        return twin

    def files(self) -> dict[str, bytes]:
        return dict(self.original)

    def read(self, path: str) -> bytes | None:
        target = self.dir / path
        return target.read_bytes() if target.is_file() and not target.is_symlink() else None

    def _current(self) -> dict[str, bytes]:
        current = {}
        for folder, _dirs, names in os.walk(self.dir):
            for name in names:
                full = Path(folder, name)
                if not full.is_symlink():
                    current[full.relative_to(self.dir).as_posix()] = full.read_bytes()
        return current

    def changes(self) -> dict[str, bytes | None]:
        """Every file whose content now differs from the snapshot (None: removed)."""
        current = self._current()
        return {p: current.get(p) for p in sorted(current.keys() | self.original.keys())
                if current.get(p) != self.original.get(p)}

    def unsynced(self) -> dict[str, bytes | None]:
        """Changes since the last call: what the sandbox has not seen yet."""
        current = self._current()
        delta = {p: current.get(p) for p in sorted(current.keys() | self._synced.keys())
                 if current.get(p) != self._synced.get(p)}
        self._synced = current
        return delta

    def diff(self) -> str:
        return "".join(unified(path, self.original.get(path), new) for path, new in self.changes().items())

    def restore(self, changes: dict[str, bytes | None]) -> None:
        """Put the copy back to the snapshot plus these changes (a result kept from earlier in the run)."""
        for path, content in {**{p: None for p in self.changes()}, **changes}.items():
            target = self.dir / path
            if content is None and path not in self.original:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.original[path] if content is None else content)

    def diff_stat(self, paths: list[str]) -> str:
        """+added −removed lines in paths against the snapshot."""
        added = removed = 0
        current = self.changes()
        for path in paths:
            new = current.get(path, self.original.get(path))
            for line in difflib.unified_diff(_lines(self.original.get(path)), _lines(new), n=0):
                if line.startswith("+") and not line.startswith("+++"):
                    added += 1
                elif line.startswith("-") and not line.startswith("---"):
                    removed += 1
        return f"+{added} −{removed} lines since the start"

    def apply(self, patch_path: Path) -> list[str]:
        """Write the changes into the user's tree, all or none; on a conflict, save the patch and raise."""
        return write_all(self.root, self.original, self.changes(), patch_path, self.diff())

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def write_all(root: Path, original: Mapping[str, bytes], changes: Mapping[str, bytes | None], patch_path: Path,
              diff: str, why: str = "changed while makegreen ran") -> list[str]:
    """Write changes into root, all or none: a file that no longer holds what original says, or a folder that
    refuses a write, stops it before any file is replaced; the patch is saved instead and the error says where."""
    conflicts = [path for path in changes if _read(root / path) != original.get(path)]
    if conflicts:
        save_text(patch_path, diff)
        raise ApplyConflict(
            f"{', '.join(conflicts)} {why}; nothing was written. "
            f"The change is saved in {patch_path}: apply it with `git apply {patch_path}`",
            conflicts, str(patch_path),
        )
    with _interrupts_held():
        staged = []
        try:
            # every file is written beside its target first: a folder that refuses a write stops it all here,
            # before any file of the user's is replaced
            for path, content in changes.items():
                if content is not None:
                    staged.append((path, _stage(root / path, content)))
        except OSError as exc:
            for _path, temp in staged:
                Path(temp).unlink(missing_ok=True)
            save_text(patch_path, diff)
            raise ConfigError(f"cannot write into {root} ({exc}); nothing was applied. The change is "
                              f"saved in {patch_path}") from exc
        for path, temp in staged:
            os.replace(temp, root / path)
        for path, content in changes.items():
            if content is None:
                (root / path).unlink(missing_ok=True)
    return list(changes)


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


def _stage(target: Path, content: bytes) -> str:
    """Write content beside target (same filesystem, so the rename is atomic), with the mode and owner that the
    file has, or for a new file that its folder gives: the user's, whoever runs makegreen (sudo included)."""
    _make_parents(target.parent)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".makegreen", dir=target.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
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
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while the files are written: the write takes milliseconds, and a half-written
    change is the one outcome that must never happen. The run is over by then, so nothing is left to stop."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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

