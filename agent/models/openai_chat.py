"""Chat completions through the openai client, streamed, with thinking kept apart from the answer.

Servers put a reasoning model's thinking in different places: `reasoning_content` (SGLang, llama.cpp, older
vLLM), `reasoning` (vLLM, Ollama's /v1), or `<think>…</think>` inside the content (raw R1-style templates, whose
opening tag is often pre-filled by the template and so missing). Thinking is never parsed for edits.

When thinking outruns its budget, or the output limit cuts it off before any answer, the model is asked once more
for the final answer outright (budget forcing): an answer still comes out, and the completion records it.
"""
from __future__ import annotations

import dataclasses
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from ..core.errors import BackendError, ContextOverflow
from ..core.prompting import render
from ..core.protocols import Completion, Progress
from .dialects import DIALECTS, Dialect, ModelSettings, request_params, sampling_seed

if TYPE_CHECKING:
    from .tokens import GgufTokens

_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
_FENCE_CHARS = frozenset("`~")
_LAST_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[ \t]*$", re.MULTILINE)
_OVERFLOW = re.compile(r"context[_ ]length|maximum context|context window|too many tokens|prompt is too long", re.I)
PROGRESS_EVERY = 0.1  # seconds between progress callbacks
STREAM_RETRIES = 2  # a stream that drops half-way is asked for again, whole, this many times
TAIL = 400
WRAP_UP_THINKING = 6_000  # characters of the cut-off thinking carried into the wrap-up request


def split_thinking(content: str) -> tuple[str, str]:
    """(thinking, answer) from content that may hold <think>…</think>, its opening tag possibly missing."""
    if _THINK_CLOSE in content:
        thinking, answer = content.rsplit(_THINK_CLOSE, 1)
        return thinking.replace(_THINK_OPEN, "").strip(), answer.lstrip()
    stripped = content.lstrip()
    if stripped.startswith(_THINK_OPEN):  # cut off while still thinking: there is no answer
        return stripped[len(_THINK_OPEN):].strip(), ""
    return "", content


class StreamDropped(Exception):
    """The stream ended without a finish reason: the connection went away half-way."""


def broken_stream(exc: Exception) -> bool:
    """Whether reading a stream failed because the stream broke off: the transport's errors (httpx or its
    successors, whichever this openai client uses), socket errors, or an error event from the server."""
    import openai

    transport = type(exc).__module__.split(".")[0]
    return isinstance(exc, (openai.APIError, OSError)) or transport.startswith(("httpx", "httpcore", "h11", "anyio"))


@dataclass
class StreamState:
    """One streamed answer as it accumulates, with running counts cheap enough to check at every chunk."""

    thinking: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None
    over_budget: bool = False
    stopped: bool = False  # reading stopped once the answer was complete (until)
    thinking_chars: int = 0
    content_chars: int = 0
    tags: str = ""  # "open" while content is inside a leading <think>, "closed" after it
    _recent: str = ""

    def add(self, reasoning: str | None, content: str | None) -> None:
        if reasoning:
            self.thinking.append(reasoning)
            self.thinking_chars += len(reasoning)
        if content:
            self.content.append(content)
            self.content_chars += len(content)
            self._recent = (self._recent + content)[-len(_THINK_CLOSE) - len(content):]
            if not self.tags and self.content_chars < 64:
                head = "".join(self.content).lstrip()
                if head.startswith(_THINK_OPEN):
                    self.tags = "open"
            if self.tags == "open" and _THINK_CLOSE in self._recent:
                self.tags = "closed"

    def end_at_last_fence(self) -> None:
        """Drop what follows the line of the last fence in the content (the rest of the piece that closed it); the
        answer ends with that line, as an answer the model ended itself would."""
        text = "".join(self.content)
        found = max(_LAST_FENCE.finditer(text), key=lambda match: match.end(), default=None)
        if found is not None:
            self.content = [text[:found.end()] + "\n"]
            self.content_chars = found.end() + 1

    @property
    def thinking_tokens(self) -> int:
        counted = self.thinking_chars + (self.content_chars if self.tags == "open" else 0)
        return self.usage.get("reasoning_tokens") or counted // 4

    @property
    def answering(self) -> bool:
        return self.content_chars > 0 and self.tags != "open"

    def split(self) -> tuple[str, str]:
        tagged, answer = split_thinking("".join(self.content))
        return "".join(self.thinking) + tagged, answer

    def progress(self, seconds: float) -> Progress:
        thinking, answer = self.split()
        if self.tags == "open":
            thinking, answer = thinking + "".join(self.content), ""
        phase = "writing" if answer else "thinking" if thinking else "waiting"
        return Progress(phase, self.thinking_tokens, len(answer), seconds, (answer or thinking)[-TAIL:])


class OpenAIChatModel:
    def __init__(self, client, settings: ModelSettings | str, dialect: Dialect | None = None,
                 clock: Callable[[], float] = time.monotonic, tokens: GgufTokens | None = None) -> None:
        self._client = client
        self._tokens = tokens  # the served model's own vocabulary, where makegreen serves it from a GGUF file
        self.settings = settings if isinstance(settings, ModelSettings) else ModelSettings(settings)
        self.name = self.settings.name
        self.dialect = dialect or DIALECTS["chat"]
        self._clock = clock
        self._asked: dict[int, int] = {}  # how often each request was sent, for its seed (sampling_seed)
        self._asked_lock = threading.Lock()

    @property
    def honours_effort(self) -> bool:
        """Whether asking for more reasoning effort changes anything on this server."""
        return self.dialect.effort

    @property
    def honours_sampling(self) -> bool:
        """Whether a temperature reaches this server."""
        return self.dialect.sampling

    def _messages(self, messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
        role = self.dialect.system_role
        return [{**m, "role": role} if m["role"] == "system" else dict(m) for m in messages]

    def complete(self, messages: Sequence[Mapping[str, str]], on_progress: Callable[[Progress], None], *,
                 output_cap: int | None = None, effort: str | None = None,
                 temperature: float | None = None, until: Callable[[str], bool] | None = None) -> Completion:
        started = self._clock()
        # per call, not on self: candidates share one model from several threads
        settings = dataclasses.replace(self.settings, effort=effort or self.settings.effort,
                                       temperature=self.settings.temperature if temperature is None else temperature)
        if settings.seed is not None:
            settings = dataclasses.replace(settings, seed=self._seed(settings, messages))
        stream, retries = self._request(messages, on_progress, started, self._params(settings, output_cap, False),
                                        until)
        thinking, answer = stream.split()
        if self.dialect.name == "think-tags" and stream.finish_reason == "length" and _THINK_CLOSE not in answer \
                and not thinking:
            # an R1-style template pre-fills <think>: content cut off before </think> is all thinking
            thinking, answer = answer, ""
        usage = dict(stream.usage)
        forced = False
        if not answer.strip() and (stream.over_budget or stream.finish_reason == "length"):
            forced = True
            on_progress(Progress("wrapping-up", usage.get("reasoning_tokens") or len(thinking) // 4, 0,
                                 self._clock() - started))
            wrap = [*messages, {"role": "user", "content": render("wrap_up.md",
                                                                  thinking=thinking[-WRAP_UP_THINKING:] or "(none)")}]
            final, more = self._request(wrap, on_progress, started, self._params(settings, output_cap, True))
            retries += more
            extra_thinking, answer = final.split()
            thinking += extra_thinking
            for key, value in final.usage.items():
                usage[key] = usage.get(key, 0) + value
            stream = final
        if not usage:  # servers that send no usage when streaming (llama.cpp's Python server)
            usage = self._counted(messages, wrap if forced else None, answer, thinking)
        return Completion(text=answer, thinking=thinking, finish_reason=stream.finish_reason, usage=usage,
                          seconds=self._clock() - started, forced=forced, retries=retries, stopped=stream.stopped)

    def _seed(self, settings: ModelSettings, messages: Sequence[Mapping[str, str]]) -> int:
        """This request's seed: the same in every run for the same request asked for the same time."""
        first = sampling_seed(settings.seed, messages, settings.temperature, settings.effort, 0)
        with self._asked_lock:
            occurrence = self._asked.get(first, 0)
            self._asked[first] = occurrence + 1
        return first if occurrence == 0 else sampling_seed(settings.seed, messages, settings.temperature,
                                                           settings.effort, occurrence)

    def _counted(self, messages: Sequence[Mapping[str, str]], wrap: Sequence[Mapping[str, str]] | None, answer: str,
                 thinking: str) -> dict[str, int]:
        """A request's usage where the server sent none: counted exactly with the served model's own vocabulary
        where makegreen serves it, else estimated from characters and marked so."""
        asked = [self._messages(messages)] + ([self._messages(wrap)] if wrap is not None else [])
        if self._tokens is not None:
            try:
                return {"prompt_tokens": sum(self._tokens.prompt(request) for request in asked),
                        "completion_tokens": self._tokens.text(thinking) + self._tokens.text(answer)}
            except Exception:  # a vocabulary that cannot be read (the file changed under the run): estimates
                self._tokens = None
        from .budget import estimate_tokens

        return {"prompt_tokens": sum(estimate_tokens(request) for request in asked),
                "completion_tokens": (len(answer) + len(thinking)) // 4, "estimated": 1}

    def _request(self, messages, on_progress, started: float, params: dict,
                 until: Callable[[str], bool] | None = None) -> tuple[StreamState, int]:
        import openai

        for attempt in range(STREAM_RETRIES + 1):
            try:
                return self._stream(messages, params, on_progress, started, until), attempt
            except StreamDropped:
                # only a stream that broke off after it began: failures to connect were the client's to retry
                if attempt == STREAM_RETRIES:
                    raise BackendError(f"the answer stream from {self._client.base_url} broke off "
                                       f"{STREAM_RETRIES + 1} times") from None
                time.sleep(min(2 ** attempt, 8) * 0.5)
            except openai.OpenAIError as exc:
                raise self._translate(exc) from exc
        raise AssertionError("unreachable")

    def _params(self, settings: ModelSettings, output_cap: int | None, wrap_up: bool) -> dict:
        return request_params(self.dialect, settings, output_cap, wrap_up)

    def _stream(self, messages, params: dict, on_progress, started: float,
                until: Callable[[str], bool] | None = None) -> StreamState:
        stream = StreamState()
        response = self._client.chat.completions.create(
            model=self.name, messages=self._messages(messages), stream=True,
            stream_options={"include_usage": True}, **params,
        )

        def take(chunk) -> None:
            if chunk.usage:
                stream.usage = _usage(chunk.usage)
            for choice in chunk.choices:
                delta = choice.delta
                reasoning = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)
                stream.add(reasoning if isinstance(reasoning, str) else None, delta.content)
                stream.finish_reason = choice.finish_reason or stream.finish_reason

        self._read(response, take, stream=stream, on_progress=on_progress, started=started, until=until)
        if stream.finish_reason is None and not stream.over_budget:
            raise StreamDropped()
        on_progress(stream.progress(self._clock() - started))
        return stream

    def _read(self, response, take: Callable[[object], None], *, stream: StreamState, on_progress, started: float,
              until: Callable[[str], bool] | None = None) -> None:
        """Feed each streamed item to take, reporting progress; stop reading once thinking passes its budget with
        no answer begun (the server enforces none, or overshot it), or once until says the answer is complete
        (closing the stream ends the generation: a server stops writing what nobody reads); a stream that breaks
        off is StreamDropped."""
        on_progress(stream.progress(self._clock() - started))
        budget = self.settings.think_budget
        last_report, pieces = 0.0, 0
        try:
            for item in response:
                take(item)
                if budget and stream.thinking_tokens > budget and not stream.answering:
                    stream.over_budget = True
                    break
                # an answer can only have become complete where a piece of it wrote part of a fence
                fresh, pieces = stream.content[pieces:], len(stream.content)
                if until is not None and stream.answering and any(_FENCE_CHARS & set(piece) for piece in fresh) \
                        and until(stream.split()[1]):
                    stream.finish_reason, stream.stopped = "stop", True
                    stream.end_at_last_fence()  # the piece that closed the block may carry what came after it
                    break
                now = self._clock()
                if now - last_report >= PROGRESS_EVERY:
                    last_report = now
                    on_progress(stream.progress(now - started))
        except Exception as exc:
            if broken_stream(exc):
                raise StreamDropped() from exc
            raise
        finally:
            response.close()

    def _translate(self, exc) -> BackendError:
        import openai

        where = self._client.base_url
        if isinstance(exc, openai.AuthenticationError):
            return BackendError(f"the backend refused the API key ({_detail(exc)}): set OPENAI_API_KEY or "
                                "--api-key to a valid key")
        if isinstance(exc, openai.PermissionDeniedError):
            return BackendError(f"the API key may not use model {self.name} ({_detail(exc)})")
        if isinstance(exc, openai.NotFoundError):
            return BackendError(f"model {self.name} is not served at {where} ({_detail(exc)}){self._available()}")
        if isinstance(exc, openai.BadRequestError) and (
                getattr(exc, "code", None) == "context_length_exceeded" or _OVERFLOW.search(_detail(exc))):
            return ContextOverflow(f"the prompt does not fit {self.name}'s context window ({_detail(exc)})")
        if isinstance(exc, openai.APITimeoutError):
            return BackendError(f"the backend at {where} did not answer in time, retries included")
        if isinstance(exc, openai.APIConnectionError):
            return BackendError(f"cannot reach the backend at {where}: {exc}. Is the server running, and is "
                                "OPENAI_BASE_URL / --base-url right?")
        if isinstance(exc, openai.APIStatusError):
            return BackendError(f"the backend answered HTTP {exc.status_code} ({_detail(exc)}), retries included")
        return BackendError(f"the backend failed: {exc}")

    def _available(self) -> str:
        try:
            names = sorted(model.id for model in self._client.models.list())
        except Exception:  # listing is a courtesy: the error above is the one to report
            return ""
        return f"; models offered there: {', '.join(names)}" if names else ""


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
