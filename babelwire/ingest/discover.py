"""Find a site's feeds from its homepage HTML (no network: the caller fetches)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

FEED_TYPES = frozenset({
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
})
# Where sites commonly publish a feed without announcing it; tried in this order.
COMMON_FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml")


class _AlternateLinks(HTMLParser):
    """Collects <base href> (the first one) and <link rel="alternate"> feed hrefs in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag == "base" and self.base is None and values.get("href", "").strip():
            self.base = values["href"].strip()
        elif tag == "link":
            rels = values.get("rel", "").lower().split()
            mime = values.get("type", "").split(";")[0].strip().lower()
            href = values.get("href", "").strip()
            if "alternate" in rels and mime in FEED_TYPES and href:
                if mime == "application/json" and "/wp-json/" in href:
                    return  # WordPress announces its REST API this way, not a feed
                self.hrefs.append(href)

    handle_startendtag = handle_starttag


def discover_feeds(html: str, base_url: str) -> list[str]:
    """Feed URLs announced by `<link rel="alternate">` in a page, absolute, in page order.

    Types: RSS, Atom, JSON Feed (application/feed+json and application/json, except
    WordPress's /wp-json/ REST links). Relative hrefs are resolved against the page's
    `<base href>` (itself resolved against `base_url`) or `base_url`. Only http(s) URLs are
    returned, deduplicated, fragments removed.
    """
    parser = _AlternateLinks()
    parser.feed(html)
    parser.close()
    base = urljoin(base_url, parser.base) if parser.base else base_url
    found: list[str] = []
    for href in parser.hrefs:
        try:
            parts = urlsplit(urljoin(base, href))
        except ValueError:
            continue
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            continue
        url = urlunsplit(parts._replace(fragment=""))
        if url not in found:
            found.append(url)
    return found


def guess_feed_urls(base_url: str) -> list[str]:
    """Common feed locations at the root of `base_url`'s site, for the caller to try when
    a page announces none: /feed, /rss, /rss.xml, /atom.xml, /feed.xml, /index.xml."""
    parts = urlsplit(base_url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return []
    return [urlunsplit((parts.scheme.lower(), parts.netloc, path, "", ""))
            for path in COMMON_FEED_PATHS]
