"""Translation memory: segments already translated by an engine version are reused, so a
repeated sentence (a recurring line, a re-crawled article, a second reader) is translated
once. Entries are keyed by engine and version: a new engine version translates afresh."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from babelwire.store.database import Database
from babelwire.store.models import MemoryEntry
from babelwire.store.queries import _insert
from babelwire.translate.segment import normalise

_CHUNK = 500


def memory_key(engine: str, source: str, target: str, text: str) -> str:
    raw = "\x1f".join((engine, source, target, normalise(text)))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class TranslationMemory:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.hits = 0
        self.misses = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def lookup(self, engine: str, source: str, target: str,
               texts: Sequence[str]) -> dict[int, str]:
        """Index -> remembered translation, for the texts the memory has."""
        keys = [memory_key(engine, source, target, t) for t in texts]
        found: dict[str, str] = {}
        with self.db.session() as s:
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i:i + _CHUNK]
                for key, target_text in s.execute(
                        select(MemoryEntry.key, MemoryEntry.target_text)
                        .where(MemoryEntry.key.in_(chunk))):
                    found[key] = target_text
        out = {i: found[k] for i, k in enumerate(keys) if k in found}
        self.hits += len(out)
        self.misses += len(keys) - len(out)
        return out

    def store(self, engine: str, source: str, target: str,
              pairs: Iterable[tuple[str, str]]) -> None:
        now = datetime.now(UTC)
        rows = {}
        for src_text, tgt_text in pairs:
            key = memory_key(engine, source, target, src_text)
            rows[key] = {"key": key, "source_language": source, "target_language": target,
                         "engine": engine, "source_text": src_text, "target_text": tgt_text,
                         "created_at": now}
        if not rows:
            return
        with self.db.session() as s:
            values = list(rows.values())
            for i in range(0, len(values), _CHUNK):
                s.execute(_insert(s, MemoryEntry).values(values[i:i + _CHUNK])
                          .on_conflict_do_nothing(index_elements=["key"]))
