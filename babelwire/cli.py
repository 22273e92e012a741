"""The `babelwire` command. Every subcommand calls the same pipeline functions as the
scheduler and the workers; nothing here holds pipeline logic.

Exit status: 0 success, 1 failure (one-line error on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from babelwire import __version__
from babelwire.config import Settings, SettingsError, describe
from babelwire.jobs import BrokerError
from babelwire.store.errors import StoreError


class CommandError(RuntimeError):
    """A failure to report on one line and exit 1."""


# --------------------------------------------------------------------------- helpers


class ProgressLine:
    """A one-line progress display on stderr when it is a terminal; silent otherwise."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = ""

    def __call__(self, text: str) -> None:
        if self.enabled and text != self._last:
            self._last = text
            self.stream.write("\r\x1b[K" + text)
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    overrides: dict[str, Any] = dict(extra)
    if getattr(args, "db", None):
        overrides["database_url"] = args.db
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    return Settings.load(**overrides)


def _context(args: argparse.Namespace, **extra: Any) -> Any:
    from babelwire.context import Context

    return Context.open(_settings(args, **extra))


# --------------------------------------------------------------------------- commands


def cmd_crawl(args: argparse.Namespace) -> int:
    from babelwire.ingest.crawl import crawl_forever, crawl_once
    from babelwire.jobs.runner import RunStats

    ctx = _context(args)
    country = args.country.upper() if args.country else None
    if country and not ctx.catalog.by_country(country):
        raise CommandError(f"no sources for country {country!r} (see `babelwire sources list`)")
    line = ProgressLine()

    def progress(st: RunStats) -> None:
        line(f"feeds {sum(st.feeds.values())}  found {st.discovered}  articles {st.done}  "
             f"stored {st.articles['ready']}  dup {st.articles['duplicate']}")

    try:
        if args.once:
            try:
                stats = asyncio.run(crawl_once(ctx, source_ids=args.source, country=country,
                                               progress=progress))
            except LookupError as exc:
                raise CommandError(str(exc)) from exc
            line.close()
            _print_crawl_summary(stats)
            return 0
        stop = asyncio.Event()
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(crawl_forever(ctx, stop, progress=progress))
        line.close()
        return 0
    finally:
        ctx.close()


def _print_crawl_summary(stats: Any) -> None:
    feeds = ", ".join(f"{n} {k}" for k, n in sorted(stats.feeds.items())) or "none"
    arts = ", ".join(f"{n} {k}" for k, n in sorted(stats.articles.items())) or "none"
    print(f"feeds polled: {feeds}")
    print(f"articles: {stats.discovered} new entries; {arts}")
    for reason, n in sorted(stats.reasons.items()):
        print(f"  {reason}: {n}")
    if stats.retried:
        tries = ", ".join(f"{n} {k}" for k, n in sorted(stats.retried.items()))
        print(f"fetches tried again after a wait: {tries}")
    if stats.errors:
        print(f"errors: {len(stats.errors)} (first: {stats.errors[0]})")


def cmd_extract(args: argparse.Namespace) -> int:
    from babelwire.ingest.prepare import PageInput, prepare_page, utcnow

    failed = 0
    inputs = args.files or ["-"]
    for i, name in enumerate(inputs):
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            failed += 1
            print(f"babelwire: {name}: {exc.strerror}", file=sys.stderr)
            if args.format == "json":
                print(json.dumps({"file": name, "error": exc.strerror}, ensure_ascii=False))
            continue
        if data[:2] == b"\x1f\x8b":
            import gzip

            data = gzip.decompress(data)
        # the pipeline's own preparation of a page: decode, extract, identify the language
        prepared = prepare_page(PageInput(url=args.url or "", status=200, body=data,
                                          content_type="text/html", headers={},
                                          fetched_at=utcnow()))
        ex = prepared.extracted
        out = ex.to_json()
        out["language"] = prepared.language
        if args.format == "json":
            print(json.dumps(out, ensure_ascii=False))
        else:
            if i:
                print("\f")
            print(ex.title or "")
            print()
            print(ex.text)
    return 1 if failed else 0


def cmd_import_warc(args: argparse.Namespace) -> int:
    from babelwire.ingest.warc import WarcError, WarcSummary, import_warc

    ctx = _context(args)
    line = ProgressLine()

    shown = [0.0]

    def progress(s: WarcSummary) -> None:
        if s.seconds - shown[0] < 0.2:  # a line five times a second is enough
            return
        shown[0] = s.seconds
        done = s.bytes_read / s.bytes_total if s.bytes_total else 0.0
        bar = "#" * int(done * 20)
        line(f"[{bar:<20}] {done:4.0%}  {s.records:,} records  {s.records_per_second:,.0f}/s  "
             f"stored {s.stored:,}  duplicates {s.duplicates:,}  "
             f"skipped {sum(s.skipped.values()):,}")

    try:
        summary = asyncio.run(import_warc(ctx, args.files, progress))
    except WarcError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        line.close()
        ctx.close()
    if args.format == "json":
        print(json.dumps(summary.to_json()))
    else:
        print(f"{summary.records} records from {summary.files} file(s) in "
              f"{summary.seconds:.1f} s ({summary.records_per_second:.0f}/s): "
              f"{summary.stored} stored, {summary.duplicates} duplicates, "
              f"{sum(summary.skipped.values())} skipped")
        for reason, n in sorted(summary.skipped.items()):
            print(f"  skipped {reason}: {n}")
        if summary.other:
            print(f"  {summary.other} other records (warcinfo, request, metadata): not pages")
        if summary.resumed:
            print(f"  resumed: {summary.resumed} records before the checkpoint were done by "
                  f"an earlier, interrupted import and not read again")
    return 0


def cmd_export_warc(args: argparse.Namespace) -> int:
    from babelwire.ingest.warc import export_warc

    ctx = _context(args)
    try:
        if args.output == "-":
            n = export_warc(ctx, sys.stdout.buffer, source_ids=args.source)
        else:
            with open(args.output, "wb") as out:
                n = export_warc(ctx, out, source_ids=args.source)
    except OSError as exc:
        raise CommandError(f"{args.output}: {exc.strerror}") from exc
    finally:
        ctx.close()
    print(f"wrote {n} records", file=sys.stderr)
    return 0


def cmd_reextract(args: argparse.Namespace) -> int:
    from babelwire.ingest.reextract import reextract

    ctx = _context(args)
    try:
        counts = asyncio.run(reextract(ctx, source_ids=args.source))
    finally:
        ctx.close()
    print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no stored pages")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    """Embed stored articles and place them in stories: those not yet in one, or (--redo)
    every READY article again, e.g. after changing the embedding model."""
    from sqlalchemy import select

    from babelwire.jobs.runner import make_runner
    from babelwire.jobs.stages import Flow
    from babelwire.similar.vectors import EmbeddingsUnavailable
    from babelwire.store import queries
    from babelwire.store.models import READY, Article

    ctx = _context(args)
    try:
        try:
            model = ctx.vectors.model
        except EmbeddingsUnavailable as exc:
            print(f"babelwire index: {exc}", file=sys.stderr)
            return 2
        with ctx.db.session() as s:
            ids = (list(s.scalars(select(Article.id).where(Article.status == READY)
                                  .order_by(Article.published_at, Article.id)))
                   if args.redo else queries.unindexed_article_ids(s))

        async def run() -> dict[str, int]:
            runner = make_runner(ctx, flow=Flow(follow=False, index=True, translate=False))
            for aid in ids:
                runner.submit("reindex" if args.redo else "index", aid)
            return dict((await runner.join()).indexed)

        counts = asyncio.run(run())
        if not ctx.settings.broker_url:  # workers keep their own snapshots
            ctx.vectors.save_snapshot()
    finally:
        ctx.close()
    print(f"{model}: " + (", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
                          or "nothing to index"))
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from babelwire.catalog import loader

    if args.sources_cmd == "discover":
        return _discover(args)
    if args.sources_cmd == "validate":
        problems = loader.validate_catalog(Path(args.dir) if args.dir else None)
        for p in problems:
            print(p)
        cat = loader.load_catalog(Path(args.dir) if args.dir else None) if not problems else None
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the catalogue")
        assert cat is not None
        print(f"ok: {len(cat)} sources in {len(cat.countries())} countries")
        return 0
    catalog = loader.load_catalog()
    if args.sources_cmd == "list":
        specs = list(catalog.by_country(args.country.upper()) if args.country
                     else catalog.sources)
        if args.country and not specs:
            raise CommandError(f"no sources for country {args.country.upper()!r}")
        if args.format == "json":
            for spec in specs:
                print(json.dumps({"id": spec.id, "name": spec.name, "country": spec.country,
                                  "languages": list(spec.languages), "homepage": spec.homepage,
                                  "feeds": list(spec.feeds), "sitemaps": list(spec.sitemaps),
                                  "policy": spec.policy, "opt_out": spec.opt_out},
                                 ensure_ascii=False))
        else:
            for spec in specs:
                flags = ("  [opted out]" if spec.opt_out else "") + (
                    "  [excerpt]" if spec.policy == "excerpt" else "")
                print(f"{spec.country}  {spec.id:<28} {','.join(spec.languages):<6} "
                      f"{spec.name}{flags}")
            print(f"{len(specs)} sources", file=sys.stderr)
        return 0
    from babelwire.catalog import opml

    if args.sources_cmd == "export-opml":
        text = opml.to_opml(catalog.sources)
        if args.output in (None, "-"):
            sys.stdout.write(text)
        else:
            Path(args.output).write_text(text, encoding="utf-8")
        return 0
    if args.sources_cmd == "import-opml":
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise CommandError(f"{args.file}: {exc.strerror}") from exc
        try:
            specs = opml.from_opml(data, default_country=args.country)
        except (loader.CatalogError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        from babelwire.context import Context
        from babelwire.store import queries

        merged = loader.catalog_from_specs([*catalog.sources, *[
            s for s in specs if catalog.get(s.id) is None]])
        ctx = Context.open(_settings(args), catalog=merged, sync_catalog=False)
        try:
            with ctx.db.session() as s:
                n = queries.sync_sources(s, specs)
        finally:
            ctx.close()
        print(f"imported {n} sources into the store")
        return 0
    raise CommandError("unknown sources command")


def _discover(args: argparse.Namespace) -> int:
    from babelwire.catalog.loader import catalog_from_specs
    from babelwire.context import Context
    from babelwire.ingest.fetch import FetchError
    from babelwire.ingest.pipeline import discover_source_feeds
    from babelwire.store.database import Database

    settings = _settings(args)
    ctx = Context(settings=settings, db=Database("sqlite://"), catalog=catalog_from_specs([]))

    async def run() -> list[Any]:
        try:
            return await discover_source_feeds(ctx, args.url)
        finally:
            await ctx.aclose()

    try:
        found = asyncio.run(run())
    except FetchError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        ctx.close()
    if not found:
        raise CommandError(f"no feed found for {args.url}")
    for feed in found:
        print(f"{feed.url}\t{feed.kind}\t{feed.entries} entries\t{feed.title or ''}")
    return 0


LANG_RE = r"^[a-z]{2,3}$"


def cmd_translate(args: argparse.Namespace) -> int:
    import re

    from babelwire.translate.engines import KNOWN, build_router
    from babelwire.translate.translator import NoRoute, Translator

    for flag, code in (("--source", args.source), ("--target", args.target)):
        if not re.match(LANG_RE, code):
            args.parser.error(f"{flag} {code!r} is not a language code like en, es, uk")
    if args.engine and args.engine not in KNOWN:
        args.parser.error(f"--engine {args.engine!r} is not one of {', '.join(KNOWN)}")
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"standard input is not UTF-8 (byte {exc.start})") from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    lines = [line.rstrip("\r") for line in lines]
    results = None
    if args.source != args.target:
        # A filter: no store (no translation memory) and only the engines asked for.
        router = build_router(_settings(args), engine=args.engine)
        try:
            run = Translator(router).translate(lines, args.source, args.target,
                                               engine=args.engine)
        except NoRoute as exc:
            print(f"babelwire: {exc}", file=sys.stderr)
            return 3
        finally:
            for opened in router.engines:
                opened.close()
        results = run.results
    for n, line in enumerate(lines):
        errors: tuple[str, ...] = ()
        if results is None:
            out, flagged, engine, path = line, False, "", [args.source]
        else:
            r = results[n]
            out, flagged, errors = " ".join(r.text.splitlines()), r.flagged, r.errors
            engine, path = "+".join(run.route.engine_names), run.route.path
        if flagged:
            why = "; ".join(errors) or "no engine could translate it"
            print(f"babelwire: line {n + 1} kept untranslated in part or whole: {why}",
                  file=sys.stderr)
        if args.format == "json":
            print(json.dumps({"text": out, "engine": engine, "path": path, "flagged": flagged},
                             ensure_ascii=False))
        else:
            print(out)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    import re
    import time

    from babelwire.translate import argos_index as ai
    from babelwire.translate import models

    settings = _settings(args)
    models_dir = settings.models_path
    parser: argparse.ArgumentParser = args.parser
    code_re = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")

    def readers() -> list[str]:
        # --for (repeatable, comma-separated); nothing given: the configured reader languages
        given = [c.strip() for item in (args.reader or []) for c in item.split(",")]
        chosen = [c for c in given if c] or list(settings.reader_languages)
        for code in chosen:
            if not code_re.fullmatch(code):
                parser.error(f"{code!r} is not a language code like de")
        return chosen

    def plan(index: list[ai.IndexPackage]) -> ai.Plan:
        from babelwire.catalog.loader import load_catalog

        catalog = load_catalog(Path(settings.catalog_dir) if settings.catalog_dir else None)
        languages = {lang for s in catalog.sources if not s.opt_out for lang in s.languages}
        return ai.plan_for_readers(index, readers(), languages)

    def client() -> Any:
        return ai.open_client(user_agent=settings.user_agent,
                              connect_timeout=settings.fetch_connect_timeout,
                              read_timeout=settings.fetch_read_timeout)

    def install_from_index(http: Any, packages: Sequence[ai.IndexPackage]) -> int:
        installed = ai.installed_versions(models_dir)
        todo = [p for p in packages if ai.needs_install(p, installed)]
        for p in packages:
            if p not in todo:
                print(f"up to date: {p.from_code}→{p.to_code} {installed[p.pair]}")
        failed = 0
        for n, package in enumerate(todo, 1):
            print(f"downloading {package.label} ({n}/{len(todo)}) from {package.links[0]}",
                  file=sys.stderr)
            line = ProgressLine()
            started = time.monotonic()

            def progress(done: int, total: int | None, package: Any = package,
                         line: ProgressLine = line, started: float = started) -> None:
                line(ai.progress_text(package.label, done, total,
                                      time.monotonic() - started))

            try:
                model = ai.install_package(package, models_dir, client=http,
                                           progress=progress)
            except models.ModelInstallError as exc:
                line.close()
                print(f"babelwire: {exc}", file=sys.stderr)
                failed += 1
                continue
            line.close()
            print(f"installed {model.from_code}→{model.to_code} {model.version} "
                  f"in {model.path}")
        if len(packages) > 1 or failed:
            print(f"{len(todo) - failed} installed, {len(packages) - len(todo)} up to date, "
                  f"{failed} failed", file=sys.stderr)
        return 1 if failed else 0

    try:
        if args.models_cmd == "list" and args.available:
            with client() as http:
                index = ai.newest_per_pair(ai.fetch_index(http, settings.argos_index_url))
                if args.reader:
                    index = sorted(plan(index).packages, key=lambda p: p.pair)
                sizes = ai.package_sizes(http, index)
            have = ai.installed_versions(models_dir)
            for p in index:
                status = ("-" if p.pair not in have else "installed"
                          if not ai.needs_install(p, have)
                          else f"installed {have[p.pair]} (update available)")
                print(f"{p.from_code}→{p.to_code}  {p.version:<5} "
                      f"{ai.human_size(sizes.get(p)):>9}  {status}")
            print(f"{len(index)} package(s) offered by {settings.argos_index_url}, "
                  f"{sum(p.pair in have for p in index)} installed", file=sys.stderr)
            return 0
        if args.models_cmd == "list":
            if args.reader:
                parser.error("--for goes with --available")
            listed = models.list_models(models_dir) if models_dir.exists() else []
            for m in listed:
                print(f"{m.from_code}→{m.to_code}  {m.version}  {m.path}")
            print(f"{len(listed)} model(s) in {models_dir}", file=sys.stderr)
            return 0
        if args.models_cmd == "remove":
            removed = models.remove_model(models_dir, args.source, args.target, args.version)
            if not removed:
                raise CommandError(f"no {args.source}→{args.target} model installed")
            print(f"removed {len(removed)} model(s)")
            return 0
        # install: FILE..., FROM TO, a NAME like en-de, or --for LANG (default: readers)
        items = list(args.package)
        if items and all(Path(i).is_file() for i in items):
            if args.reader or args.dry_run:
                parser.error("--for and --dry-run do not go with package files")
            for item in items:
                model = models.install_model(Path(item), models_dir)
                print(f"installed {model.from_code}→{model.to_code} {model.version} "
                      f"in {model.path}")
            return 0
        pair: tuple[str, str] | None = None
        if len(items) == 2 and all(code_re.fullmatch(i) for i in items):
            pair = (items[0], items[1])
        elif len(items) == 1:
            named = re.fullmatch(r"(?:translate-)?([A-Za-z]{2,3})[-_]([A-Za-z]{2,3})",
                                 items[0])
            if named is None:
                parser.error(f"{items[0]!r} is neither a file nor a pair like en-de")
            pair = (named.group(1), named.group(2))
        elif items:
            parser.error("give a FILE, a pair FROM TO, or --for LANG")
        if pair is not None and args.reader:
            parser.error("give either a pair or --for, not both")
        with client() as http:
            index = ai.fetch_index(http, settings.argos_index_url)
            if pair is not None:
                found = ai.find_package(index, *pair)
                if found is None:
                    raise CommandError(f"the Argos package index at "
                                       f"{settings.argos_index_url} offers no "
                                       f"{pair[0]}→{pair[1]} package")
                packages = [found]
            else:
                chosen = plan(index)
                packages = list(chosen.packages)
                print(f"for readers of {', '.join(chosen.readers)}: {len(packages)} "
                      f"package(s) from {settings.argos_index_url}", file=sys.stderr)
                if chosen.missing:
                    print("not offered by the index (these need another engine): "
                          + ", ".join(f"{a}→{b}" for a, b in chosen.missing), file=sys.stderr)
            if args.dry_run:
                sizes = ai.package_sizes(http, packages)
                have = ai.installed_versions(models_dir)
                for p in packages:
                    state = "up to date" if not ai.needs_install(p, have) else "to install"
                    print(f"{p.from_code}→{p.to_code}  {p.version:<5} "
                          f"{ai.human_size(sizes.get(p)):>9}  {state}")
                return 0
            return install_from_index(http, packages)
    except models.ModelInstallError as exc:
        raise CommandError(str(exc)) from exc


def cmd_engines(args: argparse.Namespace) -> int:
    from babelwire.context import Context
    from babelwire.translate import reach

    ctx = Context.open(_settings(args), sync_catalog=False)
    try:
        router = ctx.translator.router
        sources = sorted({lang for s in ctx.catalog.sources for lang in s.languages})
        table = reach.compute(router, sources, ctx.settings.reader_languages)
        verbose: int = getattr(args, "verbose", 0)
        if args.format == "json":
            print(json.dumps({
                "engines": [{"name": e.name, "version": e.version(), "ok": e.health().ok,
                             "detail": e.health().detail} for e in router.engines],
                "pairs": [{"source": a, "target": b, "engine": h.engine.name,
                           "chrf": round(h.quality, 1), "measured": h.measured}
                          for (a, b), hops in router.hops().items() for h in hops],
                "min_chrf": router.min_quality,
                "reach": [c.as_dict() for c in table.cells.values()],
                "unserved_readers": table.unserved(),
                "install_hint": reach.install_hint(table.unserved() or
                                                   ctx.settings.reader_languages),
            }, ensure_ascii=False))
            return 0 if router.engines else 1
        if not router.engines:
            print("no translation engine is available (install Apertium: make setup)")
            return 1
        print("engines:")
        for engine in router.engines:
            health = engine.health()
            state = "ok" if health.ok else "DOWN"
            print(f"  {engine.name:<15} {state:<5} {engine.version()}")
        print(f"direct pairs (best engine first; chrF on NTREX-128, * = not measured, "
              f"routes under chrF {router.min_quality:g} are not offered):")
        for (a, b), hops in router.hops().items():
            print(f"  {a}→{b}  " + ", ".join(
                f"{h.engine.name} {h.quality:.0f}{'' if h.measured else '*'}" for h in hops))
        print("reader languages (catalogue languages that reach each one):")
        for reader in table.readers:
            got = [s for s in table.reached_by(reader) if s != reader]
            gaps = table.missing(reader)
            print(f"  {reader}: {len(got)} of {len(table.sources) - (reader in table.sources)}"
                  f"{' (' + ', '.join(got) + ')' if got else ''}")
            if gaps and verbose:
                print(f"      not reached: {', '.join(gaps)}")
        if verbose:
            print("routes through a pivot language:")
            for cell in table.cells.values():
                if cell.route is not None and len(cell.route.hops) > 1:
                    print(f"  {cell.route.describe()}")
        for line in reach.summary_lines(table):
            print(line)
    finally:
        ctx.close()
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from babelwire.store.database import Database, current_revision, head_revision

    settings = _settings(args)
    if args.db_cmd == "reindex-search":
        return _reindex_search(settings.store_url)
    db = Database(settings.store_url, auto_upgrade=args.db_cmd == "upgrade")
    try:
        rev = current_revision(db.engine)
        print(f"{db.backend}: schema at {rev or 'none'} (latest {head_revision()})")
    finally:
        db.dispose()
    return 0


def _reindex_search(url: str) -> int:
    import time

    from babelwire.store.database import Database
    from babelwire.store.search import reindex

    db = Database(url)
    try:
        t0 = time.monotonic()
        docs = reindex(db.engine, progress=lambda last, n: print(
            f"  ... article {last}: {n} documents", file=sys.stderr))
        print(f"{db.backend}: search index rebuilt, {docs} documents in "
              f"{time.monotonic() - t0:.1f} s")
    finally:
        db.dispose()
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    for env, default, help_text in describe():
        print(f"{env}={default}\n    {help_text}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from babelwire.web.server import serve

    settings = _settings(args, host=args.host, port=args.port)
    serve(settings, crawl=not args.no_crawl)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    if args.metrics_port and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        # before prometheus_client is imported: the job processes' metrics go to files
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="babelwire-metrics-")
    from babelwire.jobs.celery_app import worker_main

    settings = _settings(args)
    if not settings.broker_url:
        raise CommandError("a worker needs a broker: set BABELWIRE_BROKER_URL "
                           "(e.g. redis://127.0.0.1:6379/0) and a shared BABELWIRE_DATABASE_URL")
    queues = [q for part in args.queues or () for q in part.split(",") if q]
    try:
        worker_main(settings, concurrency=args.concurrency, queues=queues or None,
                    loglevel="DEBUG" if getattr(args, "verbose", 0) else "INFO",
                    metrics_port=args.metrics_port)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from babelwire.status import gather, render

    ctx = _context(args)
    try:
        report = gather(ctx)
    finally:
        ctx.close()
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, default=str))
    else:
        print(render(report))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from babelwire.demo.run import run_demo

    settings = _settings(args, host=args.host, port=args.port)
    run_demo(settings, newsroom_port=args.newsroom_port, fresh=not args.keep,
             exit_after_crawl=args.exit_after_crawl)
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    # Options valid before or after the subcommand; SUPPRESS keeps a subcommand's parser
    # from resetting a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                        help="database URL (default: SQLite in the data directory; "
                        "env BABELWIRE_DATABASE_URL)")
    common.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="data directory (env BABELWIRE_DATA_DIR)")
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="log more")

    p = argparse.ArgumentParser(prog="babelwire", description="World news, in your language.",
                                parents=[common])
    p.add_argument("--version", action="version", version=f"babelwire {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str
            ) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        sp.set_defaults(func=func)
        return sp

    sp = add("crawl", cmd_crawl, "poll the catalogue's feeds and ingest new articles")
    sp.add_argument("--country", metavar="CC", help="only sources of this country")
    sp.add_argument("--source", metavar="ID", action="append", help="only this source "
                    "(repeatable)")
    sp.add_argument("--once", action="store_true", help="poll every selected feed once, "
                    "ingest, and exit (default: keep polling as feeds fall due)")

    sp = add("extract", cmd_extract, "extract articles from HTML files (one JSON line each)")
    sp.add_argument("files", nargs="*", metavar="FILE", help="HTML files (.gz ok); - for stdin")
    sp.add_argument("--url", help="the page's URL (resolves relative links)")
    sp.add_argument("--format", choices=["json", "text"], default="json")

    sp = add("import-warc", cmd_import_warc, "ingest the HTML responses of WARC files")
    sp.add_argument("files", nargs="+", metavar="FILE")
    sp.add_argument("--format", choices=["json", "text"], default="text")

    sp = add("export-warc", cmd_export_warc, "write stored raw pages to a WARC file")
    sp.add_argument("output", metavar="FILE", help="output .warc.gz; - for stdout")
    sp.add_argument("--source", action="append", metavar="ID")

    sp = add("reextract", cmd_reextract, "extract stored articles again from their raw pages")
    sp.add_argument("--source", action="append", metavar="ID")

    sp = add("index", cmd_index, "embed stored articles and place them in stories")
    sp.add_argument("--redo", action="store_true",
                    help="embed every article again (after changing the embedding model)")

    sp = add("sources", cmd_sources, "the publisher catalogue")
    ssub = sp.add_subparsers(dest="sources_cmd", required=True, metavar="ACTION")
    lp = ssub.add_parser("list", parents=[common], help="list sources")
    lp.add_argument("--country", metavar="CC")
    lp.add_argument("--format", choices=["text", "json"], default="text")
    dp = ssub.add_parser("discover", parents=[common],
                         help="find the feeds a publisher's homepage offers")
    dp.add_argument("url", help="the publisher's homepage")
    vp = ssub.add_parser("validate", parents=[common], help="check the catalogue files")
    vp.add_argument("--dir", help="a catalogue directory (default: the bundled one)")
    ep = ssub.add_parser("export-opml", parents=[common], help="write the catalogue as OPML")
    ep.add_argument("output", nargs="?", help="file (default: stdout)")
    ip = ssub.add_parser("import-opml", parents=[common], help="add sources from an OPML file")
    ip.add_argument("file")
    ip.add_argument("--country", metavar="CC", help="country for feeds that name none")

    sp = add("translate", cmd_translate, "translate lines of UTF-8 text from stdin "
             "(one output line per input line)")
    sp.add_argument("--source", "-s", required=True, metavar="LANG", help="e.g. en")
    sp.add_argument("--target", "-t", required=True, metavar="LANG", help="e.g. es")
    sp.add_argument("--engine", metavar="NAME", help="use only this engine "
                    "(apertium, argos, apy, libretranslate)")
    sp.add_argument("--format", choices=["text", "json"], default="text")
    sp.set_defaults(parser=sp)

    sp = add("engines", cmd_engines, "translation engines, their pairs with measured quality, "
             "and which reader languages each catalogue language reaches")
    sp.add_argument("--format", choices=("text", "json"), default="text")

    sp = add("models", cmd_models, "neural translation models (Argos Translate packages)")
    msub = sp.add_subparsers(dest="models_cmd", required=True, metavar="ACTION")
    mi = msub.add_parser(
        "install", parents=[common],
        help="install .argosmodel files, or download from the Argos package index: a pair "
             "(FROM TO), or every package readers of a language need (--for LANG; with "
             "nothing given, the configured reader languages)")
    mi.add_argument("package", nargs="*", metavar="FILE|FROM TO|NAME",
                    help="package files, a pair like `en de`, or a name like en-de")
    mi.add_argument("--for", dest="reader", action="append", metavar="LANG",
                    help="reader language(s): into and out of English, and every catalogue "
                         "language into English (repeat or comma-separate)")
    mi.add_argument("--dry-run", action="store_true",
                    help="show what would be downloaded (with sizes), download nothing")
    mi.set_defaults(parser=mi)
    ml = msub.add_parser("list", parents=[common], help="list installed models, or with "
                         "--available what the Argos package index offers")
    ml.add_argument("--available", action="store_true",
                    help="the index's packages, their size and whether they are installed")
    ml.add_argument("--for", dest="reader", action="append", metavar="LANG",
                    help="with --available: only what readers of LANG need")
    ml.set_defaults(parser=ml)
    mr = msub.add_parser("remove", parents=[common], help="remove an installed model")
    mr.add_argument("source", metavar="FROM")
    mr.add_argument("target", metavar="TO")
    mr.add_argument("--version")
    mr.set_defaults(parser=mr)

    sp = add("db", cmd_db, "database schema")
    dsub = sp.add_subparsers(dest="db_cmd", required=True, metavar="ACTION")
    dsub.add_parser("upgrade", parents=[common], help="migrate the schema to the latest")
    dsub.add_parser("status", parents=[common], help="show the schema revision")
    dsub.add_parser("reindex-search", parents=[common],
                    help="rebuild the full-text search index (after a stemmer change)")

    add("settings", cmd_settings, "list every setting with its default and help")

    sp = add("serve", cmd_serve, "serve the website and keep crawling")
    sp.add_argument("--host", help="bind address (default 127.0.0.1)")
    sp.add_argument("--port", type=int, help="port (default 8470)")
    sp.add_argument("--no-crawl", action="store_true", help="serve only, do not poll feeds")

    sp = add("scheduler", cmd_crawl, "poll feeds as they fall due (with a broker, the jobs "
             "go to the workers; several schedulers never poll one feed twice)")
    sp.set_defaults(once=False, country=None, source=None)

    sp = add("worker", cmd_worker, "run jobs from the broker (BABELWIRE_BROKER_URL): fetch, "
             "extract, embed, translate")
    sp.add_argument("--concurrency", "-c", type=int, default=os.cpu_count() or 1,
                    help="jobs at once (worker processes; default: one per CPU core)")
    sp.add_argument("--queues", "-Q", action="append", metavar="Q[,Q...]",
                    help="only these queues: feeds, ingest, index, translate (default: all)")
    sp.add_argument("--metrics-port", type=int, default=0, metavar="PORT",
                    help="serve this worker's Prometheus metrics on PORT (default: off)")

    sp = add("status", cmd_status, "what the system is doing: articles, feeds, queues, jobs")
    sp.add_argument("--format", choices=("text", "json"), default="text")

    sp = add("demo", cmd_demo, "the whole system offline: a bundled newsroom, crawled and served")
    sp.add_argument("--host", help="bind address (default 127.0.0.1)")
    sp.add_argument("--port", type=int, help="Babelwire's port (default 8470)")
    sp.add_argument("--newsroom-port", type=int, default=0, help="the sample sites' port")
    sp.add_argument("--keep", action="store_true", help="keep the previous demo database")
    sp.add_argument("--exit-after-crawl", action="store_true", help="crawl, print, exit")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verbose = getattr(args, "verbose", 0)
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except (CommandError, SettingsError, StoreError, BrokerError) as exc:
        print(f"babelwire: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: still one line, and a hint for more
        if verbose:
            raise
        print(f"babelwire: {type(exc).__name__}: {exc} (run with -v for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
