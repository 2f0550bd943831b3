"""The run's changes written into the user's tree: all or none, under the repository's apply lock, staged and
journalled so that a run killed half-way is finished by the next one (recover)."""
from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Mapping

from sandbox.owner import Owner, owned_tempdir, remove_dead_tempdirs

from ..core.errors import ApplyConflict, ConfigError
from ..core.interrupts import interrupts_deferred
from .state import STATE_DIR, save_text, state_dir

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
