"""The prompt as data: each message is a template and its values until it is sent. Values that may shrink (the
failures, the source files, the repository map) are parts that know a smaller version of themselves; shrink.py
takes them down in order, and nothing ever searches the rendered text."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Mapping, Protocol, runtime_checkable

from ..core.prompting import render, source


@runtime_checkable
class Part(Protocol):
    """A value that renders itself late, and can say what it would be smaller (None: it cannot be, at stage)."""

    def render(self) -> str: ...

    def smaller(self, stage: str) -> "Part | None": ...


@dataclass(frozen=True)
class Message:
    role: str
    template: str | None  # prompts/<template>; None for a text given whole
    values: Mapping[str, Any]

    @cached_property
    def text(self) -> str:
        if self.template is None:
            return self.values["text"]
        return render(self.template, **{name: value.render() if isinstance(value, Part) else value
                                        for name, value in self.values.items()})

    def smaller(self, stage: str) -> "Message | None":
        changed = {name: cut for name, value in self.values.items()
                   if isinstance(value, Part) and (cut := value.smaller(stage)) is not None}
        return replace(self, values={**self.values, **changed}) if changed else None


@dataclass(frozen=True)
class Prompt:
    """The system prompt and one user message: the task (tests, code as it is now: prompts/task.md) and its state
    (what was tried, the tests' results now, what became of the last answer, the ask: prompts/state.md). The
    model's earlier answers are never sent back as a conversation: shown its last answer, a small model writes it
    again word for word (measured: the same wrong file four times in a row, even after it was undone), and each
    answer would make every later prompt longer. The code shown is where the answers led."""

    system: Message
    task: Message
    state: Message

    @property
    def draft(self) -> bool:
        """Whether this is a second first draft (prompts/draft.md), not a step of the line's debugging."""
        return self.task.template == "draft.md"

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system.text},
                {"role": "user", "content": self.task.text.rstrip("\n") + "\n\n" + self.state.text}]

    @property
    def told(self) -> str:
        """What this request says that the task does not: the state (for `show`); a second draft's whole message,
        as all of it is said anew."""
        return self.messages()[-1]["content"] if self.draft else self.state.text

    def templates(self) -> tuple[str, ...]:
        """Which templates made each message (the user's own file where prompts-dir has one)."""
        return _made(self.system), f"{_made(self.task)} + {_made(self.state)}"

    def smaller(self, stage: str) -> "Prompt | None":
        """Every message's parts at their smaller version for stage; None where none has one."""
        cut = [message.smaller(stage) for message in (self.system, self.task, self.state)]
        if all(message is None for message in cut):
            return None
        return Prompt(*(smaller or message for smaller, message in zip(cut, (self.system, self.task, self.state))))

    def without_history(self) -> "Prompt | None":
        """This prompt without the summaries of earlier attempts (the last thing to go); None where it has none."""
        if not self.state.values.get("attempts"):
            return None
        return replace(self, state=replace(self.state, values={**self.state.values, "attempts": []}))


def _made(message: Message) -> str:
    return source(message.template) if message.template is not None else "(no template)"
