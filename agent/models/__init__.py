"""Model backends speaking the OpenAI protocol."""
from .openai_chat import OpenAIChatModel, split_thinking

__all__ = ["OpenAIChatModel", "split_thinking"]
