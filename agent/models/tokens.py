"""Exact token counts for a model served from a GGUF file (the local engine): its own vocabulary and chat template,
read from the file without its weights. llama.cpp's Python server sends no usage when it streams, so without this
a request's cost could only be estimated from its characters."""
from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Mapping, Sequence


class GgufTokens:
    """Counts with the vocabulary of one GGUF file, loaded on first use (about 0.3 s, no weights); safe across the
    threads of parallel candidates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._vocab = None
        self._format = None

    @classmethod
    def available(cls, path: Path | None) -> "GgufTokens | None":
        """Counts for path where the engine's Python package is here to read it; None where it is not."""
        if path is None or not path.is_file():
            return None
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            return None
        return cls(path)

    def _load(self) -> None:
        if self._vocab is not None:
            return
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        # llama.cpp writes its loading notes to stderr whatever `verbose` says: quiet while it reads the file
        llama_cpp.llama_log_set(_silence(llama_cpp), ctypes.c_void_p(0))
        try:
            vocab = llama_cpp.Llama(model_path=str(self.path), vocab_only=True, verbose=False)
        finally:
            from llama_cpp import _logger

            llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
        template = vocab.metadata.get("tokenizer.chat_template")
        if template:
            piece = lambda token: vocab.detokenize([token], special=True).decode("utf-8", "replace")  # noqa: E731
            self._format = Jinja2ChatFormatter(template, eos_token=piece(vocab.token_eos()),
                                               bos_token=piece(vocab.token_bos()))
        self._vocab = vocab

    def text(self, text: str) -> int:
        """The tokens of text as the model writes it (an answer, its thinking)."""
        if not text:
            return 0
        with self._lock:
            self._load()
            return len(self._vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prompt(self, messages: Sequence[Mapping[str, str]]) -> int:
        """The tokens of a whole request as the engine renders it with the model's chat template."""
        with self._lock:
            self._load()
            plain = [{"role": m["role"], "content": m["content"]} for m in messages]
            if self._format is None:  # no template in the file: the contents, one after another
                rendered = "\n".join(m["content"] for m in plain)
            else:
                rendered = self._format(messages=plain).prompt
            return len(self._vocab.tokenize(rendered.encode("utf-8"), add_bos=False, special=True))


_quiet = None  # llama.cpp holds the callback's address: kept alive here once made


def _silence(llama_cpp) -> object:
    global _quiet
    if _quiet is None:
        _quiet = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
    return _quiet
