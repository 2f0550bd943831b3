"""Event consumers that show a run to a person: a live rich view on a terminal, plain lines elsewhere."""
from .plain import PlainRenderer
from .terminal import TerminalRenderer

__all__ = ["PlainRenderer", "TerminalRenderer"]
