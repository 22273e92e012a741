"""Similar news: the nearest articles in the multilingual vector space.

Any original language counts — the same story told in another language is exactly what a
reader wants next to the article, and a translation of the article itself is the most
similar article there is. Wire copies (same-language near-duplicates) are never embedded,
so they never show up here; they are counted in a story's coverage instead. The list is
diversified: at most two articles of one publisher, other publishers and countries favoured
among near-equals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from babelwire.context import Context
from babelwire.similar import lexical
from babelwire.similar.vectors import EmbeddingsUnavailable, VectorSpace, from_bytes
from babelwire.store import vectors as stored_vectors
from babelwire.store.reader import Item, by_ids

CANDIDATES = 60
PER_SOURCE = 2
# A same-language article this close is a copy the fingerprints missed: not "similar news".
COPY_SIMILARITY = 0.985
SAME_SOURCE_PENALTY = 0.06
SAME_COUNTRY_PENALTY = 0.03
SYNC_MAX_AGE = 2.0  # seconds: how stale this process's index may be when asked
_warned: list[bool] = []


@dataclass(frozen=True)
class Neighbour:
    article_id: int
    score: float
    source_id: str | None
    country: str | None
    language: str | None


def article_vector(s: Session, space: VectorSpace, article_id: int) -> np.ndarray | None:
    vec = space.index.vector(article_id)
    if vec is not None:
        return vec
    row = stored_vectors.stored_vector(s, article_id, space.model)
    return from_bytes(row) if row is not None else None


def neighbours(s: Session, space: VectorSpace, article_id: int, *, window: timedelta,
               limit: int = 8, original_language: str | None = None,
               diversify: bool = True) -> list[Neighbour]:
    """The article's similar news, best first (scores are cosine similarities)."""
    me = stored_vectors.neighbour_origin(s, article_id)
    if me is None or me[0] is None:
        return []
    published: datetime = me[0]
    my_source, my_country, my_language = me[1], me[2], me[3]
    vec = article_vector(s, space, article_id)
    if vec is None:
        return []
    t, w = published.timestamp(), window.total_seconds()
    # a language filter thins the candidates: ask for more (bounded by the index size)
    k = CANDIDATES if original_language is None else max(CANDIDATES, 20 * limit, 400)
    hits = space.index.search(vec, min(k, max(len(space.index), 1)), time_from=t - w,
                              time_to=t + w, exclude={article_id})
    if not hits:
        return []
    rows = stored_vectors.shown_candidates(s, [h[0] for h in hits])
    found = []
    for aid, score in hits:
        row = rows.get(aid)
        if row is None:
            continue  # gone since it was indexed: a duplicate now, opted out, deleted
        _id, source_id, country, language = row
        if original_language is not None and language != original_language:
            continue
        if language == my_language and score >= COPY_SIMILARITY:
            continue
        found.append(Neighbour(aid, score, source_id, country, language))
    if not diversify:
        return found[:limit]
    return _diversify(found[: limit * 4], my_source, my_country, limit)


def _diversify(found: list[Neighbour], source_id: str | None, country: str | None,
               limit: int) -> list[Neighbour]:
    """Greedy: the best first; then each candidate's score is lowered for every article
    already chosen (or the article itself) from its publisher and its country, and no
    publisher gives more than two."""
    chosen: list[Neighbour] = []
    taken: dict[str, int] = {}
    seen_source: dict[str | None, int] = {source_id: 1} if source_id else {}
    seen_country: dict[str | None, int] = {country: 1} if country else {}

    def adjusted(n: Neighbour) -> float:
        return (n.score - SAME_SOURCE_PENALTY * seen_source.get(n.source_id, 0)
                - SAME_COUNTRY_PENALTY * seen_country.get(n.country, 0))

    pool = list(found)
    while pool and len(chosen) < limit:
        pool = [n for n in pool if n.source_id is None or taken.get(n.source_id, 0) < PER_SOURCE]
        if not pool:
            break
        pick = pool[0] if not chosen else max(pool, key=adjusted)
        pool.remove(pick)
        chosen.append(pick)
        if pick.source_id is not None:
            taken[pick.source_id] = taken.get(pick.source_id, 0) + 1
            seen_source[pick.source_id] = seen_source.get(pick.source_id, 0) + 1
        seen_country[pick.country] = seen_country.get(pick.country, 0) + 1
    return chosen


def similar_articles(s: Session, space: VectorSpace, article_id: int, lang: str, *,
                     window: timedelta, limit: int = 8,
                     original_language: str | None = None) -> list[Item]:
    found = neighbours(s, space, article_id, window=window, limit=limit,
                       original_language=original_language)
    return by_ids(s, [n.article_id for n in found], lang)


def similar_news(ctx: Context, s: Session, article_id: int, lang: str, *, limit: int = 8,
                 original_language: str | None = None) -> list[Item]:
    """What the site and the API show: by embeddings, or by shared title words when no
    embedding model is configured or installed (said once in the log)."""
    space = ctx.vectors
    try:
        space.sync(max_age=SYNC_MAX_AGE)
    except EmbeddingsUnavailable as exc:
        if not _warned:
            ctx.log.warning("similar news by shared words: %s", exc)
            _warned.append(True)
        return lexical.similar_articles(s, article_id, lang, limit)
    return similar_articles(s, space, article_id, lang,
                            window=timedelta(days=ctx.settings.similar_window_days),
                            limit=limit, original_language=original_language)
