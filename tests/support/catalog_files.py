"""Write source specs as catalogue files (for tests that run the real CLI on them)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from babelwire.catalog.model import SourceSpec


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML string


def write_catalog(specs: Iterable[SourceSpec], directory: Path) -> Path:
    by_country: dict[str, list[SourceSpec]] = defaultdict(list)
    for spec in specs:
        by_country[spec.country].append(spec)
    directory.mkdir(parents=True, exist_ok=True)
    for country, group in by_country.items():
        lines = [f"country = {_toml_value(country)}", ""]
        for spec in group:
            lines.append("[[source]]")
            for key in ("id", "name", "homepage", "languages", "feeds", "sitemaps", "logo",
                        "policy", "opt_out", "aliases"):
                value = getattr(spec, key)
                if value is None or (key == "aliases" and not value):
                    continue
                lines.append(f"{key} = {_toml_value(value)}")
            lines.append("")
        (directory / f"{country.lower()}.toml").write_text("\n".join(lines), encoding="utf-8")
    return directory
