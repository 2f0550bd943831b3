"""Spending limits: tokens and dollars, checked before each request so that a run stops before it overspends."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from ..core.errors import BudgetExhausted, ConfigError
from .pricing import cost

MIN_ANSWER_TOKENS = 1_000  # a request that cannot afford this many output tokens is not worth sending


def estimate_tokens(messages: Sequence[Mapping[str, str]]) -> int:
    """Tokens in a prompt, offline: about four characters a token for English and code."""
    return sum(len(m.get("content", "")) for m in messages) // 4 + 4 * len(messages)


@dataclass
class Budget:
    tokens: int | None = None
    usd: float | None = None
    price: Mapping[str, float] | None = None
    seconds: float | None = None  # wall time for the whole run (--timeout)
    clock: Callable[[], float] = time.monotonic
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.usd is not None and self.price is None:
            raise ConfigError("--budget-usd needs the model's price: add it under [tool.makegreen.prices] "
                              "(input, cached-input, output in USD per million tokens), or give --budget-tokens "
                              "too, which holds where no price is known")

    def output_cap(self, spent: Mapping[str, int], messages: Sequence[Mapping[str, str]],
                   parallel: int = 1) -> int | None:
        """The most output tokens the next request may use, or BudgetExhausted when it cannot be afforded.
        parallel requests (candidates) go out at once: each may spend its share of what is left."""
        if self.seconds is not None and self.clock() - self.started >= self.seconds:
            raise BudgetExhausted(f"wall time: {self.seconds:.0f} s are up")
        prompt = estimate_tokens(messages)
        caps = []
        if self.tokens is not None:
            used = spent.get("prompt_tokens", 0) + spent.get("completion_tokens", 0)
            caps.append((self.tokens - used) // parallel - prompt)
            if caps[-1] < MIN_ANSWER_TOKENS:
                raise BudgetExhausted(f"token budget: {used} of {self.tokens} used, and the next prompt alone is "
                                      f"about {prompt}")
        if self.usd is not None and self.price is not None:
            left = (self.usd - (cost(spent, self.price) or 0.0)) / parallel - prompt * self.price["input"] / 1e6
            caps.append(int(left / self.price["output"] * 1e6))
            if caps[-1] < MIN_ANSWER_TOKENS:
                raise BudgetExhausted(f"dollar budget: ${cost(spent, self.price) or 0:.4f} of ${self.usd:.2f} spent, "
                                      "too little left for another request")
        return min(caps) if caps else None
