"""`babelwire demo`: the bundled newsroom served on loopback, crawled through the real
pipeline, and Babelwire's site served over the result, all offline."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from babelwire.config import Settings
from babelwire.context import Context


def demo_settings(settings: Settings, *, fresh: bool) -> Settings:
    """The demo's own database (never the user's), loopback allowed, quick politeness."""
    changes: dict[str, object] = {
        "fetch_allow_networks": (*settings.fetch_allow_networks, "127.0.0.0/8"),
        "fetch_min_delay": min(settings.fetch_min_delay, 0.02),
        "feed_min_interval": 60.0,
        "feed_max_interval": 600.0,
    }
    if not settings.database_url:
        data_dir = Path(settings.data_dir) / "demo"
        if fresh and data_dir.exists():
            shutil.rmtree(data_dir)
        changes["data_dir"] = str(data_dir)
    return settings.with_(**changes)


def run_demo(settings: Settings, *, newsroom_port: int = 0, fresh: bool = True,
             exit_after_crawl: bool = False) -> None:
    from babelwire.catalog.loader import catalog_from_specs
    from babelwire.demo.newsroom import DemoNewsroom
    from babelwire.ingest.crawl import crawl_once
    from babelwire.web.server import serve_async

    settings = demo_settings(settings, fresh=fresh)
    with DemoNewsroom(port=newsroom_port) as newsroom:
        catalog = catalog_from_specs(newsroom.sources())
        ctx = Context.open(settings, catalog=catalog)
        print(f"Demo newsroom: {len(catalog)} sample publishers at {newsroom.base_url}/",
              flush=True)
        try:
            stats = asyncio.run(crawl_once(ctx))
            other = stats.done - stats.articles["ready"] - stats.articles["duplicate"]
            print(f"Crawled: {stats.discovered} articles found, "
                  f"{stats.articles['ready']} stored, {stats.articles['duplicate']} duplicates, "
                  f"{other} not stored (see `babelwire -v crawl` for reasons)", flush=True)
            if not exit_after_crawl:
                asyncio.run(serve_async(ctx))
        except KeyboardInterrupt:
            pass
        finally:
            ctx.close()
