"""makegreen's own folder in the user's repository, and the one way a file of its own is written there (whole or
not at all)."""
from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import ConfigError

STATE_DIR = ".makegreen"


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


def save_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)
