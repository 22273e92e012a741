"""The demo newsroom's content: fictional publishers and their articles, stored as TOML.

One file per publisher under ``data/``; ``data/chrome.toml`` holds the page-chrome strings
(menus, cookie banner, footer) per language. Article bodies use a tiny line format:
paragraphs separated by blank lines, ``## `` for a subheading, ``> `` for a block quote and
``- `` for the items of a bulleted list.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

DATA_DIR = Path(__file__).resolve().parent / "data"

BlockKind = Literal["p", "h2", "quote", "li"]
FeedFormat = Literal["rss", "atom", "json"]
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Block:
    """One text block of an article body."""

    kind: BlockKind
    text: str


@dataclass(frozen=True)
class Section:
    slug: str
    name: str


@dataclass(frozen=True)
class Insert:
    """A recurring publisher box placed inside every article body (appeal, teaser...)."""

    kind: str  # CSS hook: "donation", "newsletter", "teaser"
    paragraphs: tuple[str, ...]
    title: str | None = None
    button: str | None = None
    after: int | None = None  # body blocks before it; None: at the end of the article

    @property
    def texts(self) -> list[str]:
        return [t for t in (self.title, *self.paragraphs, self.button) if t]


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored: its age rather than an absolute date."""

    site: str
    slug: str
    section: str
    title: str
    summary: str
    author: str
    age_hours: float
    blocks: tuple[Block, ...]
    story: str | None = None
    wire_of: str | None = None  # "site/section/slug" of the original agency copy

    @property
    def path(self) -> str:
        return f"{self.site}/{self.section}/{self.slug}.html"


@dataclass(frozen=True)
class Publisher:
    id: str
    name: str
    country: str
    language: str
    locale: str  # og:locale, e.g. "en_GB"
    utc_offset: str  # local time zone of the newsroom, "+03:00"
    style: str  # template family under templates/
    feed: FeedFormat
    tagline: str
    color: str
    sections: tuple[Section, ...]
    about: tuple[str, ...]
    articles: tuple[StoredArticle, ...]
    policy: Literal["full_text", "excerpt"] = "full_text"
    news_sitemap: bool = False
    jsonld: bool = False
    private_path: str | None = None  # a page under /<site>/private/ that robots.txt forbids
    inserts: tuple[Insert, ...] = ()
    bios: dict[str, str] = field(default_factory=dict)

    def section(self, slug: str) -> Section:
        for section in self.sections:
            if section.slug == slug:
                return section
        raise KeyError(slug)

    @property
    def feed_path(self) -> str:
        name = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}[self.feed]
        return f"{self.id}/{name}"

    @property
    def appeal_texts(self) -> list[str]:
        texts = [text for insert in self.inserts for text in insert.texts]
        texts.extend(self.bios.values())
        return texts


def parse_body(body: str) -> tuple[Block, ...]:
    """Split the body's line format into blocks; list items become one block each."""
    blocks: list[Block] = []
    for chunk in body.strip().split("\n\n"):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            blocks.extend(Block("li", line[2:].strip()) for line in lines)
        elif lines[0].startswith("## "):
            blocks.append(Block("h2", " ".join(lines)[3:].strip()))
        elif lines[0].startswith("> "):
            text = " ".join(line.removeprefix("> ").strip() for line in lines)
            blocks.append(Block("quote", text))
        else:
            blocks.append(Block("p", " ".join(lines)))
    return tuple(blocks)


def _article(site: str, raw: dict[str, Any], bodies: dict[str, tuple[Block, ...]]) -> StoredArticle:
    if not SLUG.fullmatch(raw["slug"]):
        raise ValueError(f"{site}: article slug must be lower-case ASCII words: {raw['slug']!r}")
    wire_of = raw.get("wire_of")
    blocks = parse_body(raw["body"]) if "body" in raw else bodies[str(wire_of)]
    return StoredArticle(
        site=site,
        slug=raw["slug"],
        section=raw["section"],
        title=raw["title"],
        summary=raw["summary"],
        author=raw["author"],
        age_hours=float(raw["age_hours"]),
        blocks=blocks,
        story=raw.get("story"),
        wire_of=wire_of,
    )


def _publisher(raw: dict[str, Any], bodies: dict[str, tuple[Block, ...]]) -> Publisher:
    site = raw["id"]
    return Publisher(
        id=site,
        name=raw["name"],
        country=raw["country"],
        language=raw["language"],
        locale=raw["locale"],
        utc_offset=raw["utc_offset"],
        style=raw["style"],
        feed=raw["feed"],
        tagline=raw["tagline"],
        color=raw["color"],
        sections=tuple(Section(s["slug"], s["name"]) for s in raw["sections"]),
        about=tuple(raw["about"]),
        articles=tuple(_article(site, a, bodies) for a in raw["articles"]),
        policy=raw.get("policy", "full_text"),
        news_sitemap=raw.get("news_sitemap", False),
        jsonld=raw.get("jsonld", False),
        private_path=raw.get("private_path"),
        inserts=tuple(
            Insert(
                kind=i["kind"],
                paragraphs=tuple(i["paragraphs"]),
                title=i.get("title"),
                button=i.get("button"),
                after=i.get("after"),
            )
            for i in raw.get("inserts", ())
        ),
        bios=dict(raw.get("bios", {})),
    )


@cache
def load_publishers(data_dir: Path = DATA_DIR) -> tuple[Publisher, ...]:
    """Every publisher file in ``data_dir``, sorted by id.

    A wire copy without a body of its own gets its original's body, verbatim.
    """
    raws = [
        tomllib.loads(path.read_text(encoding="utf-8"))
        for path in sorted(data_dir.glob("*.toml"))
        if path.name != "chrome.toml"
    ]
    bodies = {
        f"{raw['id']}/{a['section']}/{a['slug']}": parse_body(a["body"])
        for raw in raws
        for a in raw["articles"]
        if "body" in a
    }
    return tuple(sorted((_publisher(raw, bodies) for raw in raws), key=lambda p: p.id))


@cache
def load_chrome(data_dir: Path = DATA_DIR) -> dict[str, dict[str, Any]]:
    """Page-chrome strings keyed by language code."""
    return tomllib.loads((data_dir / "chrome.toml").read_text(encoding="utf-8"))
