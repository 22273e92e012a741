"""A process's vector space: the embedding model and an in-memory index of every article's
vector, kept current from the store.

The store is the source of truth (`article_vectors`, written at ingest by every worker).
Each process — the web server, a crawler, a Celery worker — keeps its own index and reads
the rows it has not seen yet: `ArticleVector.id` only grows (a re-embedded article gets a
new row), so a watermark is all it takes. A snapshot in the data directory spares a large
index the rebuild at start-up.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select

from babelwire.store.models import ArticleVector

if TYPE_CHECKING:
    from babelwire.config import Settings
    from babelwire.similar.embed import Embedder
    from babelwire.similar.index import VectorIndex
    from babelwire.store.database import Database

log = logging.getLogger(__name__)
SYNC_BATCH = 20_000
SNAPSHOT_EVERY = 5_000  # vectors added since the last snapshot before closing writes one


def to_bytes(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def _arrays(rows: Sequence[tuple[int, bytes, datetime]]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(article ids, vectors, published epoch seconds) of (article_id, vector bytes,
    published_at) rows, for `VectorIndex.add`."""
    return (np.array([r[0] for r in rows], dtype=np.int64),
            np.stack([from_bytes(r[1]) for r in rows]),
            np.array([r[2].timestamp() for r in rows], dtype=np.float64))


class EmbeddingsUnavailable(RuntimeError):
    """No embedding model is configured or installed: similar news falls back to words."""


class VectorSpace:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._embedder: Embedder | None = None
        self._index: VectorIndex | None = None
        self._watermark = 0
        self._added_since_snapshot = 0
        self._synced_at = 0.0
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ model

    @property
    def enabled(self) -> bool:
        return self.settings.embedder.lower() not in ("", "none", "off")

    @property
    def embedder(self) -> Embedder:
        if not self.enabled:
            raise EmbeddingsUnavailable("no embedder configured (BABELWIRE_EMBEDDER=none)")
        with self._lock:
            if self._embedder is None:
                from babelwire.similar.embed import load_embedder

                try:
                    self._embedder = load_embedder(self.settings.embedder,
                                                    threads=self.settings.embed_threads)
                except (ImportError, ValueError) as exc:
                    raise EmbeddingsUnavailable(str(exc)) from exc
            return self._embedder

    @property
    def model(self) -> str:
        """The key stored with every vector: vectors of another model are never mixed in."""
        e = self.embedder
        return f"{e.name} {e.version}"

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)

    # ------------------------------------------------------------------ index

    @property
    def index(self) -> VectorIndex:
        with self._lock:
            if self._index is None:
                from babelwire.similar.index import VectorIndex

                index = None
                path = self._snapshot_path()
                meta = path.with_suffix(".json")
                if path.exists() and meta.exists():
                    try:
                        info = json.loads(meta.read_text())
                        if info.get("model") == self.model:
                            index = VectorIndex.load(path)
                            self._watermark = int(info["watermark"])
                    except (OSError, ValueError, KeyError) as exc:
                        log.warning("vector snapshot %s unusable (%s): rebuilding", path, exc)
                        index, self._watermark = None, 0
                self._index = index or VectorIndex(self.embedder.dim,
                                                   backend=self.settings.vector_index)
            return self._index

    def _snapshot_path(self) -> Path:
        slug = "".join(c if c.isalnum() else "-" for c in self.model)
        return Path(self.settings.data_dir) / "vectors" / f"{slug}.index"

    def sync(self, *, max_age: float = 0.0) -> int:
        """Add the vectors stored since the last sync; skipped when the last sync is younger
        than `max_age` seconds. Returns how many were added."""
        if max_age and time.monotonic() - self._synced_at < max_age:
            return 0
        index = self.index
        model = self.model
        added = 0
        # all new rows go in as one batch, which the index lays out in time order: a start
        # from an empty index (or a long pause) reads the store in id order, and adding it
        # batch by batch would scatter each time window's rows across the index
        pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        watermark = self._watermark
        with self._lock:
            while True:
                with self.db.session() as s:
                    rows = s.execute(
                        select(ArticleVector.id, ArticleVector.article_id,
                               ArticleVector.vector, ArticleVector.published_at)
                        .where(ArticleVector.id > watermark,
                               ArticleVector.model == model)
                        .order_by(ArticleVector.id).limit(SYNC_BATCH)).all()
                if not rows:
                    break
                pending.append(_arrays([(r[1], r[2], r[3]) for r in rows]))
                watermark = rows[-1][0]
                added += len(rows)
                if len(rows) < SYNC_BATCH:
                    break
            if pending:
                ids, vecs, times = (np.concatenate(a) for a in zip(*pending, strict=True))
                pending.clear()
                index.add(ids, vecs, times)
                self._watermark = watermark
            self._added_since_snapshot += added
            self._synced_at = time.monotonic()
        return added

    def add_local(self, article_id: int, vector: np.ndarray, published: float) -> None:
        """Put a vector this process just stored into its index at once (the next sync
        reads the row again, which replaces it with itself)."""
        self.index.add(np.array([article_id], dtype=np.int64), vector.reshape(1, -1),
                       np.array([published], dtype=np.float64))

    def restore(self, article_ids: list[int]) -> None:
        """Put these articles back in the index as the store has them (after a transaction
        that added them locally was rolled back): their stored vectors, or nothing."""
        if not article_ids:
            return
        index = self.index
        index.remove(article_ids)
        with self.db.session() as s:
            rows = s.execute(select(ArticleVector.article_id, ArticleVector.vector,
                                    ArticleVector.published_at)
                             .where(ArticleVector.article_id.in_(article_ids),
                                    ArticleVector.model == self.model)).all()
        if rows:
            index.add(*_arrays(rows))

    def save_snapshot(self) -> Path | None:
        """Write the index and its watermark (atomically) for a fast start next time."""
        if self._index is None:
            return None
        path = self._snapshot_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._index.save(path)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps({"model": self.model, "watermark": self._watermark}))
            os.replace(tmp, path.with_suffix(".json"))
            self._added_since_snapshot = 0
        return path

    def close(self) -> None:
        if self._index is not None and self._added_since_snapshot >= SNAPSHOT_EVERY:
            try:
                self.save_snapshot()
            except OSError as exc:  # a full disk costs a slower start, nothing else
                log.warning("vector snapshot not written: %s", exc)
