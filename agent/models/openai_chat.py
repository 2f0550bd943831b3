"""Chat completions through the openai client, streamed, with thinking kept apart from the answer.

Servers put a reasoning model's thinking in different places: `reasoning_content` (SGLang, llama.cpp, older
vLLM), `reasoning` (vLLM, Ollama's /v1), or `<think>…</think>` inside the content (raw R1-style templates, whose
opening tag is often pre-filled by the template and so missing). Thinking is never parsed for edits.
"""
from __future__ import annotations

import re
import time
from typing import Callable, Mapping, Sequence

from ..errors import BackendError
from ..protocols import Completion, Progress

_OPENAI_REASONING = re.compile(r"^(o\d|gpt-5)", re.IGNORECASE)
_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
PROGRESS_EVERY = 0.1  # seconds between progress callbacks


def split_thinking(content: str) -> tuple[str, str]:
    """(thinking, answer) from content that may hold <think>…</think>, its opening tag possibly missing."""
    if _THINK_CLOSE in content:
        thinking, answer = content.rsplit(_THINK_CLOSE, 1)
        return thinking.replace(_THINK_OPEN, "").strip(), answer.lstrip()
    stripped = content.lstrip()
    if stripped.startswith(_THINK_OPEN):  # cut off while still thinking: there is no answer
        return stripped[len(_THINK_OPEN):].strip(), ""
    return "", content


class OpenAIChatModel:
    def __init__(self, client, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self.name = name
        self._clock = clock
        self._reasoning = bool(_OPENAI_REASONING.match(name))

    def _messages(self, messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
        # OpenAI's reasoning models take instructions in the developer role; everything else knows system.
        role = "developer" if self._reasoning else "system"
        return [{**m, "role": role} if m["role"] == "system" else dict(m) for m in messages]

    def complete(self, messages: Sequence[Mapping[str, str]], on_progress: Callable[[Progress], None]) -> Completion:
        import openai

        started = self._clock()
        content, thinking = [], []
        usage: dict[str, int] = {}
        finish_reason = None
        last_report = 0.0
        try:
            stream = self._client.chat.completions.create(
                model=self.name, messages=self._messages(messages), stream=True,
                stream_options={"include_usage": True},
            )
            on_progress(Progress("waiting", 0, 0, 0.0))
            for chunk in stream:
                if chunk.usage:
                    usage = _usage(chunk.usage)
                for choice in chunk.choices:
                    delta = choice.delta
                    reasoning = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)
                    if isinstance(reasoning, str) and reasoning:
                        thinking.append(reasoning)
                    if delta.content:
                        content.append(delta.content)
                    finish_reason = choice.finish_reason or finish_reason
                now = self._clock()
                if now - last_report >= PROGRESS_EVERY:
                    last_report = now
                    on_progress(_progress(thinking, content, now - started))
        except openai.AuthenticationError as exc:
            raise BackendError(f"the backend refused the API key ({_detail(exc)}): set OPENAI_API_KEY or "
                               "--api-key to a valid key") from exc
        except openai.PermissionDeniedError as exc:
            raise BackendError(f"the API key may not use model {self.name} ({_detail(exc)})") from exc
        except openai.NotFoundError as exc:
            raise BackendError(f"model {self.name} is not served at {self._client.base_url} ({_detail(exc)})"
                               f"{self._available()}") from exc
        except openai.APITimeoutError as exc:
            raise BackendError(f"the backend at {self._client.base_url} did not answer in time, retries "
                               "included") from exc
        except openai.APIConnectionError as exc:
            raise BackendError(f"cannot reach the backend at {self._client.base_url}: {exc}. Is the server "
                               "running, and is OPENAI_BASE_URL / --base-url right?") from exc
        except openai.APIStatusError as exc:
            raise BackendError(f"the backend answered HTTP {exc.status_code} ({_detail(exc)}), retries "
                               "included") from exc
        text = "".join(content)
        tagged_thinking, answer = split_thinking(text)
        on_progress(_progress(thinking, content, self._clock() - started))
        return Completion(
            text=answer, thinking="".join(thinking) + tagged_thinking, finish_reason=finish_reason, usage=usage,
            seconds=self._clock() - started,
        )

    def _available(self) -> str:
        try:
            names = sorted(model.id for model in self._client.models.list())
        except Exception:  # listing is a courtesy: the error above is the one to report
            return ""
        return f"; models offered there: {', '.join(names)}" if names else ""


def _progress(thinking: list[str], content: list[str], seconds: float) -> Progress:
    text = "".join(content)
    in_tags = text.lstrip().startswith(_THINK_OPEN) and _THINK_CLOSE not in text
    thinking_chars = sum(map(len, thinking)) + (len(text) if in_tags else 0)
    answer_chars = 0 if in_tags else len(split_thinking(text)[1])
    phase = "writing" if answer_chars else "thinking" if thinking_chars else "waiting"
    return Progress(phase, thinking_chars, answer_chars, seconds)


def _usage(usage) -> dict[str, int]:
    found = {"prompt_tokens": usage.prompt_tokens or 0, "completion_tokens": usage.completion_tokens or 0}
    details = getattr(usage, "completion_tokens_details", None)
    if details is not None and getattr(details, "reasoning_tokens", None):
        found["reasoning_tokens"] = details.reasoning_tokens
    cached = getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", None)
    if cached:
        found["cached_tokens"] = cached
    return found


def _detail(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)
    return str(getattr(exc, "message", exc))
