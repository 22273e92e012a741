"""Parse sitemaps: Google News sitemaps, plain <urlset> sitemaps and sitemap indexes.

Parsing uses lxml with entity resolution, DTD loading and network access all off, after
`check_xml_safety` has refused any DOCTYPE that declares entities. Gzip-compressed content is
inflated up to `MAX_INFLATED_BYTES` (the sitemap protocol's own limit is 50 MB).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import datetime

from lxml import etree

from babelwire.ingest.feeds import (
    FeedEntry,
    FeedError,
    FeedKind,
    ParsedFeed,
    absolute_http_url,
    check_xml_safety,
    clean_text,
    finish_entries,
    normalize_language,
    parse_date,
)

MAX_INFLATED_BYTES = 64 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(content: bytes) -> bool:
    """Whether `content` is a gzip stream (served as .xml.gz without Content-Encoding)."""
    return content[:2] == _GZIP_MAGIC


def gunzip(content: bytes, *, max_size: int = MAX_INFLATED_BYTES) -> bytes:
    """Inflate a gzip stream, refusing to produce more than `max_size` bytes.

    A truncated stream yields what could be inflated (the XML parser then recovers what it
    can); a corrupt one raises FeedError("malformed"), a bomb FeedError("too_large").
    """
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(content, max_size + 1)
    except zlib.error as exc:
        raise FeedError("malformed", f"bad gzip data: {exc}") from exc
    if len(out) > max_size:
        raise FeedError("too_large", f"gzip content inflates past {max_size} bytes")
    if not out and not inflater.eof:
        raise FeedError("malformed", "truncated gzip data")
    return out


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return ""
    return tag.rpartition("}")[2].lower()  # "{namespace}name" -> "name"


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    return (child for child in element if _local(child) == name)


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in _children(element, name):
        text = (child.text or "").strip()
        if text:
            return text
    return None


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, recover=True,
                           remove_comments=True, remove_pis=True)


def _url_entry(node: etree._Element, base: str) -> tuple[FeedEntry | None, bool, str | None]:
    """One <url>: its entry (None without a usable <loc>), whether it has <news:news>, and
    the publication name."""
    link = absolute_http_url(_child_text(node, "loc"), base)
    news = next(_children(node, "news"), None)
    if link is None:
        return None, news is not None, None
    title = published = language = publication_name = None
    if news is not None:
        publication = next(_children(news, "publication"), None)
        if publication is not None:
            publication_name = clean_text(_child_text(publication, "name"), is_html=False)
            language = normalize_language(_child_text(publication, "language"))
        title = clean_text(_child_text(news, "title"), is_html=False)
        published = parse_date(_child_text(news, "publication_date"))
    image = None
    for image_node in _children(node, "image"):
        image = absolute_http_url(_child_text(image_node, "loc"), link)
        if image:
            break
    entry = FeedEntry(url=link, title=title, summary=None, published=published,
                      updated=parse_date(_child_text(node, "lastmod")),
                      authors=(), language=language, image=image, guid=None)
    return entry, news is not None, publication_name


def _child_sitemaps(root: etree._Element, base: str,
                    max_entries: int) -> tuple[tuple[str, ...], list[str]]:
    found: list[tuple[datetime | None, str]] = []
    seen: set[str] = set()
    for node in _children(root, "sitemap"):
        loc = absolute_http_url(_child_text(node, "loc"), base)
        if loc and loc not in seen:
            seen.add(loc)
            found.append((parse_date(_child_text(node, "lastmod")), loc))
    found.sort(key=lambda item: (0, -item[0].timestamp()) if item[0] else (1, 0.0))
    warnings = []
    if len(found) > max_entries:
        warnings.append(f"{len(found)} child sitemaps, kept the newest {max_entries}")
    return tuple(loc for _, loc in found[:max(max_entries, 0)]), warnings


def parse_sitemap(content: bytes, *, url: str, max_entries: int = 200) -> ParsedFeed:
    """Parse a sitemap fetched from `url` (gzip or not) into a `ParsedFeed`.

    - <urlset> with <news:news> elements -> kind "news_sitemap": title, publication date and
      language from the news block, feed title from the first publication name;
    - plain <urlset> -> kind "sitemap": <lastmod> as the entry's `updated`;
    - <sitemapindex> -> kind "sitemap_index": `child_sitemaps`, newest <lastmod> first.
    Entries are sorted newest first, deduplicated by URL and capped at `max_entries`, as in
    `parse_feed`. Raises FeedError ("empty", "malformed", "not_a_feed", "unsafe_xml",
    "too_large").
    """
    if is_gzip(content):
        content = gunzip(content)
    if not content.strip():
        raise FeedError("empty", "no content")
    check_xml_safety(content)
    parser = _make_parser()
    try:
        root = etree.fromstring(content.lstrip(), parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError("malformed", str(exc)) from exc
    if root is None:
        raise FeedError("malformed", "no XML element could be read")
    warnings: list[str] = []
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if errors:
        warnings.append(f"recovered from malformed XML: {errors[0].message} "
                        f"(line {errors[0].line})")
    name = _local(root)
    if name == "sitemapindex":
        children, more = _child_sitemaps(root, url, max_entries)
        return ParsedFeed(kind="sitemap_index", title=None, link=None, language=None,
                          entries=(), child_sitemaps=children, warnings=tuple(warnings + more))
    if name != "urlset":
        raise FeedError("not_a_feed", f"root element <{name}> is not a sitemap")

    entries: list[FeedEntry] = []
    is_news, publication, language, skipped = False, None, None, 0
    for node in _children(root, "url"):
        entry, has_news, name_found = _url_entry(node, url)
        is_news = is_news or has_news
        publication = publication or name_found
        if entry is None:
            skipped += 1
            continue
        language = language or entry.language
        entries.append(entry)
    if skipped:
        warnings.append(f"{skipped} <url> elements without a usable http(s) <loc> skipped")
    kept, more = finish_entries(entries, max_entries=max_entries)
    kind: FeedKind = "news_sitemap" if is_news else "sitemap"
    return ParsedFeed(kind=kind, title=publication, link=None, language=language,
                      entries=kept, warnings=tuple(warnings + more))
