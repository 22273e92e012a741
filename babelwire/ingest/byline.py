"""The page's byline, found in one walk over the tree.

The same rules as trafilatura's ``metadata.extract_author`` (its three tiers of author
selectors, its discarded regions: comments, sidebars, quotes, figures, dates), without the
copy of the whole tree it prunes and the regular-expression XPaths it runs over every
element three times: that search was 29 ms a page, the most expensive part of reading
metadata (``python benchmarks/extraction_quality.py``). Used only when no JSON-LD or meta
tag names the authors.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = ["find_byline"]

MAX_CHARS = 120

_TIER1_TAGS = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_TIER1_CLASS = re.compile(r"author-?name|AuthorName|authorName")
_TIER2_TAGS = frozenset({"a", "div", "h3", "h4", "p", "span"})
_TIER2_CLASS_EXACT = frozenset({"byline", "username", "byl", "BBL"})
_TIER2_ID = re.compile(r"author|zuozhe|bianji|xiaobian")
_TIER2_CLASS = re.compile(
    r"author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
_TIER3_ID = re.compile(r"[Aa]uthor")
_TIER3_CLASS = re.compile(r"[Aa]uthor|screenname|writer|[Bb]yline")

_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_CLASS_EXACT = frozenset({"comments", "title", "date"})
_DISCARD_ID = re.compile(r"^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    r"^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|"
    r"article-(?:share|support)|print|category|meta-date|meta-reviewer")


def _discarded(el: HtmlElement, tag: str) -> bool:
    if tag in {"time", "figure"}:
        return True
    if tag not in _DISCARD_TAGS:
        return False
    ident, cls = el.get("id") or "", el.get("class") or ""
    return (ident == "comments" or cls in _DISCARD_CLASS_EXACT
            or bool(ident and _DISCARD_ID.search(ident))
            or bool(cls and _DISCARD_CLASS.search(cls))
            or "Figure" in (el.get("data-component") or ""))


def _tier(el: HtmlElement, tag: str) -> int:
    """1, 2 or 3: the most specific selector group ``el`` matches; 0 for none."""
    ident, cls = el.get("id") or "", el.get("class") or ""
    itemprop = el.get("itemprop") or ""
    if tag == "author" or (tag in _TIER1_TAGS and (
            el.get("rel") == "author" or ident == "author" or cls == "author"
            or itemprop == "author name" or el.get("data-testid") in {"AuthorCard", "AuthorURL"}
            or bool(cls and _TIER1_CLASS.search(cls)))):
        return 1
    if tag in _TIER2_TAGS and (
            cls in _TIER2_CLASS_EXACT or "author" in itemprop
            or bool(ident and _TIER2_ID.search(ident)) or bool(cls and _TIER2_CLASS.search(cls))):
        return 2
    if ("Byline" in (el.get("data-component") or "") or "author" in itemprop
            or bool(ident and _TIER3_ID.search(ident)) or bool(cls and _TIER3_CLASS.search(cls))):
        return 3
    return 0


def _text(el: HtmlElement) -> str:
    """The text of ``el`` without its discarded parts (their tails stay)."""
    parts = [el.text or ""]
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag and not _discarded(child, tag):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return " ".join(" ".join(parts).split())


# Matched by every element any tier selects by its id or class (a cheap first test).
_ANY = re.compile(r"uthor|yline|byl|BBL|username|channel-name|zuozhe|bianji|xiaobian|"
                  r"submitted-by|posted-by|journalist-name|screenname|writer")


def _candidates(tree: HtmlElement) -> list[tuple[int, HtmlElement]]:
    from lxml.etree import Element

    out: list[tuple[int, HtmlElement]] = []
    for el in tree.getroottree().getroot().iter(Element):
        cls, ident = el.get("class"), el.get("id")
        if not ((cls and _ANY.search(cls)) or (ident and _ANY.search(ident))
                or el.get("itemprop") or el.get("rel") or el.get("data-testid")
                or el.get("data-component") or el.tag == "author"):
            continue
        tier = _tier(el, el.tag)
        if tier and not _discarded(el, el.tag) and not any(
                _discarded(a, a.tag) for a in el.iterancestors(Element)):
            out.append((tier, el))
    return out


def find_byline(tree: HtmlElement) -> str | None:
    """The first byline of the most specific kind the page has, or None; names are
    normalised as trafilatura does (``"A; B"`` for several)."""
    from trafilatura.json_metadata import normalize_authors

    found: dict[int, list[HtmlElement]] = {1: [], 2: [], 3: []}
    for tier, el in _candidates(tree):
        found[tier].append(el)
    for tier in (1, 2, 3):
        for el in found[tier]:
            content = _text(el)
            if content and 2 < len(content) < MAX_CHARS:
                return normalize_authors(None, content)
    return None
