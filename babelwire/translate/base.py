"""The engine interface every translation backend implements.

Language codes at this interface are BCP 47 primary subtags ("en", "es", "uk"); engine-specific
codes ("eng", "spa", "ukr") stay inside each engine module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

Pair = tuple[str, str]  # (source, target), BCP 47


class EngineError(RuntimeError):
    """An engine cannot work at all (not installed, server down, model missing)."""


@dataclass(frozen=True)
class Translated:
    """One segment's outcome: `text` is the translation, or None when the engine could not
    translate this segment (then `error` says why). An engine never returns an empty or
    truncated string in place of a failure."""

    text: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.text is not None


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""


@runtime_checkable
class Engine(Protocol):
    """A machine-translation backend.

    `translate` takes a batch of segments (sentences or short blocks) of one language pair and
    returns exactly one `Translated` per segment, in order. It must not raise for a bad
    segment: a segment that crashes the engine comes back with `text=None` and an error, and
    the others are still translated. It may raise `EngineError` when the engine as a whole is
    unusable. Engines are used from worker threads: `translate` must be thread-safe (a lock
    is fine).
    """

    name: str  # "apertium", "apy", "argos", "libretranslate"
    quality: int  # preference among engines for one pair: higher is better

    def pairs(self) -> frozenset[Pair]: ...

    def version(self) -> str: ...

    def health(self) -> Health: ...

    def translate(self, segments: Sequence[str], source: str, target: str
                  ) -> list[Translated]: ...

    def close(self) -> None: ...
