"""Output captured with a byte cap that holds while it streams: the head and the tail are kept, the middle counted."""
from __future__ import annotations

from collections import deque


class CappedOutput:
    def __init__(self, limit: int = 256 * 1024) -> None:
        self._head_limit = limit // 2
        self._tail_limit = limit - self._head_limit
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail.append(chunk)
        self._tail_size += len(chunk)
        while self._tail_size - len(self._tail[0]) >= self._tail_limit:
            self._tail_size -= len(self._tail.popleft())

    @property
    def dropped(self) -> int:
        return self.total - len(self._head) - min(self._tail_size, self._tail_limit)

    def text(self) -> str:
        tail = b"".join(self._tail)[-self._tail_limit:] if self._tail else b""
        head = self._head.decode("utf-8", "replace")
        if self.dropped:
            return f"{head}\n[... {self.dropped} bytes of output cut ...]\n{tail.decode('utf-8', 'replace')}"
        return head + tail.decode("utf-8", "replace")
