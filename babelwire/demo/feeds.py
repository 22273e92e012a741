"""Feeds of the demo sites: RSS 2.0, Atom 1.0, JSON Feed 1.1 and a Google News sitemap."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from babelwire.demo.publishers import Publisher


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str
    summary: str
    author: str
    published: datetime  # aware
    category: str


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _updated(entries: Sequence[FeedEntry], fallback: datetime) -> datetime:
    return max((e.published for e in entries), default=fallback)


def rss(pub: Publisher, site_url: str, feed_url: str, entries: Sequence[FeedEntry],
        now: datetime) -> str:
    items = "".join(
        f"""
    <item>
      <title>{escape(e.title)}</title>
      <link>{escape(e.url)}</link>
      <guid isPermaLink="true">{escape(e.url)}</guid>
      <pubDate>{format_datetime(e.published)}</pubDate>
      <dc:creator>{escape(e.author)}</dc:creator>
      <category>{escape(e.category)}</category>
      <description>{escape(e.summary)}</description>
    </item>"""
        for e in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>{escape(pub.name)}</title>
    <link>{escape(site_url)}</link>
    <description>{escape(pub.tagline)}</description>
    <language>{pub.language}</language>
    <lastBuildDate>{format_datetime(_updated(entries, now))}</lastBuildDate>
    <atom:link href={quoteattr(feed_url)} rel="self" type="application/rss+xml"/>{items}
  </channel>
</rss>
"""


def atom(pub: Publisher, site_url: str, feed_url: str, entries: Sequence[FeedEntry],
         now: datetime) -> str:
    items = "".join(
        f"""
  <entry>
    <title>{escape(e.title)}</title>
    <link rel="alternate" type="text/html" href={quoteattr(e.url)}/>
    <id>{escape(e.url)}</id>
    <published>{_iso(e.published)}</published>
    <updated>{_iso(e.published)}</updated>
    <author><name>{escape(e.author)}</name></author>
    <category term={quoteattr(e.category)}/>
    <summary type="text">{escape(e.summary)}</summary>
  </entry>"""
        for e in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{pub.language}">
  <title>{escape(pub.name)}</title>
  <subtitle>{escape(pub.tagline)}</subtitle>
  <link rel="alternate" type="text/html" href={quoteattr(site_url)}/>
  <link rel="self" type="application/atom+xml" href={quoteattr(feed_url)}/>
  <id>{escape(site_url)}</id>
  <updated>{_iso(_updated(entries, now))}</updated>{items}
</feed>
"""


def json_feed(pub: Publisher, site_url: str, feed_url: str, entries: Sequence[FeedEntry],
              icon_url: str) -> str:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": pub.name,
        "home_page_url": site_url,
        "feed_url": feed_url,
        "description": pub.tagline,
        "icon": icon_url,
        "language": pub.language,
        "items": [
            {
                "id": e.url,
                "url": e.url,
                "title": e.title,
                "summary": e.summary,
                "content_text": e.summary,
                "date_published": _iso(e.published),
                "authors": [{"name": e.author}],
                "tags": [e.category],
            }
            for e in entries
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def news_sitemap(pub: Publisher, entries: Sequence[FeedEntry]) -> str:
    urls = "".join(
        f"""
  <url>
    <loc>{escape(e.url)}</loc>
    <lastmod>{_iso(e.published)}</lastmod>
    <news:news>
      <news:publication>
        <news:name>{escape(pub.name)}</news:name>
        <news:language>{pub.language}</news:language>
      </news:publication>
      <news:publication_date>{_iso(e.published)}</news:publication_date>
      <news:title>{escape(e.title)}</news:title>
    </news:news>
  </url>"""
        for e in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}
</urlset>
"""
