"""A publisher as the catalogue declares it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

Policy = Literal["full_text", "excerpt"]


@dataclass(frozen=True)
class SourceSpec:
    """One publisher: identity, where its news is announced, and how we may use it."""

    id: str  # slug, unique across the catalogue: "moscow-times"
    name: str  # "The Moscow Times"
    homepage: str  # "https://www.themoscowtimes.com/"
    country: str  # ISO 3166-1 alpha-2, upper case: "RU"
    languages: tuple[str, ...]  # BCP 47: ("en",), ("ru",)
    feeds: tuple[str, ...] = ()  # RSS / Atom / JSON Feed URLs
    sitemaps: tuple[str, ...] = ()  # Google News sitemap URLs
    logo: str | None = None
    policy: Policy = "full_text"
    opt_out: bool = False
    # Extra URL prefixes or host names that belong to this publisher (mirrors, CDNs).
    aliases: tuple[str, ...] = field(default=())

    @property
    def host(self) -> str:
        host = (urlsplit(self.homepage).hostname or "").lower()
        return host[4:] if host.startswith("www.") else host
