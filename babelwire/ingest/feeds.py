"""Parse a fetched feed (RSS 0.9x/1.0/2.0, Atom, JSON Feed, sitemaps) into entries.

Pure functions over bytes: nothing here touches the network or the file system.
`parse_feed` sniffs the format: JSON Feed is read here, sitemaps go to `sitemaps.py`, and
everything else goes to feedparser, but only after a check of the XML prolog has refused any
document type declaration that declares entities (billion laughs, external entities).
"""

from __future__ import annotations

import calendar
import email.utils
import html
import io
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser

FeedKind = Literal["rss", "atom", "json", "news_sitemap", "sitemap_index", "sitemap"]

# Dates further ahead than this are treated as wrong (time zone slips of a few hours are not).
FUTURE_TOLERANCE = timedelta(days=1)
# Summaries are blurbs: longer text (a whole article in <description>) is cut at a word.
MAX_SUMMARY_CHARS = 1000

_JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.\d+)?/?$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
# Month names (3- or 4-letter prefixes) in the languages feeds localize RFC 822 dates into.
_MONTHS = {
    **dict.fromkeys(("jan", "ene", "gen", "janv"), "Jan"),
    **dict.fromkeys(("feb", "fev", "fév", "févr", "fevr"), "Feb"),
    **dict.fromkeys(("mar", "mär", "mrz", "mrt", "mars"), "Mar"),
    **dict.fromkeys(("apr", "abr", "avr"), "Apr"),
    **dict.fromkeys(("may", "mai", "mag", "mei"), "May"),
    **dict.fromkeys(("jun", "giu", "juin"), "Jun"),
    **dict.fromkeys(("jul", "lug", "juil"), "Jul"),
    **dict.fromkeys(("aug", "ago", "aoû", "aou", "août"), "Aug"),
    **dict.fromkeys(("sep", "set", "sept"), "Sep"),
    **dict.fromkeys(("oct", "out", "ott", "okt"), "Oct"),
    **dict.fromkeys(("nov",), "Nov"),
    **dict.fromkeys(("dec", "dic", "dez", "déc"), "Dec"),
}


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed: an article URL and what the feed says about it."""

    url: str  # absolute http(s) URL, resolved against the feed URL
    title: str | None
    summary: str | None  # plain text, HTML stripped
    published: datetime | None  # timezone-aware UTC
    updated: datetime | None  # timezone-aware UTC
    authors: tuple[str, ...]
    language: str | None  # BCP 47 ("en", "pt-BR"), from the entry or else the feed
    image: str | None  # absolute URL
    guid: str | None


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed: newest entries first, deduplicated by URL, at most `max_entries`."""

    kind: FeedKind
    title: str | None
    link: str | None
    language: str | None
    entries: tuple[FeedEntry, ...]
    child_sitemaps: tuple[str, ...] = ()  # sitemap indexes only: newest first
    warnings: tuple[str, ...] = ()


class FeedError(ValueError):
    """The content is not a usable feed.

    `reason` is one of: "empty", "malformed", "not_a_feed", "unsafe_xml" (a DOCTYPE declaring
    entities), "too_large" (a compressed sitemap that inflates past the cap).
    """

    def __init__(self, reason: str, detail: str | None = None) -> None:
        self.reason = reason
        self.detail = " ".join((detail or "").split())
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"feed {self.reason}: {self.detail}" if self.detail else f"feed {self.reason}"


# --------------------------------------------------------------------------- entry point


def parse_feed(content: bytes, *, url: str, content_type: str | None = None,
               max_entries: int = 200) -> ParsedFeed:
    """Parse feed bytes fetched from `url` into a `ParsedFeed`; raise `FeedError` if unusable.

    `content_type` is the HTTP Content-Type (its charset counts, as RFC 3023 says).
    Entries come newest first (undated ones last, in document order), deduplicated by URL,
    capped at `max_entries`. Recoverable problems (encoding overrides, XML recovered by the
    loose parser, dates in the future) are reported in `warnings`.
    """
    from babelwire.ingest import sitemaps  # sitemaps.py builds on the types above

    if sitemaps.is_gzip(content):
        content = sitemaps.gunzip(content)
    if not content.strip():
        raise FeedError("empty", "no content")
    if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return _parse_json_feed(content, url=url, max_entries=max_entries)
    prolog = read_prolog(content)
    if prolog.root is None:
        if content_type and "json" in content_type.lower():
            return _parse_json_feed(content, url=url, max_entries=max_entries)
        raise FeedError("not_a_feed", "no XML element found")
    root = prolog.root.rsplit(":", 1)[-1].lower()
    if root == "html" or prolog.doctype.lower().startswith("<!doctype html"):
        raise FeedError("not_a_feed", "an HTML page, not a feed")
    if root in _SITEMAP_ROOTS:
        return sitemaps.parse_sitemap(content, url=url, max_entries=max_entries)
    return _parse_with_feedparser(content, url=url, content_type=content_type,
                                  max_entries=max_entries)


# --------------------------------------------------------------------------- XML safety


@dataclass(frozen=True)
class Prolog:
    """What precedes the root element: the DOCTYPE text (or "") and the root's name."""

    doctype: str
    root: str | None


def _sniff_text(content: bytes) -> str:
    """Decode enough of the document to read its markup (ASCII-compatible or UTF-16/32)."""
    for bom, codec in ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
                       (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le")):
        if content.startswith(bom):
            return content[len(bom):].decode(codec, errors="replace")
    if content.startswith(b"\x00<"):
        return content.decode("utf-16-be", errors="replace")
    if content.startswith(b"<\x00"):
        return content.decode("utf-16-le", errors="replace")
    return content.decode("latin-1")


def _skip_past(text: str, pos: int, end: str) -> int:
    found = text.find(end, pos)
    return len(text) if found < 0 else found + len(end)


_DOCTYPE_SPECIAL = re.compile(r"[\"'<\[\]>]")
_BLANKS = re.compile(r"[ \t\r\n\ufeff\xef\xbb\xbf]+")
_ELEMENT = re.compile(r"<([A-Za-z_][\w:.\-]*)")


def _read_doctype(text: str, pos: int) -> int:
    """Return the index just past the DOCTYPE starting at `pos` (quotes, comments, subset)."""
    i, n, in_subset = pos + len("<!DOCTYPE"), len(text), False
    while i < n:
        special = _DOCTYPE_SPECIAL.search(text, i)
        if special is None:
            return n
        i = special.start()
        c = text[i]
        if c in "\"'":
            i = _skip_past(text, i + 1, c)
        elif in_subset and text.startswith("<!--", i):
            i = _skip_past(text, i + 4, "-->")
        elif in_subset and text.startswith("<?", i):
            i = _skip_past(text, i + 2, "?>")
        elif c == "[" and not in_subset:
            in_subset, i = True, i + 1
        elif c == "]" and in_subset:
            in_subset, i = False, i + 1
        elif c == ">" and not in_subset:
            return i + 1
        else:
            i += 1
    return n


def read_prolog(content: bytes) -> Prolog:
    """Read the XML prolog: skip the declaration, comments and PIs; capture the DOCTYPE."""
    text = _sniff_text(content)
    i, n, doctype = 0, len(text), ""
    while i < n:
        blanks = _BLANKS.match(text, i)
        if blanks:
            i = blanks.end()
        elif text.startswith("<?", i):
            i = _skip_past(text, i + 2, "?>")
        elif text.startswith("<!--", i):
            i = _skip_past(text, i + 4, "-->")
        elif text[i:i + 9].upper() == "<!DOCTYPE":
            end = _read_doctype(text, i)
            doctype, i = doctype + text[i:end], end
        elif text.startswith("<", i):
            m = _ELEMENT.match(text, i)
            return Prolog(doctype=doctype, root=m.group(1) if m else None)
        else:
            # Text before any element: not well-formed XML. Whatever precedes the first
            # element counts as prolog, so that no declaration can hide behind the junk.
            m = _ELEMENT.search(text, i)
            end = m.start() if m else n
            return Prolog(doctype=doctype + text[i:end], root=m.group(1) if m else None)
    return Prolog(doctype=doctype, root=None)


def check_xml_safety(content: bytes) -> Prolog:
    """Refuse a document whose DOCTYPE declares entities; return its prolog otherwise.

    Entity declarations are how billion-laughs and external-entity (XXE) attacks work, and
    feeds have no use for them. A DOCTYPE that only names an external DTD (RSS 0.91's
    Netscape one) is allowed: nothing here or in feedparser ever fetches it.
    """
    prolog = read_prolog(content)
    if "<!entity" in prolog.doctype.lower():
        raise FeedError("unsafe_xml", "the DOCTYPE declares entities; refused")
    return prolog


# --------------------------------------------------------------------------- shared helpers


def utc_from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's `*_parsed` (a UTC struct_time) as an aware datetime."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def parse_iso_datetime(value: object) -> datetime | None:
    """An RFC 3339 / W3C date-time ("2024-05-01T10:00:00+02:00", "...Z", "2024-05-01")."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}", text):
        text += "-01-01"
    elif re.fullmatch(r"\d{4}-\d{2}", text):
        text += "-01"
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)  # +0200 -> +02:00
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _english_months(text: str) -> str:
    def month(match: re.Match[str]) -> str:
        word = match.group(0).lower().rstrip(".")
        return _MONTHS.get(word[:4]) or _MONTHS.get(word[:3]) or match.group(0)

    return re.sub(r"[^\W\d_]+\.?", month, text)


def parse_date(value: object) -> datetime | None:
    """A date as feeds write them, as aware UTC: RFC 3339 / W3C, RFC 822, or RFC 822 with
    localized names ("Seg, 24 Set 2018 19:42:40 -0300", "mer, 16 nov 2022 ...")."""
    if not isinstance(value, str) or not value.strip():
        return None
    parsed = parse_iso_datetime(value)
    if parsed is not None:
        return parsed
    text = " ".join(value.split())
    text = text.split(",", 1)[1] if re.match(r"^[^\W\d_]+\.?,", text) else text
    for candidate in (text, _english_months(text)):
        try:
            when = email.utils.parsedate_to_datetime(candidate)
        except (TypeError, ValueError, IndexError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC)
    return None


def normalize_language(value: object) -> str | None:
    """A BCP 47 tag in canonical case ("en-us" -> "en-US", "pt_br" -> "pt-BR"), or None."""
    if not isinstance(value, str):
        return None
    tag = value.strip().replace("_", "-")
    if not _LANGUAGE_TAG.match(tag):
        return None
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 2 and part.isalpha():
            out.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        else:
            out.append(part.lower())
    return "-".join(out)


def absolute_http_url(value: object, base: str) -> str | None:
    """`value` resolved against `base` when the result is an http(s) URL with a host."""
    if not isinstance(value, str):
        return None
    candidate = value.strip()
    if not candidate:
        return None
    try:
        absolute = candidate[:8].lower().startswith(("http://", "https://"))
        resolved = candidate if absolute else urljoin(base, candidate)
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if not parts.path:  # "https://example.com" and "https://example.com/" are one URL
        resolved = urlunsplit(parts._replace(path="/"))
    return resolved


class _TextExtractor(HTMLParser):
    """HTML to plain text; also remembers the first <img src>."""

    _BLOCKS = frozenset({"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
                         "h6", "tr", "td", "th", "blockquote", "figure", "figcaption",
                         "section", "article", "header", "footer", "pre", "hr", "table"})
    _SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "object"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.first_image: str | None = None
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append(" ")
        if tag == "img" and self.first_image is None:
            self.first_image = dict(attrs).get("src")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, str | None]:
    """Plain text of an HTML fragment (whitespace collapsed) and its first image source."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return " ".join("".join(parser.parts).split()), parser.first_image


def clean_text(value: object, *, is_html: bool, limit: int | None = None) -> str | None:
    """Plain, whitespace-collapsed text (HTML stripped when `is_html`), or None when empty."""
    if not isinstance(value, str):
        return None
    text = html_to_text(value)[0] if is_html else " ".join(html.unescape(value).split())
    if limit is not None and len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        text = cut.rstrip(" ,;:.") + "…"
    return text or None


def finish_entries(entries: Iterable[FeedEntry], *, max_entries: int,
                   now: datetime | None = None) -> tuple[tuple[FeedEntry, ...], list[str]]:
    """Drop future dates, sort newest first (undated last, stable), dedupe by URL, cap."""
    limit = (now or datetime.now(UTC)) + FUTURE_TOLERANCE
    warnings: list[str] = []
    checked: list[FeedEntry] = []
    future: list[FeedEntry] = []
    for entry in entries:
        published = entry.published if entry.published and entry.published <= limit else None
        updated = entry.updated if entry.updated and entry.updated <= limit else None
        if (published, updated) != (entry.published, entry.updated):
            future.append(entry)
            entry = replace(entry, published=published, updated=updated)
        checked.append(entry)
    if future:
        first = future[0]
        when = max(d for d in (first.published, first.updated) if d is not None)
        warnings.append(f"{len(future)} entries dated in the future: dates dropped "
                        f"(first: {first.url} at {when.isoformat()})")

    def newest_first(entry: FeedEntry) -> tuple[int, float]:
        when = entry.published or entry.updated
        return (0, -when.timestamp()) if when else (1, 0.0)

    seen: set[str] = set()
    kept: list[FeedEntry] = []
    for entry in sorted(checked, key=newest_first):
        if entry.url in seen:
            continue
        seen.add(entry.url)
        kept.append(entry)
    if len(kept) > max_entries:
        warnings.append(f"{len(kept)} entries, kept the newest {max_entries}")
    return tuple(kept[:max(max_entries, 0)]), warnings


# --------------------------------------------------------------------------- JSON Feed


def _json_authors(obj: dict[str, Any]) -> tuple[str, ...]:
    raw = obj.get("authors")
    if not isinstance(raw, list):
        raw = [obj["author"]] if isinstance(obj.get("author"), dict) else []
    names = [a.get("name") for a in raw if isinstance(a, dict)]
    return tuple(dict.fromkeys(n.strip() for n in names if isinstance(n, str) and n.strip()))


def _parse_json_feed(content: bytes, *, url: str, max_entries: int) -> ParsedFeed:
    try:
        doc = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError("malformed", f"invalid JSON: {exc}") from exc
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not _JSON_FEED_VERSION.match(version.strip()):
        raise FeedError("not_a_feed", "JSON without a JSON Feed version")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError("malformed", "JSON Feed without an items list")
    feed_language = normalize_language(doc.get("language"))
    feed_authors = _json_authors(doc)
    entries: list[FeedEntry] = []
    skipped = 0
    for item in items:
        if not isinstance(item, dict):
            skipped += 1
            continue
        link = (absolute_http_url(item.get("url"), url)
                or absolute_http_url(item.get("external_url"), url))
        raw_id = item.get("id")
        guid = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id) else None
        if link is None and guid and re.match(r"^https?://", guid):
            link = absolute_http_url(guid, url)
        if link is None:
            skipped += 1
            continue
        content_html = item.get("content_html")
        summary = clean_text(item.get("summary"), is_html=False, limit=MAX_SUMMARY_CHARS)
        if summary is None:
            summary = (clean_text(content_html, is_html=True, limit=MAX_SUMMARY_CHARS)
                       or clean_text(item.get("content_text"), is_html=False,
                                     limit=MAX_SUMMARY_CHARS))
        image = (absolute_http_url(item.get("image"), link)
                 or absolute_http_url(item.get("banner_image"), link))
        if image is None and isinstance(content_html, str):
            image = absolute_http_url(html_to_text(content_html)[1], link)
        entries.append(FeedEntry(
            url=link,
            title=clean_text(item.get("title"), is_html=False),
            summary=summary,
            published=parse_date(item.get("date_published")),
            updated=parse_date(item.get("date_modified")),
            authors=_json_authors(item) or feed_authors,
            language=normalize_language(item.get("language")) or feed_language,
            image=image,
            guid=guid,
        ))
    kept, warnings = finish_entries(entries, max_entries=max_entries)
    if skipped:
        warnings.insert(0, f"{skipped} items without a usable http(s) link skipped")
    return ParsedFeed(kind="json", title=clean_text(doc.get("title"), is_html=False),
                      link=absolute_http_url(doc.get("home_page_url"), url),
                      language=feed_language, entries=kept, warnings=tuple(warnings))


# --------------------------------------------------------------------------- feedparser


def _get(d: object, key: str) -> Any:
    """Read a feedparser dict without its legacy key mapping (which warns); None when `d`
    is not a dict."""
    return dict.get(d, key) if isinstance(d, dict) else None


def _detail_text(d: object, key: str, *, limit: int | None = None) -> str | None:
    detail = _get(d, f"{key}_detail")
    is_html = not (isinstance(detail, dict) and _get(detail, "type") == "text/plain")
    return clean_text(_get(d, key), is_html=is_html, limit=limit)


def _entry_link(entry: object, base: str) -> str | None:
    link = absolute_http_url(_get(entry, "link"), base)
    if link:
        return link
    links = _get(entry, "links") or []
    for rel in ("alternate", None):
        for item in links:
            if isinstance(item, dict) and (rel is None or _get(item, "rel") == rel):
                found = absolute_http_url(_get(item, "href"), base)
                if found:
                    return found
    guid = _get(entry, "id")
    if isinstance(guid, str) and re.match(r"^\s*https?://", guid):
        return absolute_http_url(guid, base)
    return None


def _looks_like_image(item: object, url: str) -> bool:
    medium = str(_get(item, "medium") or "").lower()
    mime = str(_get(item, "type") or "").lower()
    if medium or mime:
        return medium == "image" or mime.startswith("image/")
    return urlsplit(url).path.lower().endswith(_IMAGE_SUFFIXES)


def _entry_image(entry: object, base: str, html_fragments: Sequence[str]) -> str | None:
    for item in _get(entry, "media_content") or []:
        if isinstance(item, dict):
            url = absolute_http_url(_get(item, "url"), base)
            if url and _looks_like_image(item, url):
                return url
    for item in _get(entry, "media_thumbnail") or []:
        if isinstance(item, dict):
            url = absolute_http_url(_get(item, "url"), base)
            if url:
                return url
    for item in _get(entry, "links") or []:
        if isinstance(item, dict) and _get(item, "rel") == "enclosure":
            url = absolute_http_url(_get(item, "href"), base)
            if url and _looks_like_image(item, url):
                return url
    image = _get(entry, "image")
    if isinstance(image, dict):
        url = absolute_http_url(_get(image, "href"), base)
        if url:
            return url
    for fragment in html_fragments:
        url = absolute_http_url(html_to_text(fragment)[1], base)
        if url:
            return url
    return None


def _entry_authors(entry: object) -> tuple[str, ...]:
    names: list[str] = []
    for author in _get(entry, "authors") or []:
        if isinstance(author, dict):
            name = _get(author, "name")
            if isinstance(name, str) and name.strip():
                names.append(" ".join(name.split()))
    if not names:
        detail = _get(entry, "author_detail")
        name = _get(detail, "name") if isinstance(detail, dict) else None
        if isinstance(name, str) and name.strip():
            names.append(" ".join(name.split()))
    return tuple(dict.fromkeys(names))


def _entry_language(entry: object) -> str | None:
    for key in ("title_detail", "summary_detail"):
        detail = _get(entry, key)
        if isinstance(detail, dict):
            lang = normalize_language(_get(detail, "language"))
            if lang:
                return lang
    return normalize_language(_get(entry, "language"))


def _feedparser_entry(entry: object, base: str, feed_language: str | None, *,
                      rss: bool) -> FeedEntry | None:
    """One feedparser entry; in RSS, a dc:date (feedparser's `updated`) is the item's date
    when it has no pubDate."""
    link = _entry_link(entry, base)
    if link is None:
        return None
    fragments: list[str] = []
    for content in _get(entry, "content") or []:
        if isinstance(content, dict) and isinstance(_get(content, "value"), str):
            fragments.append(_get(content, "value"))
    summary_html = _get(entry, "summary")
    if isinstance(summary_html, str):
        fragments.append(summary_html)
    summary = _detail_text(entry, "summary", limit=MAX_SUMMARY_CHARS)
    if summary is None and fragments:
        summary = clean_text(fragments[0], is_html=True, limit=MAX_SUMMARY_CHARS)
    guid = _get(entry, "id")
    published = (utc_from_struct(_get(entry, "published_parsed"))
                 or parse_date(_get(entry, "published")))
    updated = utc_from_struct(_get(entry, "updated_parsed")) or parse_date(_get(entry, "updated"))
    return FeedEntry(
        url=link,
        title=_detail_text(entry, "title"),
        summary=summary,
        published=published or (updated if rss else None),
        updated=updated,
        authors=_entry_authors(entry),
        language=_entry_language(entry) or feed_language,
        image=_entry_image(entry, link, fragments),
        guid=(guid.strip() or None) if isinstance(guid, str) else None,
    )


def _bozo_warning(exc: object) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _is_xml_error(exc: object) -> bool:
    return isinstance(exc, Exception) and not isinstance(
        exc, feedparser.CharacterEncodingOverride | feedparser.NonXMLContentType)


def _parse_with_feedparser(content: bytes, *, url: str, content_type: str | None,
                           max_entries: int) -> ParsedFeed:
    prolog = check_xml_safety(content)
    # An XML declaration must come first: drop whitespace before it (not in UTF-16/32).
    if content.startswith(b"\xef\xbb\xbf"):
        content = b"\xef\xbb\xbf" + content[3:].lstrip(b" \t\r\n")
    elif not content.startswith((b"\xfe\xff", b"\xff\xfe", b"\x00")):
        content = content.lstrip(b" \t\r\n")
    # Without a Content-Type, application/xml: the XML declaration (or UTF-8) decides.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    # BytesIO, never bytes or str: feedparser treats a str as a URL to fetch and tries
    # bytes as a file name to open.
    try:
        parsed = feedparser.parse(io.BytesIO(content), response_headers=headers,
                                  resolve_relative_uris=True, sanitize_html=True)
    except ValueError as exc:  # found by fuzzing: encoding="\x80tf-8" or "\x00tf-8"
        raise FeedError("malformed", f"unreadable encoding declaration: {exc}") from exc
    feed = _get(parsed, "feed") or {}
    version = _get(parsed, "version") or ""
    bozo_exc = _get(parsed, "bozo_exception") if _get(parsed, "bozo") else None
    raw_entries = _get(parsed, "entries") or []

    if not version and not raw_entries:
        if bozo_exc is not None and _is_xml_error(bozo_exc):
            raise FeedError("malformed", _bozo_warning(bozo_exc))
        raise FeedError("not_a_feed", f"no RSS or Atom structure (root <{prolog.root}>)")
    if _is_xml_error(bozo_exc) and not raw_entries and not _get(feed, "title"):
        raise FeedError("malformed", _bozo_warning(bozo_exc))

    warnings: list[str] = []
    if bozo_exc is not None:
        prefix = "recovered from malformed XML: " if _is_xml_error(bozo_exc) else ""
        warnings.append(prefix + _bozo_warning(bozo_exc))
    root = (prolog.root or "").rsplit(":", 1)[-1].lower()
    kind: FeedKind = "atom" if version.startswith("atom") or root == "feed" else "rss"
    feed_link = absolute_http_url(_get(feed, "link"), url)
    feed_language = normalize_language(_get(feed, "language"))
    entries: list[FeedEntry] = []
    skipped = 0
    for raw in raw_entries:
        entry = (_feedparser_entry(raw, url, feed_language, rss=kind == "rss")
                 if isinstance(raw, dict) else None)
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    if skipped:
        warnings.append(f"{skipped} entries without a usable http(s) link skipped")
    if _is_xml_error(bozo_exc) and not entries:
        # broken XML that gave nothing usable is an error to report, not an empty feed
        raise FeedError("malformed", _bozo_warning(bozo_exc))
    kept, more = finish_entries(entries, max_entries=max_entries)
    return ParsedFeed(kind=kind, title=_detail_text(feed, "title"), link=feed_link,
                      language=feed_language, entries=kept, warnings=tuple(warnings + more))

