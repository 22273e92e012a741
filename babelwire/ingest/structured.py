"""The page's own structured data as a second opinion on the body.

Many publishers put the article's whole text in JSON-LD (``articleBody``). Where it matches
what trafilatura found (most of the article's word 4-grams are in the extraction, and most
of the extraction's are in it), a block it does not hold is something the page put around
the article: a teaser, a newsletter box, an embedded post, a caption. Where it does not
match (a truncated teaser of a paywalled article, another article's text, a template's
placeholder), it is ignored. Section headings are never in ``articleBody``: one between
two confirmed paragraphs stays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["confirmed"]

# articleBody shorter than this (characters) is a teaser, not the article.
MIN_BODY_CHARS = 500
# The share of articleBody's 4-grams the extraction must hold, and the share of the
# extraction's 4-grams articleBody must hold, for it to speak for the article.
MIN_BODY_FOUND = 0.7
MIN_TEXT_CONFIRMED = 0.5
# A block is confirmed when at least this share of its 4-grams are in articleBody.
MIN_BLOCK_CONFIRMED = 0.5
NGRAM = 4

_TAG = re.compile(r"<[^>]{0,500}>")
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _grams(words: Sequence[str]) -> set[tuple[str, ...]]:
    if len(words) < NGRAM:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def confirmed(blocks: Sequence[tuple[bool, str]], article_body: str,
              also: Sequence[str] = ()) -> list[bool]:
    """For each (is_heading, text) block, whether to keep it given ``article_body``:
    all True when ``article_body`` does not match the extraction. ``also``: other texts
    the page says are its own (its description: the lead, which articleBody leaves out),
    confirming blocks but not the match."""
    keep_all = [True] * len(blocks)
    body_words = _words(_TAG.sub(" ", article_body))
    if len(article_body) < MIN_BODY_CHARS or len(body_words) < NGRAM:
        return keep_all
    body = _grams(body_words)
    joined = " " + " ".join(body_words) + " "
    grams = [_grams(_words(text)) for _, text in blocks]
    ours = set().union(*grams) if grams else set()
    if not ours or len(ours & body) < MIN_BODY_FOUND * len(body) \
            or len(ours & body) < MIN_TEXT_CONFIRMED * len(ours):
        return keep_all

    for text in also:
        extra = _words(text)
        body |= _grams(extra)
        joined += " ".join(extra) + " "

    def in_body(i: int) -> bool:
        g = grams[i]
        if not g:
            return True
        words = next(iter(g)) if len(g) == 1 and len(next(iter(g))) < NGRAM else None
        if words is not None:  # a block of fewer than NGRAM words: found as a phrase
            return f" {' '.join(words)} " in joined
        return len(g & body) >= MIN_BLOCK_CONFIRMED * len(g)

    keep = [not heading and in_body(i) for i, (heading, _) in enumerate(blocks)]
    kept = [i for i, k in enumerate(keep) if k]
    if not kept:
        return keep_all
    first, last = kept[0], kept[-1]
    for i, (heading, _) in enumerate(blocks):
        if heading:
            keep[i] = first < i < last or in_body(i)
    return keep
