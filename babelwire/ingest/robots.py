"""robots.txt: a small RFC 9309 parser and the per-origin cache the fetcher keeps.

Matching follows RFC 9309 (and Google's reading of it), which `urllib.robotparser` does not:
the groups naming our product token are merged (else the ``*`` groups), the longest
matching rule wins, ``Allow`` wins a tie, ``*`` and a final ``$`` work as in the RFC, and
``/robots.txt`` itself is always allowed. ``Crawl-delay`` and ``Sitemap`` lines are kept.
Matching is linear (no regular expressions), so a hostile file cannot make it backtrack.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = [
    "PRODUCT_TOKEN",
    "RobotsCache",
    "RobotsPolicy",
    "RobotsRule",
    "parse_robots",
]

PRODUCT_TOKEN = "Babelwire"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def _normalize(path: str) -> str:
    """Percent-encode non-ASCII, upper-case escapes, and unescape unreserved characters."""
    def unescape(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    encoded = "".join(
        c if ord(c) < 128 else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in path)
    return _ESCAPE.sub(unescape, encoded)


@dataclass(frozen=True)
class RobotsRule:
    allow: bool
    pattern: str  # normalized; may contain "*" and a final "$"

    def matches(self, path: str) -> bool:
        """Whether the rule's pattern matches `path` (anchored at the start)."""
        anchored = self.pattern.endswith("$")
        parts = (self.pattern[:-1] if anchored else self.pattern).split("*")
        first, rest = parts[0], parts[1:]
        if not path.startswith(first):
            return False
        if not rest:
            return not anchored or len(path) == len(first)
        pos = len(first)
        middle, last = rest[:-1], rest[-1]
        for part in middle:
            found = path.find(part, pos)
            if found < 0:
                return False
            pos = found + len(part)
        if anchored:
            return len(path) - len(last) >= pos and path.endswith(last)
        return path.find(last, pos) >= 0


@dataclass(frozen=True)
class RobotsPolicy:
    """What one origin's robots.txt lets us fetch."""

    rules: tuple[RobotsRule, ...] = ()
    crawl_delay: float | None = None
    sitemaps: tuple[str, ...] = ()
    disallow_everything: bool = False
    note: str = ""  # why a synthetic policy was chosen: "HTTP 404", "unreachable", ...
    temporary: bool = False  # a stand-in while robots.txt is unreachable (RFC 9309 2.3.1.4)

    @classmethod
    def allow_all(cls, note: str = "") -> RobotsPolicy:
        return cls(note=note)

    @classmethod
    def disallow_all(cls, note: str = "", *, temporary: bool = False) -> RobotsPolicy:
        return cls(disallow_everything=True, note=note, temporary=temporary)

    def allows(self, path: str) -> bool:
        """Whether a URL path (with its ``?query``) may be fetched."""
        path = _normalize(path or "/")
        if path == "/robots.txt" or path.startswith("/robots.txt?"):
            return True
        if self.disallow_everything:
            return False
        best: RobotsRule | None = None
        for rule in self.rules:
            if not rule.matches(path):
                continue
            if (best is None or len(rule.pattern) > len(best.pattern)
                    or (len(rule.pattern) == len(best.pattern) and rule.allow)):
                best = rule
        return best is None or best.allow


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[RobotsRule] = field(default_factory=list)
    crawl_delay: float | None = None


def _agent_token(value: str) -> str:
    return value.strip().split("/", 1)[0].strip().lower()


def parse_robots(text: str, product: str = PRODUCT_TOKEN) -> RobotsPolicy:
    """Parse robots.txt `text` into the policy that applies to `product` (case-insensitive)."""
    groups: list[_Group] = []
    sitemaps: list[str] = []
    current: _Group | None = None
    in_agents = False
    for raw in text.lstrip("\ufeff").splitlines():
        line = raw.split("#", 1)[0].strip()
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower().replace("_", "-")
        value = value.strip()
        if key in {"user-agent", "useragent"}:
            if current is None or not in_agents:
                current = _Group()
                groups.append(current)
            current.agents.append(_agent_token(value))
            in_agents = True
            continue
        if key == "sitemap":
            if value:
                sitemaps.append(value)
            continue
        in_agents = False
        if current is None:
            continue
        if key in {"allow", "disallow"}:
            if value:
                current.rules.append(RobotsRule(key == "allow", _normalize(value)))
        elif key == "crawl-delay":
            try:
                delay = float(value)
            except ValueError:
                continue
            if math.isfinite(delay) and delay >= 0:
                current.crawl_delay = max(current.crawl_delay or 0.0, delay)
    token = product.lower()
    chosen = [g for g in groups if token in g.agents] or [g for g in groups if "*" in g.agents]
    delays = [g.crawl_delay for g in chosen if g.crawl_delay is not None]
    return RobotsPolicy(
        rules=tuple(r for g in chosen for r in g.rules),
        crawl_delay=max(delays) if delays else None,
        sitemaps=tuple(sitemaps),
    )


class RobotsCache:
    """Policies by origin ("https://example.com:443"), each until it expires.

    `get_or_load` runs one load at a time per origin, so concurrent fetches to a host whose
    robots.txt is unknown request it once.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[RobotsPolicy, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def get(self, origin: str) -> RobotsPolicy | None:
        entry = self._entries.get(origin)
        if entry is None:
            return None
        policy, expires = entry
        if self._clock() >= expires:
            del self._entries[origin]
            return None
        return policy

    def put(self, origin: str, policy: RobotsPolicy, ttl: float) -> None:
        self._entries[origin] = (policy, self._clock() + ttl)

    async def get_or_load(self, origin: str,
                          load: Callable[[], Awaitable[tuple[RobotsPolicy, float]]],
                          ) -> RobotsPolicy:
        """The cached policy, else `load()`'s (policy, ttl), cached; its errors propagate."""
        policy = self.get(origin)
        if policy is not None:
            return policy
        async with self._locks.setdefault(origin, asyncio.Lock()):
            policy = self.get(origin)
            if policy is None:
                policy, ttl = await load()
                self.put(origin, policy, ttl)
            return policy
