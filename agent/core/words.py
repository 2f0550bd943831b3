"""How counts are said, in one place: "1 error", "2 errors", "1 iteration"; the tests' counts in one phrase."""
from __future__ import annotations

from typing import Mapping

_SINGULAR = {"errors": "error"}  # pytest's other outcomes (passed, failed, skipped) read the same for one


def plural(number: int, word: str, many: str | None = None) -> str:
    return f"{number} {word if number == 1 else many or word + 's'}"


def count_tests(summary: Mapping[str, int] | None, empty: str = "no tests ran") -> str:
    """{"passed": 3, "errors": 1} → "3 passed, 1 error"."""
    return ", ".join(f"{value} {_SINGULAR.get(key, key) if value == 1 else key}"
                     for key, value in (summary or {}).items() if value) or empty


def named_failures(failing: tuple[str, ...], broken: tuple[str, ...] = (), hung: tuple[str, ...] = (),
                   limit: int = 3) -> str:
    """Which tests: "; hung: t::a" first (the one a timeout stopped), then what failed or would not load."""
    parts = []
    if hung:
        parts.append("hung: " + ", ".join(hung[:limit]))
    rest = [nodeid for nodeid in (*broken, *failing) if nodeid not in hung]
    if rest:
        shown = ", ".join(rest[:limit]) + (f" and {len(rest) - limit} more" if len(rest) > limit else "")
        parts.append(("not loading: " if not failing and broken else "") + shown)
    return ("; " + "; ".join(parts)) if parts else ""
