"""Making a prompt smaller when it is over its budget or overflows the model's context window, on the prompt's
structure (context/conversation.py), before it is rendered."""
from __future__ import annotations

from ..models.budget import estimate_tokens
from .conversation import Prompt

# in order: the repository map, then source files from the least relevant, then each block of failure output cut
# to its head and tail, then only the first few failures
STAGES = ("map", "sources", "lines", "failures")


def shrink(prompt: Prompt) -> Prompt | None:
    """A smaller version of prompt, or None when nothing more can go.

    In order: the parts of every message, stage by stage (STAGES); then the summaries of earlier attempts. The
    system prompt, the tests and the failures' headings always stay."""
    size = _size(prompt)
    for stage in STAGES:
        # a cut that changes nothing the model reads (a map that was empty, failures already short) is taken
        # and passed over, so that what comes back is always smaller
        while (smaller := prompt.smaller(stage)) is not None:
            prompt = smaller
            if _size(prompt) < size:
                return prompt
    return prompt.without_history()


def _size(prompt: Prompt) -> int:
    return sum(len(message["content"]) for message in prompt.messages())


def fit(prompt: Prompt, tokens: int) -> Prompt:
    """prompt shrunk until its estimate is within tokens, or as small as it gets."""
    while estimate_tokens(prompt.messages()) > tokens and (smaller := shrink(prompt)) is not None:
        prompt = smaller
    return prompt
