"""Is a fetched page an article? The decision, and the reason when it is not.

A page with enough article text is an article. A shorter one is still kept as a brief
(a short news item: a two-sentence report, a wire flash) when the page says it is a
news item: article markup (`og:type` article, a JSON-LD or microdata article type), a
headline and a publishing date. Everything else is not an article, and the verdict says
why in words an operator can act on (stored as the article's error_message and logged at
INFO, so `babelwire -v` shows it).

The markup is read from the HTML with a few cheap scans (the extractor's own reading
stays inside extract.py); `page_signals()` runs in the extraction worker with the rest of
prepare_page(), `judge()` in the process that stores the page.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from babelwire.ingest.extract import Extracted

__all__ = ["PageSignals", "Verdict", "judge", "page_signals"]

LOGGER = logging.getLogger(__name__)

MAX_SCAN_CHARS = 2_000_000  # markup past this is not looked for (hostile pages)
MAX_TYPES = 32

_META_RE = re.compile(r"<meta\b[^>]{0,2000}>", re.IGNORECASE)
_OG_TYPE_RE = re.compile(r"""(?:property|name)\s*=\s*["']?og:type\b""", re.IGNORECASE)
_CONTENT_RE = re.compile(r"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
                         re.IGNORECASE)
_LD_TYPE_RE = re.compile(r'"@type"\s*:\s*(\[[^\]]{0,500}\]|"[^"]{0,100}")')
_LD_NAME_RE = re.compile(r'"([^"]{1,100})"')
# case-sensitive: a literal prefix keeps the scan fast (IGNORECASE made it 20x slower)
_ITEMTYPE_RE = re.compile(r"""itemtype\s*=\s*["']?https?://schema\.org/(\w{1,60})""")

# schema.org types of news items: every *Article type, posts and reports.
_POSTINGS = {"blogposting", "liveblogposting", "socialmediaposting", "report"}
# schema.org types of pages that list or describe other things.
_LISTINGS = {"collectionpage", "itempage", "searchresultspage", "profilepage",
             "itemlist", "aboutpage", "contactpage", "checkoutpage", "faqpage"}
_ERROR_TITLE_RE = re.compile(
    r"^\W*(?:error\W*)?(?:40[034]|410|50[023])\b|\b(?:page|seite|página|pagina|pagina)\b.{0,30}"
    r"\b(?:not found|nicht gefunden|no encontrada|non trovata|niet gevonden|introuvable"
    r"|não encontrada|nie znaleziono)|\bnot found\b|\bnicht gefunden\b|\bintrouvable\b"
    r"|\baccess denied\b|\bzugriff verweigert\b|ページが見つかりません|页面不存在|找不到"
    r"|頁面不存在|페이지를 찾을 수 없|ไม่พบหน้า",
    re.IGNORECASE)


@dataclass(frozen=True)
class PageSignals:
    """What a page's markup says it is."""

    og_type: str | None = None  # lower-cased
    types: tuple[str, ...] = ()  # JSON-LD @type and microdata itemtype, lower-cased

    @property
    def article_markup(self) -> str | None:
        """Which markup calls the page a news item, or None."""
        if self.og_type == "article" or (self.og_type or "").startswith("article."):
            return f"og:type {self.og_type}"
        for t in self.types:
            if t.endswith("article") or t in _POSTINGS:
                return f"schema.org {t}"
        return None

    @property
    def listing_markup(self) -> str | None:
        """A listing type (a section front, search results) when no article type is given."""
        if self.article_markup is not None:
            return None
        return next((f"schema.org {t}" for t in self.types if t in _LISTINGS), None)


def page_signals(html: str) -> PageSignals:
    """Read og:type and the schema.org types from a page's HTML; never raises."""
    html = html[:MAX_SCAN_CHARS]
    og_type = None
    for tag in _META_RE.finditer(html):
        text = tag.group(0)
        if _OG_TYPE_RE.search(text) and (content := _CONTENT_RE.search(text)):
            og_type = next(g for g in content.groups() if g is not None).strip().lower()
            break
    types: dict[str, None] = {}
    for match in _LD_TYPE_RE.finditer(html):
        for name in _LD_NAME_RE.findall(match.group(1)):
            types[name.strip().rsplit("/", 1)[-1].lower()] = None
        if len(types) >= MAX_TYPES:
            break
    for name in _ITEMTYPE_RE.findall(html):
        if len(types) >= MAX_TYPES:
            break
        types[name.lower()] = None
    return PageSignals(og_type=og_type or None, types=tuple(types)[:MAX_TYPES])


@dataclass(frozen=True)
class Verdict:
    kind: str  # article | brief | not_article
    reason: str

    @property
    def keep(self) -> bool:
        return self.kind != "not_article"


def decide(words: int, extracted: Extracted, signals: PageSignals, *, min_words: int,
           min_brief_words: int) -> Verdict:
    """Article, brief or not an article, with the reason (see the module docstring)."""
    title = extracted.title or ""
    markup = signals.article_markup
    dated_item = markup is not None and extracted.published is not None
    if _ERROR_TITLE_RE.search(title) and words < min_words and not dated_item:
        return Verdict("not_article", f"an error page (title {title[:80]!r}), "
                                      f"{words} words of text")
    listing = signals.listing_markup
    if listing is not None:  # a section front's headlines can add up to many words
        return Verdict("not_article", f"a listing page ({listing}, no article type), "
                                      f"{words} words of text")
    if words >= min_words:
        return Verdict("article", f"{words} words of article text")
    if words == 0:
        return Verdict("not_article", "no article text found")
    if words < min_brief_words:
        return Verdict("not_article", f"{words} words of article text (fewer than "
                                      f"{min_brief_words}, the shortest brief kept)")
    missing = [what for what, ok in (("no article markup (og:type or schema.org)", markup),
                                     ("no headline", title),
                                     ("no publishing date", extracted.published)) if not ok]
    if missing:
        return Verdict("not_article", f"{words} words of article text (fewer than "
                                      f"{min_words}) and not a brief: {', '.join(missing)}")
    return Verdict("brief", f"a brief: {words} words, {markup}, a headline and a date")


def judge(url: str, words: int, extracted: Extracted, signals: PageSignals, *,
          min_words: int, min_brief_words: int) -> Verdict:
    """decide(), logged: every page that is not an article says why at INFO."""
    verdict = decide(words, extracted, signals, min_words=min_words,
                     min_brief_words=min_brief_words)
    if not verdict.keep:
        LOGGER.info("not an article: %s: %s", url, verdict.reason)
    elif verdict.kind == "brief":
        LOGGER.info("kept as %s: %s", verdict.reason, url)
    return verdict
