"""Answers that continue the prompt instead of answering it.

A small model shown a prompt that reads like a document may go on writing the document: the prompt's own sections
again, the test file again (sometimes changed), made-up failures, with its code somewhere inside. Such text is
never applied as code: a block that is a copy of a file the prompt showed is refused, and the model is told what it
did.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from ..workspace.edits import Edit, Refusal, WholeFile

ECHOED_HEADINGS = 2  # of the prompt's own headings repeated in an answer: it is continuing the prompt


def _headings(text: str) -> set[str]:
    """A message's Markdown headings (outside its fenced blocks)."""
    found, fenced = set(), False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("#") and line.lstrip("#").startswith(" ") and len(line) > 3:
            found.add(line.strip())
    return found


def echoed_headings(answer: str, messages: Sequence[Mapping[str, str]]) -> list[str]:
    """The prompt's own headings that the answer writes again, where there are enough of them to say that it
    continued the prompt rather than answered it (else none)."""
    asked = set().union(*(_headings(m["content"]) for m in messages if m["role"] == "user"))
    again = sorted({line.strip() for line in answer.splitlines()} & asked)
    return again if len(again) >= ECHOED_HEADINGS else []


def copies(edits: list[Edit], shown: Mapping[str, bytes]) -> tuple[list[Edit], list[Refusal]]:
    """The edits less those that write a file the prompt showed (a test file) to another path: an echo, not code."""
    texts = {content.decode("utf-8", "replace").strip(): path for path, content in shown.items() if content.strip()}
    kept, refused = [], []
    for edit in edits:
        source = texts.get(edit.content.strip()) if isinstance(edit, WholeFile) else None
        if source is not None and source != edit.path:
            refused.append(Refusal(edit.path, f"it is a copy of {source} as the prompt showed it, not an "
                                              "implementation"))
        else:
            kept.append(edit)
    return kept, refused
