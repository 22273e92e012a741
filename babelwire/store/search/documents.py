"""What is searchable of an article: its original and each stored translation, read with
a few Core queries (no ORM loads), as documents for a backend to index."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from babelwire.store.models import READY, Article, Block, Translation


@dataclass(frozen=True)
class Document:
    article_id: int
    language: str
    original: bool
    published: int  # Unix seconds
    country: str | None
    source_id: str | None
    article_language: str | None
    title: str
    summary: str
    body: str


def _epoch(value: datetime | str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, str):  # a raw SQLite value
        value = datetime.fromisoformat(value)
    return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())


def documents(conn: Connection, article_ids: Sequence[int]) -> Iterator[Document]:
    """The documents of the given articles that are READY (others have none)."""
    if not article_ids:
        return
    ids = list(article_ids)
    arts = conn.execute(
        select(Article.id, Article.title, Article.description, Article.language,
               Article.published_at, Article.discovered_at, Article.country,
               Article.source_id)
        .where(Article.id.in_(ids), Article.status == READY)).all()
    if not arts:
        return
    ready = [a.id for a in arts]
    bodies: dict[int, list[str]] = defaultdict(list)
    for aid, text in conn.execute(
            select(Block.article_id, Block.text)
            .where(Block.article_id.in_(ready), Block.role == "text")
            .order_by(Block.article_id, Block.position)):
        bodies[aid].append(text)
    translations: dict[int, list[tuple[str, str, str, str]]] = defaultdict(list)
    for aid, lang, title, desc, blocks in conn.execute(
            select(Translation.article_id, Translation.language, Translation.title,
                   Translation.description, Translation.blocks)
            .where(Translation.article_id.in_(ready))):
        body = "\n".join(str(b.get("text", "")) for b in blocks or [] if isinstance(b, dict))
        translations[aid].append((lang, title or "", desc or "", body))
    for a in arts:
        published = _epoch(a.published_at or a.discovered_at)
        common = {"article_id": a.id, "published": published, "country": a.country,
                  "source_id": a.source_id, "article_language": a.language}
        yield Document(language=a.language or "", original=True, title=a.title or "",
                       summary=a.description or "", body="\n".join(bodies.get(a.id, [])),
                       **common)
        for lang, title, desc, body in translations.get(a.id, []):
            if lang != a.language:
                yield Document(language=lang, original=False, title=title, summary=desc,
                               body=body, **common)
