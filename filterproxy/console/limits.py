"""Rate limits for the console's public doors: login failures and unblock requests.

Each limiter counts events per key (an address, a user name) in a sliding window. They live in
the console's own event loop and are touched only there, so they need no locks. Memory is bounded:
at most ``max_keys`` keys are tracked; the oldest are forgotten first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class WindowLimiter:
    """At most ``limit`` events per key in ``window`` seconds."""

    def __init__(self, limit: int, window: float, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        horizon = self._clock() - self.window
        while events and events[0] <= horizon:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def blocked_for(self, key: str) -> float:
        """Seconds until ``key`` may act again (0: it may act now)."""
        events = self._recent(key)
        if len(events) < self.limit:
            return 0.0
        return max(0.0, events[-self.limit] + self.window - self._clock())

    def hit(self, key: str) -> None:
        events = self._events.setdefault(key, deque())
        self._events.move_to_end(key)
        events.append(self._clock())
        while len(events) > self.limit:
            events.popleft()
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)

    def reset(self, key: str) -> None:
        self._events.pop(key, None)


class LoginLimiter:
    """Failed logins per address and per user name; either one locks the door for a while."""

    def __init__(self, attempts: int, lockout_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.by_address = WindowLimiter(attempts, lockout_seconds, clock=clock)
        self.by_user = WindowLimiter(attempts, lockout_seconds, clock=clock)

    def locked_for(self, address: str, user: str) -> float:
        return max(self.by_address.blocked_for(address), self.by_user.blocked_for(user.lower()))

    def failed(self, address: str, user: str) -> None:
        self.by_address.hit(address)
        self.by_user.hit(user.lower())

    def succeeded(self, address: str, user: str) -> None:
        self.by_user.reset(user.lower())
