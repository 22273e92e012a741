"""The fundus test pages (../shared/data/fundus-parser-testdata) as one WARC, and the
article each record became once imported: what the "every real article is stored"
test and the per-language figures are measured on."""

from __future__ import annotations

import gzip
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass(frozen=True)
class FundusEntry:
    path: Path
    url: str
    language: str
    publisher: str


def fundus_entries(root: Path) -> list[FundusEntry]:
    """Every page of the fundus test data, in the index's order."""
    index = json.loads((root / "index.derived.json").read_text(encoding="utf-8"))
    return [FundusEntry(path=root / e["html"], url=e["url"], language=e["language"],
                        publisher=f"{e['country_group']}/{e['publisher']}") for e in index]


def write_fundus_warc(entries: list[FundusEntry], out: Path) -> None:
    """One response record per page (200, text/html, no charset: the page says)."""
    with out.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for e in entries:
            body = gzip.decompress(e.path.read_bytes())
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                e.url, "response", payload=io.BytesIO(body), length=len(body),
                http_headers=http))


def per_language(rows: list[tuple[str, str]]) -> dict[str, Counter[str]]:
    """(language, status) pairs -> language -> status -> count."""
    out: dict[str, Counter[str]] = {}
    for lang, status in rows:
        out.setdefault(lang, Counter())[status] += 1
    return dict(sorted(out.items()))
