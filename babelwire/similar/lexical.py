"""Similar news by shared words, in the reader's language.

Titles and descriptions are compared in the reader's language (their translation, made at
ingest, or the original when it is already in that language), so coverage in other
languages is found through the translations. An interim method until multilingual
embeddings (issue 5): real and cheap, but it only sees what titles and descriptions say.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from babelwire.store.models import READY, Article, Source, Translation
from babelwire.store.reader import Item, by_ids, publisher_shown

_WORD = re.compile(r"\w{3,}", re.UNICODE)
WINDOW = timedelta(days=7)
CANDIDATES = 2000


def _words(*texts: str | None) -> set[str]:
    return {w.lower() for t in texts if t for w in _WORD.findall(t) if not w.isdigit()}


def similar_articles(session: Session, article_id: int, lang: str, limit: int = 8
                     ) -> list[Item]:
    """Articles about the same thing, other sources and countries first; duplicates and
    the article itself excluded."""
    art = session.get(Article, article_id)
    if art is None or art.published_at is None:
        return []
    mine_tr = session.scalar(select(Translation).where(Translation.article_id == article_id,
                                                       Translation.language == lang))
    mine = _words(mine_tr.title, mine_tr.description) if mine_tr else set()
    if not mine:
        mine = _words(art.title, art.description)
    if not mine:
        return []
    base = (
        select(Article.id, Article.title, Article.description, Article.language,
               Article.source_id, Article.country, Translation.title, Translation.description,
               Article.published_at)
        .join(Source, Article.source_id == Source.id, isouter=True)
        .join(Translation, and_(Translation.article_id == Article.id,
                                Translation.language == lang), isouter=True)
        .where(Article.status == READY, Article.id != article_id,
               publisher_shown()))
    # the candidates nearest in time on both sides, within the window
    t = art.published_at
    before = session.execute(
        base.where(Article.published_at <= t, Article.published_at >= t - WINDOW)
        .order_by(Article.published_at.desc()).limit(CANDIDATES // 2)).all()
    after = session.execute(
        base.where(Article.published_at > t, Article.published_at <= t + WINDOW)
        .order_by(Article.published_at).limit(CANDIDATES // 2)).all()
    rows = sorted([*before, *after], key=lambda r: abs(((r[8] or t) - t).total_seconds()))
    scored: list[tuple[float, int, str | None, str | None]] = []
    for aid, title, desc, language, source_id, country, tr_title, tr_desc, _t in rows:
        words = _words(tr_title, tr_desc) if (tr_title or tr_desc) else (
            _words(title, desc) if language == lang or language == art.language else set())
        if not words:
            continue
        overlap = len(mine & words)
        # Like a nearest-neighbour query, every candidate gets a score: shared words
        # first, and among articles sharing none, the nearest in time (rows are sorted by
        # distance in time) fill the list up to `limit`.
        score = overlap / (len(mine | words) ** 0.5) if overlap else -len(scored) * 1e-6
        scored.append((score, aid, source_id, country))
    scored.sort(key=lambda x: -x[0])
    return by_ids(session, _diversify(scored, art.source_id, art.country, limit), lang)


def _diversify(scored: Sequence[tuple[float, int, str | None, str | None]],
               source_id: str | None, country: str | None, limit: int) -> list[int]:
    """Best first, but at most two per source, other sources and countries favoured."""
    chosen: list[int] = []
    per_source: dict[str | None, int] = {}
    def rank(x: tuple[float, int, str | None, str | None]) -> float:
        score, _aid, src, ctry = x
        if score <= 0:
            return score
        return score * (1.25 if src != source_id else 1.0) * (1.15 if ctry != country else 1.0)

    ranked = sorted(scored, key=lambda x: -rank(x))
    for _score, aid, src, _country in ranked:
        if per_source.get(src, 0) >= 2:
            continue
        per_source[src] = per_source.get(src, 0) + 1
        chosen.append(aid)
        if len(chosen) == limit:
            break
    return chosen
