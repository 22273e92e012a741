"""Which engines this installation has, built from the settings. Heavy imports stay inside."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from babelwire.config import Settings
from babelwire.translate.base import Engine

if TYPE_CHECKING:
    from babelwire.translate.router import Router

log = logging.getLogger("babelwire.translate")
KNOWN = ("apertium", "argos", "apy", "libretranslate")


def load_engines(settings: Settings) -> list[Engine]:
    """The configured engines that can run here, in the settings' order. An engine that
    is configured but unusable is left out with a log line saying why."""
    engines: list[Engine] = []
    for name in settings.engines:
        if name not in KNOWN:
            raise ValueError(f"unknown translation engine {name!r} (known: {', '.join(KNOWN)})")
        try:
            engine = _build(name, settings)
        except Exception as exc:  # one broken engine must not stop the others
            log.warning("engine %s unavailable: %s", name, exc)
            continue
        if engine is not None:
            engines.append(engine)
    return engines


def build_router(settings: Settings, *, engine: str | None = None) -> Router:
    """The router over the configured engines, with the settings' preferences and quality
    table; `engine` builds that engine alone (the others are never started)."""
    from babelwire.translate.quality import load_table
    from babelwire.translate.router import Router, parse_preferences

    if engine is not None:
        settings = replace(settings, engines=tuple(e for e in settings.engines if e == engine))
    return Router(load_engines(settings),
                  preferences=parse_preferences(settings.engine_preferences),
                  table=load_table(settings.quality_table_path),
                  min_quality=settings.translate_min_quality)


def _build(name: str, settings: Settings) -> Engine | None:
    if name == "apertium":
        from babelwire.translate import apertium

        if not apertium.available():
            log.info("apertium is not installed")
            return None
        return apertium.ApertiumEngine(timeout=settings.apertium_timeout,
                                       keep_names=settings.keep_names,
                                       idle_seconds=settings.apertium_idle_seconds,
                                       max_warm_pairs=settings.apertium_max_warm_pairs)
    if name == "argos":
        from babelwire.translate import argos

        engine = argos.ArgosEngine(settings.models_path)
        # Kept even with no model yet: it rescans the models directory, so a model that
        # `babelwire models install` adds is routed at once by a running process.
        return engine if engine.runnable else None
    if name == "apy":
        if not settings.apy_url:
            return None
        from babelwire.translate.apy import ApyEngine

        return ApyEngine(settings.apy_url)
    if name == "libretranslate":
        if not settings.libretranslate_url:
            return None
        from babelwire.translate.libretranslate import LibreTranslateEngine

        return LibreTranslateEngine(settings.libretranslate_url,
                                    api_key=settings.libretranslate_api_key)
    return None
