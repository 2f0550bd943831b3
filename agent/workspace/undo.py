"""`makegreen undo`: what a run's apply replaced, kept before the apply and put back on demand."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Mapping

from ..core.errors import ConfigError
from .apply import write_all
from .snapshot import unified
from .state import save_text

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
