"""makegreen: failing pytest tests in, a green implementation out."""

__version__ = "0.1.0"
