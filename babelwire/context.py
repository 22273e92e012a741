"""What every pipeline call needs: settings, the store, the catalogue and a fetcher."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from babelwire.config import Settings
from babelwire.store.database import Database

if TYPE_CHECKING:
    from babelwire.catalog.loader import Catalog
    from babelwire.ingest.fetch import Fetcher


@dataclass
class Context:
    settings: Settings
    db: Database
    catalog: Catalog
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("babelwire"))
    _fetcher: Fetcher | None = None

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

    async def aclose(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.aclose()
            self._fetcher = None

    def close(self) -> None:
        self.db.dispose()
