"""Making a prompt smaller when it overflows the model's context: the oldest history first, then failure detail."""
from __future__ import annotations

import re
from typing import Callable, Sequence

RESULTS_HEADING = "# Test results now"
KEEP_LINES = 12
KEEP_FAILURES = 3


def _results(text: str, change: Callable[[str], str]) -> str:
    """text with change applied to its test-results section (from the heading to the end)."""
    head, found, rest = text.partition(RESULTS_HEADING)
    return head + found + change(rest) if found else text


def _cut_blocks(section: str) -> str:
    """Each fenced block cut to its first and last few lines."""
    out: list[str] = []
    block: list[str] | None = None
    for line in section.split("\n"):
        if line.startswith("```"):
            if block is None:
                block = []
            else:
                if len(block) > 2 * KEEP_LINES + 1:  # a block already cut holds 2 × KEEP_LINES + 1 lines
                    block = block[:KEEP_LINES] + [f"[... {len(block) - 2 * KEEP_LINES} lines cut ...]"] + block[-KEEP_LINES:]
                out += block
                block = None
            out.append(line)
            continue
        (out if block is None else block).append(line)
    return "\n".join(out + (block or []))


def _first_failures(section: str) -> str:
    """Only the first few failures (each under its own `## ` heading), the rest counted."""
    parts = re.split(r"(?m)^(?=## )", section)
    if len(parts) <= KEEP_FAILURES + 1:
        return section
    return "".join(parts[: KEEP_FAILURES + 1]) + f"\n[... {len(parts) - 1 - KEEP_FAILURES} more failures cut ...]\n"


def shrink(messages: Sequence[dict[str, str]]) -> list[dict[str, str]] | None:
    """A smaller version of messages, or None when nothing more can go.

    In order: earlier attempts (assistant answer + feedback pairs), oldest first, down to the latest; the failure
    output cut to head and tail; only the first few failures; the latest attempt too. The system prompt and the
    task itself always stay."""
    messages = list(messages)
    if len(messages) > 4:
        return messages[:2] + messages[4:]
    for change in (_cut_blocks, _first_failures):
        cut = [{**m, "content": _results(m["content"], change)} if m["role"] == "user" else m for m in messages]
        if cut != messages:
            return cut
    if len(messages) > 2:
        return messages[:2]
    return None
