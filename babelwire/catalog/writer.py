"""Write sources as a catalogue TOML file (tomllib only reads): for OPML import and tools."""

from __future__ import annotations

import json
from collections.abc import Iterable

from babelwire.catalog.loader import CatalogError
from babelwire.catalog.model import SourceSpec

__all__ = ["country_toml"]


def _string(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes) for every text we write.
    return json.dumps(value, ensure_ascii=False)


def _array(key: str, values: Iterable[str]) -> str:
    items = [_string(v) for v in values]
    inline = f"{key} = [{', '.join(items)}]"
    if len(items) <= 1 or len(inline) <= 100:
        return inline
    return f"{key} = [\n" + "".join(f"    {item},\n" for item in items) + "]"


def country_toml(country: str, sources: Iterable[SourceSpec]) -> str:
    """The text of ``<country>.toml`` holding ``sources`` (all of that country), by id."""
    country = country.upper()
    lines = [f"country = {_string(country)}", ""]
    for spec in sorted(sources, key=lambda s: s.id):
        if spec.country.upper() != country:
            raise CatalogError(f"source {spec.id!r} is from {spec.country}, not {country}")
        lines += [
            "[[source]]",
            f"id = {_string(spec.id)}",
            f"name = {_string(spec.name)}",
            f"homepage = {_string(spec.homepage)}",
            _array("languages", spec.languages),
        ]
        if spec.feeds:
            lines.append(_array("feeds", spec.feeds))
        if spec.sitemaps:
            lines.append(_array("sitemaps", spec.sitemaps))
        if spec.logo is not None:
            lines.append(f"logo = {_string(spec.logo)}")
        if spec.policy != "full_text":
            lines.append(f"policy = {_string(spec.policy)}")
        if spec.opt_out:
            lines.append("opt_out = true")
        if spec.aliases:
            lines.append(_array("aliases", spec.aliases))
        lines.append("")
    return "\n".join(lines)
