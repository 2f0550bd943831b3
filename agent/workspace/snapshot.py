"""The user's tree, snapshotted in memory, and the run's changes to it: the one writer of the run.

Nothing in the user's tree is written before the end, and then only the files the run changed, each only if it
still holds what the snapshot saw (apply.py).
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path, PurePosixPath
from typing import Callable, Mapping

from sandbox.owner import remove_dead_tempdirs

from ..core.errors import ConfigError
from .apply import write_all
from .state import STATE_DIR

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
    model's edits come to it as contents (agent/workspace/edits.py reads and never writes), it tells the sandbox
    what changed since it last looked, and it alone writes into the user's tree, at the end, all or nothing."""

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
