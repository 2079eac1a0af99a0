"""A cap on simultaneous connections per client address: one pupil's runaway (or slowloris) client
cannot take the proxy's file descriptors and memory from everybody else.

mitmproxy itself has no such limit and buffers request headers without bound until they end, so
this is where a single client's share is bounded. A plain helper, not a mitmproxy addon of its
own: every loaded addon is offered every event, which costs on every request.
"""

from __future__ import annotations

from collections import Counter


class ClientLimit:
    """Counts open connections per client address; ``admit`` says whether one more may open."""

    def __init__(self, limit: int) -> None:
        self.limit = limit  # 0: no limit
        self.open: Counter[str] = Counter()
        self._counted: set[str] = set()

    def admit(self, connection_id: str, address: str) -> bool:
        if self.limit and self.open[address] >= self.limit:
            return False
        self.open[address] += 1
        self._counted.add(connection_id)
        return True

    def release(self, connection_id: str, address: str) -> None:
        if connection_id in self._counted:
            self._counted.discard(connection_id)
            self.open[address] -= 1
            if self.open[address] <= 0:
                del self.open[address]
