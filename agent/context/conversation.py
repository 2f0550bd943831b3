"""The prompt as data: each message is a template and its values until it is sent. Values that may shrink (the
failures, the source files, the repository map) are parts that know a smaller version of themselves; shrink.py
takes them down in order, and nothing ever searches the rendered text."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from ..prompting import render, source
from .history import Attempt

ANSWER = "the model's answer"  # what `show` names for a message the model wrote


@runtime_checkable
class Part(Protocol):
    """A value that renders itself late, and can say what it would be smaller (None: it cannot be, at stage)."""

    def render(self) -> str: ...

    def smaller(self, stage: str) -> "Part | None": ...


@dataclass(frozen=True)
class Message:
    role: str
    template: str | None  # prompts/<template>; None for the model's own answer, kept as it wrote it
    values: Mapping[str, Any]

    @classmethod
    def answer(cls, text: str) -> "Message":
        return cls("assistant", None, {"text": text})

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
    """System, the task (with the attempts no longer shown whole summarised at its end), then the exchanges
    since: each the model's answer and the feedback on it."""

    system: Message
    task: Message
    earlier: tuple[Attempt, ...] = ()
    exchanges: tuple[tuple[Message, Message], ...] = ()

    def messages(self) -> list[dict[str, str]]:
        task = self.task.text
        if self.earlier:
            task += render("history.md", attempts=self.earlier).rstrip("\n")
        found = [{"role": "system", "content": self.system.text}, {"role": "user", "content": task}]
        for answer, feedback in self.exchanges:
            found += [{"role": "assistant", "content": answer.text}, {"role": "user", "content": feedback.text}]
        return found

    def templates(self) -> tuple[str, ...]:
        """Which template made each message (the user's own file where prompts-dir has one)."""
        task = _made(self.task) + (f" + {source('history.md')}" if self.earlier else "")
        return (_made(self.system), task, *(_made(message) for pair in self.exchanges for message in pair))

    def then(self, answer: str, feedback: Message) -> "Prompt":
        """This prompt with one more exchange."""
        return replace(self, exchanges=(*self.exchanges, (Message.answer(answer), feedback)))

    def latest(self, attempts: Sequence[Attempt]) -> "Prompt":
        """Only the latest exchange whole; the ones before it summarised (attempts: one per exchange so far)."""
        if len(self.exchanges) <= 1:
            return self
        return replace(self, earlier=tuple(attempts[:-1]), exchanges=self.exchanges[-1:])

    def restarted(self, attempts: Sequence[Attempt]) -> "Prompt":
        """This (first) prompt with every attempt summarised: a fresh start that knows what did not work."""
        return replace(self, earlier=tuple(attempts), exchanges=())

    def smaller(self, stage: str) -> "Prompt | None":
        """Every message's parts at their smaller version for stage; None where none has one."""
        system, task = self.system.smaller(stage), self.task.smaller(stage)
        exchanges = [(answer, feedback.smaller(stage)) for answer, feedback in self.exchanges]
        if system is None and task is None and all(cut is None for _, cut in exchanges):
            return None
        return replace(self, system=system or self.system, task=task or self.task,
                       exchanges=tuple((answer, cut or feedback) for (answer, cut), (_, feedback)
                                       in zip(exchanges, self.exchanges)))


def _made(message: Message) -> str:
    if message.template is not None:
        return source(message.template)
    return ANSWER if message.role == "assistant" else "(no template)"
