"""How each kind of server wants to be asked, and how a model's dialect is told from its name and server.

All dialects read thinking wherever it arrives (`reasoning_content`, `reasoning`, `<think>` tags); they differ in
what a request may carry: the instruction role, the output-token parameter, sampling, effort, a thinking budget,
and Qwen3's thinking switch.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

OPENAI_REASONING = re.compile(r"^(o\d|gpt-5)", re.IGNORECASE)
ANSWER_ALLOWANCE = 16_000  # output tokens left for the answer on top of a thinking budget


@dataclass(frozen=True)
class Dialect:
    name: str
    system_role: str = "system"
    max_tokens_param: str = "max_tokens"
    sampling: bool = True  # temperature and top_p accepted
    effort: bool = False  # reasoning_effort accepted
    budget_fields: tuple[str, ...] = ()  # request fields for a thinking budget in tokens, where the server has one
    template_budget: bool = False  # the budget goes to the chat template instead (chat_template_kwargs.thinking_budget)
    thinking_switch: bool = False  # chat_template_kwargs.enable_thinking reaches the chat template (Qwen3)


DIALECTS = {
    "openai-reasoning": Dialect("openai-reasoning", system_role="developer", max_tokens_param="max_completion_tokens",
                                sampling=False, effort=True),
    "vllm": Dialect("vllm", effort=True, budget_fields=("thinking_token_budget",), thinking_switch=True),
    "sglang": Dialect("sglang", template_budget=True, thinking_switch=True),
    # llama-server's own name for it is reasoning_budget_tokens; thinking_budget_tokens is sent too, as some builds
    # and front ends call it (an unknown field is ignored)
    "llama.cpp": Dialect("llama.cpp", budget_fields=("reasoning_budget_tokens", "thinking_budget_tokens"),
                         thinking_switch=True),
    "ollama": Dialect("ollama"),
    "think-tags": Dialect("think-tags"),
    "chat": Dialect("chat"),
}

# What servers put in /v1/models' owned_by, for telling them apart
_OWNERS = {"vllm": "vllm", "sglang": "sglang", "llamacpp": "llama.cpp", "llama.cpp": "llama.cpp",
           "library": "ollama", "ollama": "ollama"}


@dataclass(frozen=True)
class ModelSettings:
    """The part of the settings that shapes requests."""

    name: str
    dialect: str = "auto"
    effort: str | None = None
    think_budget: int | None = None
    thinking: str = "auto"  # on, off: Qwen3's switch; auto leaves the template's default
    temperature: float | None = None
    max_output_tokens: int | None = None
    seed: int | None = None  # sampled answers drawn repeatably where the server takes a seed (sampling_seed)


def detect(model: str, base_url: str | None, owned_by: str | None) -> str:
    """The dialect for a model on a server: OpenAI's reasoning models by name, local servers by what they say."""
    if OPENAI_REASONING.match(model):
        return "openai-reasoning"
    owner = _OWNERS.get((owned_by or "").lower())
    if owner:
        return owner
    if base_url and re.search(r":11434(/|$)", base_url):
        return "ollama"
    return "chat"


def sampling_seed(seed: int, messages: Sequence[Mapping[str, str]], temperature: float | None, effort: str | None,
                  occurrence: int) -> int:
    """One request's seed, from the run's: the same request (the same messages, temperature and effort, asked for
    the same time in the run) gets the same seed in every run, so that two runs of different code draw the same
    answer wherever they ask the same thing; asked again within a run, it gets another."""
    asked = json.dumps([seed, [dict(m) for m in messages], temperature, effort, occurrence], sort_keys=True)
    return int.from_bytes(hashlib.sha256(asked.encode()).digest()[:4], "big") & 0x7FFF_FFFF


def effort_for(budget: int) -> str:
    """The reasoning effort closest to a thinking budget, for servers that take effort rather than tokens."""
    if budget <= 2_000:
        return "minimal"
    if budget <= 8_000:
        return "low"
    if budget <= 24_000:
        return "medium"
    return "high"


def request_params(dialect: Dialect, settings: ModelSettings, output_cap: int | None = None,
                   wrap_up: bool = False) -> dict[str, Any]:
    """Keyword arguments for chat.completions.create beyond model and messages.

    wrap_up asks for the final answer with as little further thinking as the server allows."""
    params: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    max_out = settings.max_output_tokens
    if dialect.effort:
        effort = settings.effort or (effort_for(settings.think_budget) if settings.think_budget else None)
        if wrap_up:
            effort = "low" if dialect.name == "openai-reasoning" else effort
        if effort and (dialect.name == "openai-reasoning" or settings.effort):
            params["reasoning_effort"] = effort
    if dialect.name == "openai-reasoning" and settings.think_budget and max_out is None:
        max_out = settings.think_budget + ANSWER_ALLOWANCE
    if dialect.sampling and settings.temperature is not None:
        params["temperature"] = settings.temperature
    if dialect.sampling and settings.seed is not None:
        params["seed"] = settings.seed
    template: dict[str, Any] = {}
    for name in dialect.budget_fields if settings.think_budget else ():
        extra[name] = 0 if wrap_up else settings.think_budget
    if settings.think_budget and dialect.template_budget and not wrap_up:
        template["thinking_budget"] = settings.think_budget
    if dialect.thinking_switch and (settings.thinking != "auto" or wrap_up):
        template["enable_thinking"] = settings.thinking == "on" and not wrap_up
    if template:
        extra["chat_template_kwargs"] = template
    if output_cap is not None:
        max_out = min(max_out, output_cap) if max_out else output_cap
    if max_out:
        params[dialect.max_tokens_param] = max_out
    if extra:
        params["extra_body"] = extra
    return params


# Context windows in tokens, by name prefix; a local model's is its server's setting, 32k unless configured.
CONTEXT_WINDOWS = (("gpt-4.1", 1_047_576), ("gpt-5", 400_000), ("o1", 200_000), ("o3", 200_000), ("o4", 200_000),
                   ("gpt-4o", 128_000))
LOCAL_WINDOW = 32_768


def context_window(model: str) -> int:
    return next((size for prefix, size in CONTEXT_WINDOWS if model.startswith(prefix)), LOCAL_WINDOW)


def reserved_output(settings: ModelSettings) -> int:
    """Tokens to leave for the answer and its thinking."""
    if settings.max_output_tokens:
        return settings.max_output_tokens
    return (settings.think_budget or 0) + ANSWER_ALLOWANCE
