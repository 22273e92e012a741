"""OPML 2.0 export and import of catalogue sources.

Export: one category outline per country, holding one ``type="rss"`` outline per feed; the
``babelwire:*`` attributes carry what plain OPML has no word for (id, country, languages,
sitemaps, policy...), so an export imports back to the same sources. A source with sitemaps
only is a ``type="link"`` outline, which feed readers skip.

Import: our own exports, and those of other readers (Miniflux, Feedly, Inoreader...): feeds
are grouped into sources by the host of their ``htmlUrl``.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from babelwire.catalog.loader import ISO_3166_1, POLICIES, CatalogError
from babelwire.catalog.model import Policy, SourceSpec

__all__ = ["OPML_NAMESPACE", "from_opml", "to_opml"]

OPML_NAMESPACE = "urn:babelwire:opml"
_NS = "{" + OPML_NAMESPACE + "}"


# --------------------------------------------------------------------------- export


def _attrs(pairs: Iterable[tuple[str, str | None]]) -> str:
    return "".join(f" {name}={quoteattr(value)}" for name, value in pairs if value is not None)


def _source_attrs(spec: SourceSpec) -> list[tuple[str, str | None]]:
    return [
        ("babelwire:id", spec.id),
        ("babelwire:country", spec.country),
        ("babelwire:languages", " ".join(spec.languages) if len(spec.languages) > 1 else None),
        ("babelwire:sitemaps", " ".join(spec.sitemaps) or None),
        ("babelwire:aliases", " ".join(spec.aliases) or None),
        ("babelwire:logo", spec.logo),
        ("babelwire:policy", spec.policy if spec.policy != "full_text" else None),
        ("babelwire:opt_out", "true" if spec.opt_out else None),
    ]


def _source_outlines(spec: SourceSpec) -> Iterator[str]:
    common = [
        ("text", spec.name),
        ("title", spec.name),
        ("htmlUrl", spec.homepage),
        ("language", spec.languages[0] if spec.languages else None),
    ]
    if not spec.feeds:
        yield f"<outline{_attrs([('type', 'link'), ('url', spec.homepage), *common])}" + (
            f"{_attrs(_source_attrs(spec))}/>"
        )
    for feed in spec.feeds:
        pairs = [("type", "rss"), ("xmlUrl", feed), *common, *_source_attrs(spec)]
        yield f"<outline{_attrs(pairs)}/>"


def to_opml(sources: Iterable[SourceSpec], *, title: str = "Babelwire sources") -> str:
    """OPML 2.0 text: one category outline per country (sorted), one outline per feed."""
    by_country: dict[str, list[SourceSpec]] = {}
    for spec in sources:
        by_country.setdefault(spec.country, []).append(spec)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<opml version="2.0" xmlns:babelwire="{OPML_NAMESPACE}">',
        "  <head>",
        f"    <title>{escape(title)}</title>",
        "  </head>",
        "  <body>",
    ]
    for country in sorted(by_country):
        pairs = [("text", country), ("title", country), ("babelwire:country", country)]
        lines.append(f"    <outline{_attrs(pairs)}>")
        lines.extend(
            f"      {line}" for spec in by_country[country] for line in _source_outlines(spec)
        )
        lines.append("    </outline>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- import


@dataclass
class _Group:
    """The outlines that become one source."""

    key: str
    explicit_id: str | None
    country: str | None
    first: ET.Element
    feeds: list[str] = field(default_factory=list)
    html_urls: list[str] = field(default_factory=list)


def _attr(outline: ET.Element, name: str) -> str | None:
    value = outline.get(_NS + name)
    return value.strip() if value is not None and value.strip() else None


def _words(outline: ET.Element, name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((_attr(outline, name) or "").split()))


def _label(outline: ET.Element) -> str:
    return (outline.get("title") or outline.get("text") or "").strip()


def _country_code(value: str | None, where: str) -> str | None:
    if value is None:
        return None
    code = value.strip().upper()
    if code not in ISO_3166_1:
        raise CatalogError(f"{where}: {value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _category_country(outline: ET.Element) -> str | None:
    explicit = _attr(outline, "country")
    if explicit is not None:
        return _country_code(explicit, f"category {_label(outline)!r}")
    # A folder named by an upper-case code ("RU", "FR") is a country; "Tech" or "de" is not.
    for text in (outline.get("text"), outline.get("title")):
        code = (text or "").strip()
        if re.fullmatch(r"[A-Z]{2}", code) and code in ISO_3166_1:
            return code
    return None


def _http_url(url: str, where: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise CatalogError(f"{where}: {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CatalogError(f"{where}: {url!r} is not an http(s) URL")
    return url


def _bare_host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _slug(text: str) -> str:
    with contextlib.suppress(UnicodeError):
        text = text.encode("idna").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "source"


def _walk(element: ET.Element, country: str | None) -> Iterator[tuple[ET.Element, str | None]]:
    """Every feed-like outline with the country of its nearest country category."""
    for outline in element.findall("outline"):
        is_feed = outline.get("xmlUrl") is not None or _attr(outline, "id") is not None
        if is_feed:
            yield outline, country
        else:
            yield from _walk(outline, _category_country(outline) or country)


def _parse(text: str | bytes) -> ET.Element:
    try:
        root = SafeET.fromstring(text)
    except DefusedXmlException as exc:
        raise CatalogError(f"refusing unsafe OPML: {exc}") from None
    except ET.ParseError as exc:
        raise CatalogError(f"not well-formed OPML (XML): {exc}") from None
    if root.tag != "opml":
        raise CatalogError(f"not an OPML document: the root element is <{root.tag}>")
    body = root.find("body")
    if body is None:
        raise CatalogError("not an OPML document: it has no <body>")
    return body


def _group_outlines(body: ET.Element, default_country: str | None) -> list[_Group]:
    groups: dict[str, _Group] = {}
    for outline, category_country in _walk(body, None):
        where = f"outline {_label(outline) or outline.get('xmlUrl')!r}"
        xml_url = outline.get("xmlUrl")
        feed = _http_url(xml_url, where) if xml_url is not None else None
        html_url = outline.get("htmlUrl") or outline.get("url")
        html_url = _http_url(html_url, where) if html_url else None
        explicit_id = _attr(outline, "id")
        if explicit_id is not None:
            key = "id:" + explicit_id
        else:
            # _walk yields only outlines with an xmlUrl or an id: here, feed is set.
            key = "host:" + _bare_host(html_url or feed or "")
        group = groups.get(key)
        if group is None:
            country = _country_code(_attr(outline, "country"), where) or category_country
            country = country or default_country
            if country is None:
                raise CatalogError(
                    f"{where} ({feed or html_url}): cannot tell its country; put it in a "
                    "category named by an ISO code (like 'RU') or pass default_country"
                )
            group = _Group(key=key, explicit_id=explicit_id, country=country, first=outline)
            groups[key] = group
        if feed is not None and feed not in group.feeds:
            group.feeds.append(feed)
        if html_url is not None:
            group.html_urls.append(html_url)
    return list(groups.values())


def _homepage(group: _Group) -> str:
    urls = group.html_urls or group.feeds
    if group.explicit_id is not None or len(set(urls)) == 1:
        return urls[0]
    parts = urlsplit(urls[0])
    return f"{parts.scheme}://{parts.netloc}/"


def _languages(outline: ET.Element) -> tuple[str, ...]:
    explicit = _words(outline, "languages")
    if explicit:
        return explicit
    language = (outline.get("language") or "").strip()
    return (language,) if language else ()


def _policy(outline: ET.Element, where: str) -> Policy:
    value = _attr(outline, "policy") or "full_text"
    if value == "excerpt":
        return "excerpt"
    if value == "full_text":
        return "full_text"
    raise CatalogError(f"{where}: babelwire:policy must be one of {', '.join(POLICIES)}")


def _unique_id(wanted: str, taken: set[str]) -> str:
    candidate, number = wanted, 2
    while candidate in taken:
        candidate, number = f"{wanted}-{number}", number + 1
    taken.add(candidate)
    return candidate


def from_opml(text: str | bytes, *, default_country: str | None = None) -> list[SourceSpec]:
    """Sources described by an OPML file, in document order.

    Outlines with ``babelwire:id`` become that source; other feeds are grouped by the host
    of their ``htmlUrl`` (else of the feed) into one source with a slug id derived from the
    host. The country comes from ``babelwire:country``, else from the nearest enclosing
    category named by an upper-case ISO code, else ``default_country``; with none of these
    CatalogError says which feed is the problem. Languages stay empty when the OPML has none.
    """
    default = _country_code(default_country, "default_country")
    body = _parse(text)
    groups = _group_outlines(body, default)
    taken = {g.explicit_id for g in groups if g.explicit_id is not None}
    specs: list[SourceSpec] = []
    for group in groups:
        outline = group.first
        homepage = _homepage(group)
        where = f"outline {_label(outline)!r}"
        if group.explicit_id is not None:
            source_id = group.explicit_id
        else:
            source_id = _unique_id(_slug(_bare_host(homepage)), taken)
        assert group.country is not None
        opt_out = _attr(outline, "opt_out")
        if opt_out not in (None, "true", "false"):
            raise CatalogError(f"{where}: babelwire:opt_out must be true or false")
        specs.append(
            SourceSpec(
                id=source_id,
                name=_label(outline) or _bare_host(homepage),
                homepage=homepage,
                country=group.country,
                languages=_languages(outline),
                feeds=tuple(group.feeds),
                sitemaps=_words(outline, "sitemaps"),
                logo=_attr(outline, "logo"),
                policy=_policy(outline, where),
                opt_out=opt_out == "true",
                aliases=_words(outline, "aliases"),
            )
        )
    return specs
