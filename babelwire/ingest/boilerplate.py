"""Per-source boilerplate learning: the publisher's own recurring blocks become notices.

A donation appeal, a newsletter box, an author bio, a "Read also" line or a legal line is
not article text, although extraction keeps it (it sits inside the article body). What
gives it away is not its wording, which is in any language, but that the *same* block comes
back in the source's *unrelated* articles. So, for each READY article with a source:

1. Every block gets a key (`block_key`: a hash of its case-folded words) and the keys are
   kept as evidence (`SourceBlock`), for each source's `WINDOW` most recent articles only.
2. A key the source already has as boilerplate (`Boilerplate`) makes its block a notice.
3. Another key becomes boilerplate when the articles holding it fall into at least
   `MIN_UNRELATED` (2) groups of *related* articles, and into at least `GROUP_SHARE` of
   as many groups as there are holders. Two articles are related when their titles share
   words or names, or when, leaving out the blocks they share and known boilerplate, the
   rest of their text still shares names (see `related`): an update of a story re-using
   paragraphs, two reports quoting the same person, a wire lead re-used in a follow-up
   count once; an appeal under a theatre review and under a flood report is in two groups.
   Keys keep digits masked and each word cut to `KEY_WORD_CHARS` characters, so near
   variants ("Eigene Recherche" / "Eigene Recherchen", dated lines) are one block.
4. When a key is newly learned, the source's earlier articles holding it are cleaned too:
   their blocks become notices and their full translations (which translated the appeal as
   text) are deleted; headline translations stay. Their IDs come back in
   `CleanResult.recleaned` so that the caller re-queues translation and embedding.

Teasers ("Read more: <another headline>", "Lesen Sie auch: ...", "ЧИТАЙТЕ ТАКЖЕ: ...") change
their wording every time, so their whole-block keys never recur. A *short* block (at most
`SHORT_WORDS` words) that opens with a lead-in, 1 to `LEAD_WORDS` words ending at a
separator (a colon, a dash, a pipe or an arrow), also gets a lead-in key (`lead_key`, a
hash in a key space of its own), kept as evidence and learned by the same rule as whole
blocks (groups of unrelated articles), then applied and re-cleaned the same way: once
"read more:" is the source's boilerplate, every short block opening with it is a notice.
No list of words decides what a lead-in is; what makes one distinctive is measured:
- blocks without a separator have none: one-liners opening with "But" or "The", a byline's
  "By", share their first words across unrelated articles without being boilerplate;
- a block opening with a quotation, a lead-in holding a digit (a live ticker's "12.31 Uhr:",
  a numbered list) and a lead-in followed by a lower-case letter (a sentence going on:
  "We like: the price", "Главное — это ...") have none;
- it is learned only when the words after it differ between its blocks (else the whole
  block is the key), when at most half of its blocks go on with a quotation (a speaker's
  'He said: "..."' is text), and when it opens no block longer than `SHORT_WORDS` words in
  the source's recent articles: a dateline ("MOSCOW (Reuters) -") or an interviewer's "Q:"
  opens long paragraphs too (a `long` key of the lead-in is kept as counter-evidence);
- it never applies to long blocks, so a real paragraph opening the same way stays text.

An article is never emptied: when its blocks that are not notices would hold fewer than
`MIN_TEXT_WORDS` words, all of them stay text. Articles without a source (a URL submitted
by hand) learn nothing and are not cleaned: there is no publisher to learn from.

The thresholds were chosen by measurement (``python benchmarks/boilerplate.py``): on the
demo newsroom and on real pages of one publisher (fundus test pages), and on real same-story
articles in eight languages (NTREX-128 documents of different outlets about one event) that
must count as related; the lead-in rules also on those streams with a synthetic teaser
("Read more: <another of its headlines>", in each publisher's language) in every article.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from babelwire.ingest import dedup
from babelwire.store.models import READY, Article, Block, Boilerplate, SourceBlock, Translation

__all__ = [
    "LEAD_WORDS",
    "MIN_TEXT_WORDS",
    "MIN_UNRELATED",
    "NOTICE",
    "SHORT_WORDS",
    "TEXT",
    "WINDOW",
    "CleanResult",
    "block_key",
    "clean_article",
    "lead_in",
    "lead_key",
    "related",
]

NOTICE = "notice"
TEXT = "text"
# Recent articles per source whose block keys are kept as evidence.
WINDOW = 100
# Evidence is pruned once a source holds this many more articles than WINDOW (amortised).
PRUNE_SLACK = 10
# Groups of related articles a block must recur in to be boilerplate (K).
MIN_UNRELATED = 2
# Holders of one key compared with each other, newest first (bounds the work per key).
MAX_HOLDERS = 12
# An article keeps all its blocks as text when cleaning would leave fewer words than this.
MIN_TEXT_WORDS = 20
# Keys keep the first KEY_WORD_CHARS characters of each word: "Eigene Recherche" and
# "Eigene Recherchen" are one block (a crude stemming that needs no language).
KEY_WORD_CHARS = 6
# Relatedness (see `related`): two articles are related when their titles share at least
# RELATED_TITLE words (of CONTENT_MIN_CHARS characters and more) or names, or when the rest
# of their text shares at least RELATED_NAMES_MIN names making at least RELATED_NAMES of the
# shorter one's names (overlap coefficient).
CONTENT_MIN_CHARS = 5
RELATED_TITLE = 2
RELATED_NAMES = 0.12
RELATED_NAMES_MIN = 3
# A key held by n articles is learned when they fall into at least
# max(MIN_UNRELATED, ceil(GROUP_SHARE * n)) groups: one outlier among many reports of one
# event (a pair the relatedness test misses) does not make their shared text boilerplate.
GROUP_SHARE = 0.6

# Teasers: a block of at most SHORT_WORDS words may open with a lead-in of 1 to LEAD_WORDS
# words ending at a separator (a character of a script written without spaces counts half
# a word); LEAD_WORDS = 0 turns lead-in learning off.
SHORT_WORDS = 20
LEAD_WORDS = 4

_KEY_SALT = b"babelwire-boilerplate1"  # changing it (or the normalisation) resets learning
_DIGITS = re.compile(r"\d+")
_NO_SPACE_CHAR = re.compile(
    "[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]")
_NAME_TOKEN = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*|[.!?:;\u00ab\u00bb\"\u201c\u201d\u201e]")
_SENTENCE_BREAK = frozenset(".!?:;\u00ab\u00bb\"\u201c\u201d\u201e")
# What ends a lead-in: a colon (not one inside a time, "10:33"), a dash with a space before
# and after it (a hyphen joins words), an en or em dash, a pipe or an arrow.
_LEAD_SEP = re.compile(
    r"(?<!\d)\s*:(?!\d)|\s[-\u2010-\u2015]+\s|\s*[\u2012-\u2015]+|\s*[|>\u2192\u25b6\u25ba\u27a4]")
# A lead-in followed by a quotation mark may introduce a quote ("He said: \u201c...\u201d").
_QUOTE_MARKS = frozenset("\"'\u00ab\u00bb\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f"
                         "\u2039\u203a\u300c\u300d\u300e\u300f")


@dataclass(frozen=True)
class CleanResult:
    """What `clean_article` did. `recleaned`: other articles whose blocks changed (their
    full translations were deleted): re-translate and re-embed them."""

    article_id: int
    notices: int = 0  # blocks of this article that are notices
    learned: tuple[int, ...] = ()  # keys that became boilerplate now
    recleaned: tuple[int, ...] = ()
    kept_short: bool = False  # boilerplate found, but kept as text: it would empty the article


def _tokens(text: str) -> list[str]:
    return dedup.normalized_tokens(text)


def block_key(text: str) -> int:
    """Signed 64-bit key of a block: its NFKC, case-folded words (punctuation and spacing
    dropped) with every run of digits masked, so dates, counts and prices do not split one
    recurring block into many. Stable across processes (keyed BLAKE2b)."""
    return _whole_key(_tokens(text))


def _whole_key(tokens: Sequence[str]) -> int:
    words = " ".join(_DIGITS.sub("0", t)[:KEY_WORD_CHARS] for t in tokens)
    return _hash(b"", words)


def _hash(space: bytes, words: str) -> int:
    digest = hashlib.blake2b(space + words.encode("utf-8"), digest_size=8,
                             key=_KEY_SALT).digest()
    return dedup.to_signed64(int.from_bytes(digest, "little"))


def _words(tokens: Sequence[str]) -> float:
    """Words in `tokens`, a character of a script written without spaces counting half."""
    return sum(0.5 if _NO_SPACE_CHAR.match(t) else 1.0 for t in tokens)


def _split_lead(text: str) -> tuple[list[str], str, bool] | None:
    """(lead-in words, the lead-in as written, whether a quotation follows it) of a block
    opening with a lead-in, else None."""
    if LEAD_WORDS <= 0:
        return None
    norm = unicodedata.normalize("NFKC", text)
    m = _LEAD_SEP.search(norm)
    if m is None:
        return None
    head = norm[:m.start()].lstrip()
    words = _tokens(head)
    rest = norm[m.end():].lstrip()
    if not words or _words(words) > LEAD_WORDS or not _tokens(rest) or head[0] in _QUOTE_MARKS:
        return None  # (a block opening with a quotation: '"We won," he said -')
    if any(c.isdigit() for w in words for c in w):
        return None
    if next((c for c in rest if c.isalnum()), "").islower():
        return None  # the sentence goes on ("We like: the price", "Главное — это")
    return words, norm[:m.end()].strip(), rest[0] in _QUOTE_MARKS


def lead_in(text: str) -> str | None:
    """The lead-in a block opens with, as written ("Read more:"), when it has one; whether
    the block is short enough for it to count is `lead_key`'s business."""
    split = _split_lead(text)
    return split[1] if split else None


@dataclass(frozen=True)
class _Keys:
    """A block's keys: its whole-block key; for a short block opening with a lead-in, the
    lead-in key; for a long one, the lead-in's counter-evidence key (never learned)."""

    whole: int | None
    lead: int | None = None
    long: int | None = None
    counter: int | None = None  # with `lead`: what `long` would be for a long block
    quoted: bool = False  # a quotation follows the lead-in


def _lead_words(words: Sequence[str]) -> str:
    return " ".join(w[:KEY_WORD_CHARS] for w in words)


def _keys(text: str) -> _Keys:
    return _keys_cached(text, LEAD_WORDS, SHORT_WORDS)


@functools.lru_cache(maxsize=8192)
def _keys_cached(text: str, _lead_words_max: int, _short_words: int) -> _Keys:
    # (the settings are part of the cache key: the benchmark turns lead-ins off and on)
    tokens = _tokens(text)
    if not tokens:
        return _Keys(None)
    whole = _whole_key(tokens)
    split = _split_lead(text)
    if split is None:
        return _Keys(whole)
    words = _lead_words(split[0])
    long = _hash(b"long\0", words)
    if _words(tokens) <= SHORT_WORDS:
        return _Keys(whole, lead=_hash(b"lead\0", words), counter=long, quoted=split[2])
    return _Keys(whole, long=long)


def lead_key(text: str) -> int | None:
    """The lead-in key of a short block opening with a lead-in ("Read more: <headline>"),
    in a key space of its own (it never equals a `block_key`); None for other blocks."""
    return _keys(text).lead


# --------------------------------------------------------------------------- relatedness


@dataclass(frozen=True)
class _Doc:
    """An article's blocks as keys and word sets, for comparing articles."""

    title_words: frozenset[str]
    title_names: frozenset[str]
    keys: tuple[int | None, ...]
    leads: tuple[int | None, ...]
    quoted: tuple[bool, ...]
    names: tuple[frozenset[str], ...]


def _content_words(text: str) -> frozenset[str]:
    out = set()
    for t in _tokens(text):
        if len(t) >= CONTENT_MIN_CHARS or _NO_SPACE_CHAR.match(t):
            out.add(t)
    return frozenset(out)


def _names(text: str) -> frozenset[str]:
    """Words written with a capital inside a sentence (names of people, places, bodies;
    German nouns too) and numbers of two digits or more: what two reports of one event
    share even when written by different hands. Empty for scripts without case."""
    out: set[str] = set()
    sentence_start = True
    for m in _NAME_TOKEN.finditer(unicodedata.normalize("NFKC", text)):
        w = m.group()
        if w in _SENTENCE_BREAK:
            sentence_start = w in ".!?:"
            continue
        number = sum(c.isdigit() for c in w) >= 2
        if number or (not sentence_start and len(w) >= 3 and w[0].isupper()):
            out.add(w.casefold())
        sentence_start = False
    return frozenset(out)


def _doc(title: str | None, texts: Sequence[str]) -> _Doc:
    keys = [_keys(t) for t in texts]
    return _Doc(
        title_words=_content_words(title or ""),
        title_names=_names(title or ""),
        keys=tuple(k.whole for k in keys),
        leads=tuple(k.lead for k in keys),
        quoted=tuple(k.quoted for k in keys),
        names=tuple(_names(t) for t in texts),
    )


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _rest_names(doc: _Doc, skip: set[int]) -> set[str]:
    names: set[str] = set(doc.title_names)
    for key, lead, n in zip(doc.keys, doc.leads, doc.names, strict=True):
        if (key is None or key not in skip) and (lead is None or lead not in skip):
            names |= n
    return names


def _key_set(keys: Iterable[int | None]) -> set[int]:
    return {k for k in keys if k is not None}


def _related_docs(a: _Doc, b: _Doc, ignore: set[int]) -> bool:
    title = len(a.title_words & b.title_words) + len(a.title_names & b.title_names)
    if title >= RELATED_TITLE:
        return True
    # Blocks the two share, whole or by their lead-in (two teasers of one publisher).
    shared = (_key_set(a.keys) & _key_set(b.keys)) | (_key_set(a.leads) & _key_set(b.leads))
    na = _rest_names(a, shared | ignore)
    nb = _rest_names(b, shared | ignore)
    return len(na & nb) >= RELATED_NAMES_MIN and _overlap(na, nb) >= RELATED_NAMES


def related(title_a: str | None, blocks_a: Sequence[str], title_b: str | None,
            blocks_b: Sequence[str]) -> bool:
    """Whether two articles of one source are about the same thing, judged on what is left
    of them without the blocks they share: an update re-using paragraphs or a second
    report quoting the same words is related; two stories under one appeal are not."""
    return _related_docs(_doc(title_a, blocks_a), _doc(title_b, blocks_b), set())


# --------------------------------------------------------------------------- the store


def _insert(s: Session, model: type) -> postgresql.Insert | sqlite.Insert:
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _record_evidence(s: Session, source_id: str, article_id: int, keys: Iterable[int],
                     now: datetime) -> None:
    s.execute(delete(SourceBlock).where(SourceBlock.article_id == article_id))
    rows = [{"source_id": source_id, "key": k, "article_id": article_id, "seen_at": now}
            for k in dict.fromkeys(keys)]
    if rows:
        s.execute(_insert(s, SourceBlock).on_conflict_do_nothing(), rows)


def prune_evidence(s: Session, source_id: str, *, keep: int | None = None) -> int:
    """Drop the evidence of all but the source's `keep` (default `WINDOW`) most recently
    seen articles; returns how many articles' evidence went."""
    keep = WINDOW if keep is None else keep
    newest = func.max(SourceBlock.seen_at)
    old = list(s.scalars(
        select(SourceBlock.article_id).where(SourceBlock.source_id == source_id)
        .group_by(SourceBlock.article_id)
        .order_by(newest.desc(), SourceBlock.article_id.desc()).offset(keep)))
    if old:
        s.execute(delete(SourceBlock).where(SourceBlock.source_id == source_id,
                                            SourceBlock.article_id.in_(old)))
    return len(old)


def _maybe_prune(s: Session, source_id: str) -> None:
    count = s.scalar(select(func.count(func.distinct(SourceBlock.article_id)))
                     .where(SourceBlock.source_id == source_id)) or 0
    if count > WINDOW + PRUNE_SLACK:
        prune_evidence(s, source_id)


def _blocks(s: Session, article_id: int) -> list[Block]:
    return list(s.scalars(select(Block).where(Block.article_id == article_id)
                          .order_by(Block.position)))


def _apply(blocks: Sequence[Block], boilerplate: set[int]) -> tuple[bool, int, bool]:
    """Set each block's role from the learned keys (never emptying the article).
    Returns (changed, notices, kept_short)."""
    wanted = []
    for b in blocks:
        keys = _keys(b.text)
        hit = keys.whole in boilerplate or keys.lead in boilerplate
        wanted.append(NOTICE if keys.whole is not None and hit else TEXT)
    kept_short = False
    if NOTICE in wanted:
        left = sum(len(b.text.split()) for b, r in zip(blocks, wanted, strict=True) if r == TEXT)
        if left < MIN_TEXT_WORDS:
            wanted, kept_short = [TEXT] * len(blocks), True
    changed = False
    for block, role in zip(blocks, wanted, strict=True):
        if block.role != role:
            block.role = role
            changed = True
    return changed, wanted.count(NOTICE), kept_short


def _lookup_keys(keys: Iterable[_Keys]) -> list[int]:
    """The keys of blocks that can be learned (whole blocks and short blocks' lead-ins)."""
    return list(dict.fromkeys(k for ks in keys for k in (ks.whole, ks.lead) if k is not None))


def _learned(s: Session, source_id: str, keys: Iterable[int]) -> set[int]:
    keys = list(keys)
    if not keys:
        return set()
    return set(s.scalars(select(Boilerplate.key).where(Boilerplate.source_id == source_id,
                                                       Boilerplate.key.in_(keys))))


def _components(ids: Sequence[int], docs: dict[int, _Doc], ignore: set[int]) -> int:
    parent = {i: i for i in ids}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for n, a in enumerate(ids):
        for b in ids[n + 1:]:
            ra, rb = find(a), find(b)
            if ra != rb and _related_docs(docs[a], docs[b], ignore):
                parent[ra] = rb
    return len({find(i) for i in ids})


def clean_article(s: Session, article_id: int, *, now: datetime) -> CleanResult:
    """Learn from a READY article's blocks and mark its (and, for newly learned blocks, its
    source's earlier articles') boilerplate as notices, inside the caller's transaction.

    Call it right after the article's blocks are written. Idempotent: calling it again
    records the same evidence and changes nothing. Articles without a source, or not READY,
    are left alone (nothing to learn from: boilerplate is a publisher's habit)."""
    art = s.get(Article, article_id)
    if art is None:
        raise LookupError(f"no article {article_id}")
    if art.source_id is None or art.status != READY:
        return CleanResult(article_id)
    source_id = art.source_id
    blocks = _blocks(s, article_id)
    texts = [b.text for b in blocks]
    block_keys = [_keys(t) for t in texts]
    keys = [k.whole for k in block_keys if k.whole is not None]
    leads = [k.lead for k in block_keys if k.lead is not None]
    longs = [k.long for k in block_keys if k.long is not None]
    _record_evidence(s, source_id, article_id, [*keys, *leads, *longs], now)
    known = _learned(s, source_id, [*keys, *leads])

    # Keys held by other recent articles of the source: candidates for learning (whole
    # blocks first, so that a lead-in is only learned for blocks that vary after it).
    candidates = [k for k in dict.fromkeys([*keys, *leads]) if k not in known]
    holders: dict[int, list[int]] = {}
    if candidates:
        rows = s.execute(
            select(SourceBlock.key, SourceBlock.article_id)
            .where(SourceBlock.source_id == source_id, SourceBlock.key.in_(candidates),
                   SourceBlock.article_id != article_id)
            .order_by(SourceBlock.seen_at.desc(), SourceBlock.article_id.desc()))
        for key, other in rows:
            holders.setdefault(key, []).append(other)
        holders = {k: holders[k] for k in candidates if k in holders}
    lead_set = set(leads)
    not_distinctive = _opening_long_blocks(s, source_id, texts, lead_set & set(holders))
    learned: list[int] = []
    groups_of: dict[int, int] = {}
    if holders:
        docs = {article_id: _doc(art.title, texts)}
        for others in holders.values():
            for other in others[:MAX_HOLDERS - 1]:
                if other not in docs:
                    other_art = s.get(Article, other)
                    docs[other] = _doc(other_art.title if other_art else None,
                                       [b.text for b in _blocks(s, other)])
        # Known boilerplate says nothing about whether two articles are about one thing.
        ignore = _learned(s, source_id, {k for d in docs.values()
                                         for k in (*d.keys, *d.leads) if k is not None})
        for key, others in holders.items():
            ids = [article_id, *others[:MAX_HOLDERS - 1]]
            if len(ids) < MIN_UNRELATED:
                continue
            if key in lead_set and (key in not_distinctive
                                    or not _teaser_like(key, ids, docs, ignore | set(learned))):
                continue
            groups = _components(ids, docs, ignore | set(learned))
            if groups >= max(MIN_UNRELATED, math.ceil(GROUP_SHARE * len(ids) - 1e-9)):
                learned.append(key)
                groups_of[key] = groups
    if learned:
        first: dict[int, str] = {}
        for k, t in zip(block_keys, texts, strict=True):
            if k.whole is not None:
                first.setdefault(k.whole, t)
            if k.lead is not None:  # stored as "Read more: …": the key is a lead-in's
                first.setdefault(k.lead, f"{lead_in(t)} \u2026")
        for key in learned:
            s.add(Boilerplate(source_id=source_id, key=key, text=first[key],
                              articles=groups_of[key], learned_at=now))
        s.flush()

    boilerplate = known | set(learned)
    _changed, notices, kept_short = _apply(blocks, boilerplate)
    recleaned = _reclean(s, source_id, article_id, learned, holders)
    _maybe_prune(s, source_id)
    return CleanResult(article_id, notices, tuple(learned), recleaned, kept_short)


def _opening_long_blocks(s: Session, source_id: str, texts: Sequence[str],
                         leads: set[int]) -> set[int]:
    """The lead-in keys (among `leads`) that open a long block in one of the source's recent
    articles: they introduce real paragraphs (a dateline, an interviewer's "Q:")."""
    long_of: dict[int, int] = {}
    for text in texts:
        keys = _keys(text)
        if keys.lead in leads and keys.counter is not None:
            long_of[keys.counter] = keys.lead
    if not long_of:
        return set()
    seen = s.scalars(select(SourceBlock.key).distinct().where(
        SourceBlock.source_id == source_id, SourceBlock.key.in_(list(long_of))))
    return {long_of[k] for k in seen}


def _teaser_like(lead: int, ids: Sequence[int], docs: dict[int, _Doc],
                 ignore: set[int]) -> bool:
    """Whether the blocks opening with a lead-in (but those already learned whole) differ
    after it (else the whole block is the key), and no more than half of them go on with a
    quotation (a speaker's 'He said: "..."' is real text; a teaser's headline may quote)."""
    wholes: set[int | None] = set()
    blocks = quoted = 0
    for i in ids:
        doc = docs[i]
        for k, ld, q in zip(doc.keys, doc.leads, doc.quoted, strict=True):
            if ld == lead and k not in ignore:
                wholes.add(k)
                blocks += 1
                quoted += q
    return len(wholes) >= 2 and 2 * quoted <= blocks


def _reclean(s: Session, source_id: str, article_id: int, learned: Sequence[int],
             holders: dict[int, list[int]]) -> tuple[int, ...]:
    """Apply the source's boilerplate to its earlier articles holding a newly learned key;
    their full translations go (they translated the notice as text)."""
    others = sorted({o for key in learned for o in holders.get(key, ()) if o != article_id})
    changed: list[int] = []
    for other in others:
        blocks = _blocks(s, other)
        keys = _lookup_keys(_keys(b.text) for b in blocks)
        did, _n, _kept = _apply(blocks, _learned(s, source_id, keys))
        if did:
            changed.append(other)
    if changed:
        s.flush()
        s.execute(delete(Translation).where(Translation.article_id.in_(changed),
                                            Translation.scope == "full"))
    return tuple(changed)
