"""What tokens cost: list prices for OpenAI's models (USD per million tokens), overridable in
[tool.makegreen.prices]. A dated snapshot (gpt-5-2025-08-07) takes its model's price; any other name that is not
listed (o3-pro, a local model) has no price, rather than a guessed one."""
from __future__ import annotations

import re
from typing import Mapping

# input, cached input, output — OpenAI's published list prices per million tokens (2025)
PRICES: dict[str, dict[str, float]] = {
    "gpt-5": {"input": 1.25, "cached-input": 0.125, "output": 10.00},
    "gpt-5-mini": {"input": 0.25, "cached-input": 0.025, "output": 2.00},
    "gpt-5-nano": {"input": 0.05, "cached-input": 0.005, "output": 0.40},
    "o1": {"input": 15.00, "cached-input": 7.50, "output": 60.00},
    "o1-mini": {"input": 1.10, "cached-input": 0.55, "output": 4.40},
    "o3": {"input": 2.00, "cached-input": 0.50, "output": 8.00},
    "o3-mini": {"input": 1.10, "cached-input": 0.55, "output": 4.40},
    "o4-mini": {"input": 1.10, "cached-input": 0.275, "output": 4.40},
    "gpt-4.1": {"input": 2.00, "cached-input": 0.50, "output": 8.00},
    "gpt-4.1-mini": {"input": 0.40, "cached-input": 0.10, "output": 1.60},
    "gpt-4o": {"input": 2.50, "cached-input": 1.25, "output": 10.00},
    "gpt-4o-mini": {"input": 0.15, "cached-input": 0.075, "output": 0.60},
}


def price_for(model: str, overrides: Mapping[str, Mapping[str, float]] = {}) -> dict[str, float] | None:
    """The price row for a model, the config's rows first; None when the model is not priced."""
    table = {**PRICES, **overrides}
    if model in table:
        return dict(table[model])
    snapshot = re.fullmatch(r"(.+)-(\d{4}-\d{2}-\d{2}|latest)", model)
    if snapshot and snapshot.group(1) in table:
        return dict(table[snapshot.group(1)])
    return None


def cost(usage: Mapping[str, int], price: Mapping[str, float] | None) -> float | None:
    """USD for one usage record (reasoning tokens are billed as output, and are part of completion_tokens)."""
    if price is None:
        return None
    cached = usage.get("cached_tokens", 0)
    fresh = usage.get("prompt_tokens", 0) - cached
    return (fresh * price["input"] + cached * price.get("cached-input", price["input"])
            + usage.get("completion_tokens", 0) * price["output"]) / 1e6
