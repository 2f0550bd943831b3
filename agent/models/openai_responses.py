"""OpenAI's Responses API, streamed: for models that exist only there (the -pro and codex models), and for the
others on request (--api responses). It shows the reasoning summary while the model thinks, and carries each
answer's reasoning items (encrypted, nothing stored server-side) into the next request, so the model keeps its
chain of thought across iterations."""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from .dialects import ANSWER_ALLOWANCE, effort_for
from .openai_chat import OpenAIChatModel, StreamDropped, StreamState

RESPONSES_ONLY = re.compile(r"(-pro\b|-pro-|codex)", re.IGNORECASE)


def responses_only(model: str) -> bool:
    return bool(RESPONSES_ONLY.search(model))


class OpenAIResponsesModel(OpenAIChatModel):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reasoning_items: dict[str, list[dict[str, Any]]] = {}  # answer text → the reasoning that led to it

    def _params(self, settings, output_cap: int | None, wrap_up: bool) -> dict:
        effort = "low" if wrap_up else settings.effort or (
            effort_for(settings.think_budget) if settings.think_budget else None)
        params: dict[str, Any] = {"reasoning": {"summary": "auto", **({"effort": effort} if effort else {})}}
        limit = settings.max_output_tokens or (settings.think_budget + ANSWER_ALLOWANCE if settings.think_budget
                                               else None)
        if output_cap is not None:
            limit = min(limit, output_cap) if limit else output_cap
        if limit:
            params["max_output_tokens"] = limit
        return params

    def _input(self, messages: Sequence[Mapping[str, str]]) -> tuple[str, list[dict[str, Any]]]:
        instructions = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        items: list[dict[str, Any]] = []
        for message in messages:
            if message["role"] == "system":
                continue
            if message["role"] == "assistant":
                items += self._reasoning_items.get(message["content"], [])
            items.append({"role": message["role"], "content": message["content"]})
        return instructions, items

    def _stream(self, messages, params: dict, on_progress, started: float, until=None) -> StreamState:
        stream = StreamState()
        instructions, items = self._input(messages)
        response = self._client.responses.create(
            model=self.name, instructions=instructions, input=items, stream=True, store=False,
            include=["reasoning.encrypted_content"], **params,
        )
        final = []

        def take(event) -> None:
            kind = getattr(event, "type", "")
            if kind == "response.reasoning_summary_text.delta":
                stream.add(event.delta, None)
            elif kind == "response.output_text.delta":
                stream.add(None, event.delta)
            elif kind in ("response.completed", "response.incomplete"):
                final.append(event.response)
                incomplete = getattr(event.response, "incomplete_details", None)
                stream.finish_reason = "length" if kind == "response.incomplete" and incomplete is not None \
                    and getattr(incomplete, "reason", "") == "max_output_tokens" else "stop"
            elif kind in ("error", "response.failed"):
                raise StreamDropped()

        self._read(response, take, stream=stream, on_progress=on_progress, started=started, until=until)
        if not final and not stream.over_budget and not stream.stopped:
            raise StreamDropped()
        if final:
            stream.usage = _usage(final[0].usage)
            carried = [_plain(item) for item in final[0].output or [] if getattr(item, "type", "") == "reasoning"]
            if carried:
                self._reasoning_items["".join(stream.content)] = carried
        on_progress(stream.progress(self._clock() - started))
        return stream


def _plain(item) -> dict[str, Any]:
    """A reasoning output item as input for the next request."""
    data = item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else dict(item)
    return {key: data[key] for key in ("type", "id", "summary", "encrypted_content") if key in data}


def _usage(usage) -> dict[str, int]:
    if usage is None:
        return {}
    found = {"prompt_tokens": usage.input_tokens or 0, "completion_tokens": usage.output_tokens or 0}
    reasoning = getattr(getattr(usage, "output_tokens_details", None), "reasoning_tokens", None)
    if reasoning:
        found["reasoning_tokens"] = reasoning
    cached = getattr(getattr(usage, "input_tokens_details", None), "cached_tokens", None)
    if cached:
        found["cached_tokens"] = cached
    return found
