"""The demo newsroom: fictional news sites served on loopback, for ``babelwire demo`` and tests.

Articles are stored with their age, so the sites always look fresh: absolute times are
computed once, from ``now``, when the newsroom is created. Pages are rendered on request.

Run it standalone for browsing: ``python -m babelwire.demo.newsroom --port 8471``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from babelwire.catalog.model import SourceSpec
from babelwire.demo import feeds
from babelwire.demo.pages import ArticleView, PageRenderer, image_svg, logo_svg
from babelwire.demo.publishers import Publisher, load_chrome, load_publishers

__all__ = ["DemoArticle", "DemoNewsroom", "main"]

log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
SITEMAP_NAME = "sitemap-news.xml"


@dataclass(frozen=True)
class DemoArticle:
    """Ground truth for one demo article: what the pipeline should extract from its page."""

    site: str
    url: str
    language: str
    country: str
    title: str
    author: str
    published: datetime  # UTC
    paragraphs: tuple[str, ...]  # body text blocks in order, headings included, no chrome
    story: str | None  # story key shared by the outlets that cover the same event
    wire_of: str | None  # URL of the original when this is a syndicated copy


@dataclass(frozen=True)
class _Response:
    status: int
    content_type: str
    body: bytes
    last_modified: datetime | None = None
    location: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("demo newsroom: error serving %s", client_address, exc_info=True)


class DemoNewsroom:
    """A small HTTP server hosting every demo site under ``/<site>/``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 now: datetime | None = None) -> None:
        self.host = host
        self.port = port
        moment = now or datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        self.now = moment.astimezone(UTC).replace(microsecond=0)
        self.publishers = {pub.id: pub for pub in load_publishers()}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._catalogue: _Catalogue | None = None

    # lifecycle
    def start(self) -> None:
        if self._server is not None:
            return
        self._server = _Server((self.host, self.port), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="demo-newsroom", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> DemoNewsroom:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is not None:
            return f"http://{self.host}:{self._server.server_address[1]}"
        if self.port:
            return f"http://{self.host}:{self.port}"
        raise RuntimeError("the demo newsroom picks its port on start(): call start() first")

    # ground truth
    def sources(self) -> list[SourceSpec]:
        base = self.base_url
        return [
            SourceSpec(
                id=pub.id,
                name=pub.name,
                homepage=f"{base}/{pub.id}/",
                country=pub.country,
                languages=(pub.language,),
                feeds=(f"{base}/{pub.feed_path}",),
                sitemaps=(f"{base}/{pub.id}/{SITEMAP_NAME}",) if pub.news_sitemap else (),
                logo=f"{base}/{pub.id}/logo.svg",
                policy=pub.policy,
            )
            for pub in self.publishers.values()
        ]

    def articles(self) -> list[DemoArticle]:
        catalogue = self._content()
        out: list[DemoArticle] = []
        for pub in self.publishers.values():
            for view in catalogue.views[pub.id]:
                stored = view.stored
                out.append(DemoArticle(
                    site=pub.id,
                    url=view.url,
                    language=pub.language,
                    country=pub.country,
                    title=stored.title,
                    author=stored.author,
                    published=view.published,
                    paragraphs=tuple(block.text for block in stored.blocks),
                    story=stored.story,
                    wire_of=f"{self.base_url}/{stored.wire_of}.html" if stored.wire_of else None,
                ))
        return out

    def appeals(self) -> dict[str, list[str]]:
        return {pub.id: pub.appeal_texts for pub in self.publishers.values() if pub.appeal_texts}

    # serving
    def _content(self) -> _Catalogue:
        base = self.base_url
        if self._catalogue is None or self._catalogue.base_url != base:
            self._catalogue = _Catalogue(base, self.publishers, self.now)
        return self._catalogue

    def respond(self, path: str) -> _Response:
        """The response for one request path (query string ignored)."""
        return self._content().respond(unquote(urlsplit(path).path))


class _Catalogue:
    """Every page of every site for one base URL: routing and rendering."""

    def __init__(self, base_url: str, publishers: dict[str, Publisher], now: datetime) -> None:
        self.base_url = base_url
        self.publishers = publishers
        self.now = now
        self.renderer = PageRenderer(base_url, load_chrome())
        self.views: dict[str, list[ArticleView]] = {}
        self.by_path: dict[str, tuple[Publisher, ArticleView]] = {}
        for pub in publishers.values():
            views = [
                ArticleView(
                    stored=stored,
                    url=f"{base_url}/{stored.path}",
                    published=now - timedelta(seconds=round(stored.age_hours * 3600)),
                    section=pub.section(stored.section),
                )
                for stored in sorted(pub.articles, key=lambda a: a.age_hours)
            ]
            self.views[pub.id] = views
            for view in views:
                self.by_path[f"/{view.stored.path}"] = (pub, view)

    def newest(self, pub: Publisher) -> datetime:
        return max((v.published for v in self.views[pub.id]), default=self.now)

    def respond(self, path: str) -> _Response:
        if path == "/robots.txt":
            return _Response(200, "text/plain; charset=utf-8", self.robots().encode(),
                             self.now)
        if path in ("", "/"):
            return _Response(200, HTML, self.index().encode(), self.now)
        if path in self.by_path:
            pub, view = self.by_path[path]
            page = self.renderer.article(pub, view, self.views[pub.id])
            return _Response(200, HTML, page.encode(), view.published)
        parts = path.strip("/").split("/")
        if parts[0] not in self.publishers:
            return self.not_found()
        pub = self.publishers[parts[0]]
        if len(parts) == 1 and not path.endswith("/"):
            return _Response(301, HTML, b"", location=f"/{pub.id}/")
        rest = "/".join(parts[1:])
        route = self._site_routes(pub).get(rest)
        if route is not None:
            return route()
        if len(parts) == 2 and path.endswith("/"):
            section = next((s for s in pub.sections if s.slug == parts[1]), None)
            if section is not None:
                page = self.renderer.listing(pub, self.views[pub.id], section)
                return _Response(200, HTML, page.encode(), self.newest(pub))
        if len(parts) == 3 and parts[1] == "images" and parts[2].endswith(".svg"):
            image = next((v for v in self.views[pub.id] if f"{v.stored.slug}.svg" == parts[2]),
                         None)
            if image is not None:
                return _Response(200, "image/svg+xml", image_svg(pub, image).encode(),
                                 image.published)
        return self.not_found()

    def _site_routes(self, pub: Publisher) -> dict[str, Callable[[], _Response]]:
        views = self.views[pub.id]
        newest = self.newest(pub)
        routes: dict[str, Callable[[], _Response]] = {
            "": lambda: _Response(200, HTML, self.renderer.listing(pub, views).encode(), newest),
            "about.html": lambda: _Response(200, HTML, self.renderer.about(pub, views).encode(),
                                            self.now),
            "logo.svg": lambda: _Response(200, "image/svg+xml", logo_svg(pub).encode(),
                                          self.now),
            pub.feed_path.split("/", 1)[1]: lambda: self.feed(pub),
        }
        if pub.news_sitemap:
            routes[SITEMAP_NAME] = lambda: self.sitemap(pub)
        if pub.private_path:
            routes[f"private/{pub.private_path}"] = lambda: _Response(
                200, HTML, self.renderer.about(pub, views, private=True).encode(), self.now)
        return routes

    def entries(self, pub: Publisher) -> list[feeds.FeedEntry]:
        return [
            feeds.FeedEntry(url=v.url, title=v.title, summary=v.stored.summary,
                            author=v.stored.author, published=v.published,
                            category=v.section.name)
            for v in self.views[pub.id]
        ]

    def feed(self, pub: Publisher) -> _Response:
        site_url = f"{self.base_url}/{pub.id}/"
        feed_url = f"{self.base_url}/{pub.feed_path}"
        entries = self.entries(pub)
        if pub.feed == "rss":
            text = feeds.rss(pub, site_url, feed_url, entries, self.now)
        elif pub.feed == "atom":
            text = feeds.atom(pub, site_url, feed_url, entries, self.now)
        else:
            text = feeds.json_feed(pub, site_url, feed_url, entries, f"{site_url}logo.svg")
        return _Response(200, CONTENT_TYPES[pub.feed], text.encode(), self.newest(pub))

    def sitemap(self, pub: Publisher) -> _Response:
        text = feeds.news_sitemap(pub, self.entries(pub))
        return _Response(200, "application/xml; charset=utf-8", text.encode(), self.newest(pub))

    def robots(self) -> str:
        lines = ["# Babelwire demo newsroom: one host, many fictional publishers", "",
                 "User-agent: *"]
        lines += [f"Disallow: /{p.id}/private/" for p in self.publishers.values()
                  if p.private_path]
        lines += ["Allow: /", ""]
        lines += [f"Sitemap: {self.base_url}/{p.id}/{SITEMAP_NAME}"
                  for p in self.publishers.values() if p.news_sitemap]
        return "\n".join(lines) + "\n"

    def index(self) -> str:
        rows = "\n".join(
            f'<li><a href="/{p.id}/">{html.escape(p.name)}</a> ({p.country}, {p.language}) '
            f"&middot; {len(self.views[p.id])} articles</li>"
            for p in self.publishers.values()
        )
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f"<title>Babelwire demo newsroom</title></head><body>"
                f"<h1>Babelwire demo newsroom</h1><p>Fictional publishers, served offline.</p>"
                f"<ul>\n{rows}\n</ul></body></html>\n")

    def not_found(self) -> _Response:
        return _Response(404, HTML, b"<!DOCTYPE html><html lang=\"en\"><head><title>Not found"
                         b"</title></head><body><h1>404 Not found</h1></body></html>\n")


def _not_modified(headers: Any, etag: str, last_modified: datetime | None) -> bool:
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = headers.get("If-Modified-Since")
    if since and last_modified is not None:
        try:
            moment = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= moment
    return False


def _handler_for(newsroom: DemoNewsroom) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "DemoNewsroom/1.0"
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def do_GET(self) -> None:
            self._serve(with_body=True)

        def do_HEAD(self) -> None:
            self._serve(with_body=False)

        def _serve(self, *, with_body: bool) -> None:
            response = newsroom.respond(self.path)
            etag = f'"{hashlib.sha1(response.body).hexdigest()[:20]}"'
            modified = (format_datetime(response.last_modified, usegmt=True)
                        if response.last_modified else None)
            if response.status == 200 and _not_modified(self.headers, etag,
                                                        response.last_modified):
                self.send_response(304)
                self.send_header("ETag", etag)
                if modified:
                    self.send_header("Last-Modified", modified)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            if response.location:
                self.send_header("Location", response.location)
            if response.status == 200:
                self.send_header("ETag", etag)
                self.send_header("Cache-Control", "max-age=60")
                if modified:
                    self.send_header("Last-Modified", modified)
            self.end_headers()
            if with_body:
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("demo newsroom: " + format, *args)

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the Babelwire demo newsroom.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8471)
    args = parser.parse_args(argv)
    newsroom = DemoNewsroom(args.host, args.port)
    newsroom.start()
    print(f"Demo newsroom on {newsroom.base_url}/ (Ctrl-C to stop)", flush=True)
    for source in newsroom.sources():
        print(f"  {source.homepage}  {source.name} [{source.country}, {source.languages[0]}]")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        newsroom.stop()


if __name__ == "__main__":
    main()
