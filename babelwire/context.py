"""What every pipeline call needs: settings, the store, the catalogue and a fetcher."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from babelwire.config import Settings
from babelwire.store.database import Database

if TYPE_CHECKING:
    from babelwire.catalog.loader import Catalog
    from babelwire.ingest.fetch import Fetcher
    from babelwire.similar.vectors import VectorSpace
    from babelwire.translate.translator import Translator


def exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """Worker initialiser: end this process when its parent is gone. A pool worker otherwise
    outlives a parent killed with SIGKILL (or by the OOM killer), waiting for work that never
    comes (found after the soak: orphaned workers of ~130 MB each, piling up)."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@dataclass
class Context:
    settings: Settings
    db: Database
    catalog: Catalog
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("babelwire"))
    _fetcher: Fetcher | None = None
    _translator: Translator | None = None
    _pool: ProcessPoolExecutor | None = None
    _vectors: VectorSpace | None = None

    @classmethod
    def open(cls, settings: Settings, *, catalog: Catalog | None = None,
             sync_catalog: bool = True) -> Context:
        """Open the store (migrating it) and, by default, load the catalogue into it."""
        from babelwire.catalog.loader import load_catalog
        from babelwire.store import queries

        db = Database(settings.store_url)
        if catalog is None:
            from pathlib import Path

            catalog = load_catalog(Path(settings.catalog_dir) if settings.catalog_dir else None)
        if sync_catalog:
            with db.session() as s:
                queries.sync_sources(s, catalog)
        return cls(settings=settings, db=db, catalog=catalog)

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            from babelwire.ingest.fetch import Fetcher

            self._fetcher = Fetcher(self.settings)
        return self._fetcher

    @property
    def extract_pool(self) -> ProcessPoolExecutor | None:
        """Worker processes for the CPU-bound part of ingestion; None: work in a thread."""
        n = self.settings.extract_processes or os.cpu_count() or 1
        if n <= 1:
            return None
        if self._pool is None:
            # spawn, not fork: the parent runs threads (web server, engines, database)
            self._pool = ProcessPoolExecutor(max_workers=n,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=exit_with_parent,
                                             initargs=(os.getpid(),))
        return self._pool

    @property
    def translator(self) -> Translator:
        """Engines, router and translation memory, built on first use (engines start
        processes or load models: nothing to pay for a command that does not translate)."""
        if self._translator is None:
            from babelwire.translate.engines import load_engines
            from babelwire.translate.memory import TranslationMemory
            from babelwire.translate.quality import load_table
            from babelwire.translate.router import Router, parse_preferences
            from babelwire.translate.translator import Translator

            router = Router(load_engines(self.settings),
                            preferences=parse_preferences(self.settings.engine_preferences),
                            table=load_table(self.settings.quality_table_path),
                            min_quality=self.settings.translate_min_quality)
            self._translator = Translator(router, TranslationMemory(self.db))
        return self._translator

    @property
    def vectors(self) -> VectorSpace:
        """The embedding model and this process's vector index (loaded on first use)."""
        if self._vectors is None:
            from babelwire.similar.vectors import VectorSpace

            self._vectors = VectorSpace(self.db, self.settings)
        return self._vectors

    async def aclose(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.aclose()
            self._fetcher = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        if self._vectors is not None:
            self._vectors.close()
            self._vectors = None
        if self._translator is not None:
            for engine in self._translator.router.engines:
                engine.close()
            self._translator = None
        self.db.dispose()
