"""The distributed runner, for real: a Redis server of the test's own, `babelwire worker`
processes (Celery, prefork), the store on SQLite and PostgreSQL. The same WARC import run
in-process and on workers gives the same summary and the same stored, indexed result; a
worker SIGKILLed in the middle of the run loses nothing and stores nothing twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from warcio.warcwriter import WARCWriter

from babelwire.catalog.loader import catalog_from_specs
from babelwire.catalog.model import SourceSpec
from babelwire.context import Context
from babelwire.store.models import READY, Article, ArticleVector
from tests.support.catalog_files import write_catalog
from tests.support.factories import make_settings
from tests.test_warc import UNKNOWN_PAGE, UNKNOWN_URL, _build_warc, _record

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """redis-server on a free loopback port, persisting to an append-only file (so a
    restart keeps the queues, as a production Redis should)."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:  # `make test-deps` installs it
            pytest.fail("redis-server is not installed (make test-deps installs it)")
        self.binary, self.dir, self.port = binary, directory, _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


class Workers:
    """`babelwire worker` processes, each in its own process group (killed as a whole)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker{len(self.procs)}.log").open("wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "babelwire", "worker", *args],
                                    env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.logs.glob("worker*.log")))

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _env(tmp_path: Path, store_url: str, catalog_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BABELWIRE_")}
    env.update({
        "BABELWIRE_DATA_DIR": str(tmp_path / "data"), "BABELWIRE_DATABASE_URL": store_url,
        "BABELWIRE_CATALOG_DIR": str(catalog_dir), "BABELWIRE_EXTRACT_PROCESSES": "1",
        "BABELWIRE_TRANSLATE": "0", "BABELWIRE_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
        **extra})
    return env


def _import(env: dict[str, str], warc: Path, timeout: float = 600) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "babelwire", "import-warc", "--format",
                           "json", str(warc)], env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return _counts(proc.stdout)


def _counts(stdout: str) -> dict[str, Any]:
    """The import's JSON summary without its timings (which differ from run to run)."""
    summary = dict(json.loads(stdout.strip().splitlines()[-1]))
    for timing in ("seconds", "records_per_second"):
        assert summary.pop(timing) >= 0
    return summary


def _store_state(store_url: str, tmp_path: Path, newsroom: Any) -> dict[str, Any]:
    ctx = Context.open(make_settings(tmp_path / "inspect", database_url=store_url),
                       catalog=catalog_from_specs(newsroom.sources()), sync_catalog=False)
    try:
        with ctx.db.session() as s:
            ready = list(s.scalars(select(Article.url).where(Article.status == READY)))
            vectors = s.scalar(select(func.count()).select_from(ArticleVector))
            unplaced = s.scalar(select(func.count()).select_from(Article).where(
                Article.status == READY, Article.story_id.is_(None)))
            per_url = s.execute(select(Article.url_key, func.count()).group_by(
                Article.url_key).having(func.count() > 1)).all()
        return {"ready": sorted(ready), "vectors": vectors, "unplaced": unplaced,
                "doubled": per_url}
    finally:
        ctx.close()


def test_import_warc_on_workers_equals_in_process(tmp_path: Path, store_url: str,
                                                  newsroom: Any, redis_server: RedisServer
                                                  ) -> None:
    catalog_dir = write_catalog(newsroom.sources(), tmp_path / "cat")
    warc = tmp_path / "news.warc.gz"
    n = _build_warc(warc, newsroom)

    # in-process, into its own SQLite store: the reference
    local_url = f"sqlite:///{tmp_path / 'local.db'}"
    local = _import(_env(tmp_path / "local", local_url, catalog_dir), warc)

    env = _env(tmp_path, store_url, catalog_dir, BABELWIRE_BROKER_URL=redis_server.url)
    workers = Workers(env, tmp_path)
    workers.start("-c", "1", "-Q", "feeds,ingest")  # fetching and extracting here
    workers.start("-c", "1", "-Q", "index,translate")  # embedding there
    try:
        remote = _import(env, warc)
        status = subprocess.run([sys.executable, "-m", "babelwire", "status", "--format",
                                 "json"], env=env, capture_output=True, text=True, timeout=60)
    finally:
        workers.stop_all()
    assert remote == local
    assert remote["records"] == n + 4 and remote["stored"] == n + 1
    state = _store_state(store_url, tmp_path, newsroom)
    assert len(state["ready"]) == n + 1 and UNKNOWN_URL in state["ready"]
    # the import went the whole way: embedded and in stories, with no `babelwire index`
    assert state["vectors"] == n + 1 and state["unplaced"] == 0
    assert state["doubled"] == []
    report = json.loads(status.stdout)
    assert report["runner"] == "celery" and report["jobs_open"] == 0
    assert report["articles"]["ready"] == n + 1 and set(report["queues"]) == {
        "feeds", "ingest", "index", "translate"}


def _big_warc(path: Path, newsroom: Any) -> int:
    articles = [a for a in newsroom.articles() if not a.wire_of]
    with httpx.Client() as client, path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for a in articles:
            _record(writer, a.url, client.get(a.url).content)
        _record(writer, UNKNOWN_URL, UNKNOWN_PAGE.encode())
    return len(articles) + 1


def test_worker_killed_mid_run_loses_nothing_doubles_nothing(
        tmp_path: Path, store_url: str, newsroom: Any, redis_server: RedisServer) -> None:
    catalog_dir = write_catalog(newsroom.sources(), tmp_path / "cat")
    warc = tmp_path / "big.warc.gz"
    n = _big_warc(warc, newsroom)
    local_url = f"sqlite:///{tmp_path / 'local.db'}"
    local = _import(_env(tmp_path / "local", local_url, catalog_dir), warc)

    # a job taken by a dead worker goes to another after 5 s
    env = _env(tmp_path, store_url, catalog_dir, BABELWIRE_BROKER_URL=redis_server.url,
               BABELWIRE_BROKER_VISIBILITY_TIMEOUT="5")
    workers = Workers(env, tmp_path)
    doomed = workers.start("-c", "1")
    importer = subprocess.Popen([sys.executable, "-m", "babelwire", "import-warc", "--format",
                                 "json", str(warc)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        import redis

        r = redis.Redis.from_url(redis_server.url)
        # wait until the doomed worker has finished some jobs and holds more: frozen
        # (SIGSTOP) with a job taken and not acknowledged, then SIGKILLed
        deadline = time.monotonic() + 300
        done = 0
        while time.monotonic() < deadline:
            done = sum(int(v) for k, v in _run_stats(r).items()
                       if k.startswith("articles:"))
            if done >= 5:
                os.killpg(doomed.pid, signal.SIGSTOP)
                if _unacked_open_jobs(r):  # taken, not acknowledged, not yet booked
                    break
                os.killpg(doomed.pid, signal.SIGCONT)  # between two jobs: try again
            time.sleep(0.05)
        assert done >= 5, "the worker never got going"
        workers.kill(doomed)  # SIGKILL, the whole process group: its jobs are unacknowledged
        # and, as a worker killed in the middle of its sweep for lost jobs would, it leaves
        # the sweep's lock behind: held until it expires (kombu's default: 5 minutes)
        from babelwire.jobs.celery_app import make_app

        expire = make_app(make_settings(tmp_path / "conf", broker_visibility_timeout=5.0)
                          ).conf.broker_transport_options["unacked_mutex_expire"]
        assert r.lock("unacked_mutex", timeout=expire).acquire(blocking=False)
        killed_at = done
        workers.start("-c", "2")
        out, err = _communicate(importer, 300, r, workers)
        assert importer.returncode == 0, err
        remote = _counts(out)
        stats = _run_stats(r)
    finally:
        _reap(importer)
        workers.stop_all()
    assert killed_at < n  # killed with work left
    assert int(stats.get("redelivered:", 0)) >= 1  # its job(s) were redone by the other
    assert remote == local
    state = _store_state(store_url, tmp_path, newsroom)
    assert len(state["ready"]) == remote["stored"]  # nothing lost
    assert state["doubled"] == []  # nothing stored twice
    assert state["vectors"] == remote["stored"] and state["unplaced"] == 0


def test_redis_restarted_mid_run_the_run_completes(
        tmp_path: Path, newsroom: Any, redis_server: RedisServer) -> None:
    """Redis (append-only file, as deployed) stopped and started again while workers are
    busy: the command keeps waiting, workers reconnect, unacknowledged jobs come back, and
    the import ends with the same result as in-process."""
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    catalog_dir = write_catalog(newsroom.sources(), tmp_path / "cat")
    warc = tmp_path / "big.warc.gz"
    _big_warc(warc, newsroom)
    local_url = f"sqlite:///{tmp_path / 'local.db'}"
    local = _import(_env(tmp_path / "local", local_url, catalog_dir), warc)
    env = _env(tmp_path, store_url, catalog_dir, BABELWIRE_BROKER_URL=redis_server.url,
               BABELWIRE_BROKER_VISIBILITY_TIMEOUT="5")
    workers = Workers(env, tmp_path)
    workers.start("-c", "2")
    importer = subprocess.Popen([sys.executable, "-m", "babelwire", "import-warc", "--format",
                                 "json", str(warc)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        import redis

        r = redis.Redis.from_url(redis_server.url)
        deadline = time.monotonic() + 300
        done = 0
        while time.monotonic() < deadline and done < 5:
            done = sum(int(v) for k, v in _run_stats(r).items() if k.startswith("articles:"))
            time.sleep(0.1)
        r.close()
        assert done >= 5, "the workers never got going"
        redis_server.stop()
        time.sleep(2)
        redis_server.start()
        out, err = _communicate(importer, 300, redis.Redis.from_url(redis_server.url),
                                workers)
        assert importer.returncode == 0, err + workers.log()
    finally:
        _reap(importer)
        workers.stop_all()
    remote = _counts(out)
    assert remote == local
    state = _store_state(store_url, tmp_path, newsroom)
    assert len(state["ready"]) == remote["stored"] and state["doubled"] == []
    assert state["vectors"] == remote["stored"] and state["unplaced"] == 0


def _communicate(proc: subprocess.Popen[str], timeout: float, r: Any,
                 workers: Workers) -> tuple[str, str]:
    """The command's output; if it does not end in time, a failure that shows what the
    run was waiting for (its open jobs, the queues, the workers' log)."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        runs = {k.decode(): sorted(t.decode() for t in r.smembers(k))
                for k in r.scan_iter(match="babelwire:run:*:open")}
        queues = {k.decode(): r.llen(k) for k in r.scan_iter() if r.type(k) == b"list"}
        unacked = r.hlen("unacked") if r.exists("unacked") else 0
        pytest.fail(f"the command did not end in {timeout:.0f} s; open jobs {runs}, lists "
                    f"{queues}, unacked {unacked}, stats {_run_stats(r)}\n{workers.log()}")


def _unacked_open_jobs(r: Any) -> list[str]:
    """Tokens of the jobs a worker has taken and not acknowledged (kombu's Redis transport
    keeps them in the `unacked` hash) whose run still waits for them."""
    import base64

    tokens = []
    for raw in r.hvals("unacked"):
        message = json.loads(raw)[0]
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]  # Celery's message protocol 2: [args, kwargs, embed]
        run_id, token = args[3], args[4]
        if r.sismember(f"babelwire:run:{run_id}:open", token):
            tokens.append(token)
    return tokens


def _reap(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate()  # waited for and its pipes closed: nothing leaks into the next test


def _run_stats(r: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in r.scan_iter(match="babelwire:run:*:stats"):
        out.update({k.decode(): v.decode() for k, v in r.hgetall(key).items()})
    return out


def test_scheduler_claims_each_due_feed_once(tmp_path: Path, store_url: str,
                                             newsroom: Any) -> None:
    """Two schedulers at once (two threads, two sessions): every due feed is claimed by
    exactly one of them."""
    from concurrent.futures import ThreadPoolExecutor

    from babelwire.ingest.prepare import utcnow
    from babelwire.store import queries

    ctx = Context.open(make_settings(tmp_path, database_url=store_url),
                       catalog=catalog_from_specs(newsroom.sources()))
    try:
        with ctx.db.session() as s:
            feeds = queries.feed_ids(s)
        assert len(feeds) >= 4
        now = utcnow()

        def claim(_: int) -> list[int]:
            with ctx.db.session() as s:
                return queries.claim_due_feeds(s, now=now, lease_until=now.replace(
                    year=now.year + 1))

        with ThreadPoolExecutor(2) as pool:
            a, b = pool.map(claim, range(2))
        assert sorted(a + b) == sorted(feeds) and not set(a) & set(b)
        with ctx.db.session() as s:  # claimed: not due again until the lease ends
            assert queries.claim_due_feeds(s, now=now, lease_until=now) == []
    finally:
        ctx.close()


def test_worker_without_broker_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BABELWIRE_")}
    env["BABELWIRE_DATA_DIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "babelwire", "worker"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "BABELWIRE_BROKER_URL" in proc.stderr


def test_unreachable_broker_is_one_clear_line(tmp_path: Path) -> None:
    from babelwire.jobs.celery_app import BrokerError, CeleryRunner
    from babelwire.jobs.stages import Flow

    settings = make_settings(tmp_path, broker_url=f"redis://127.0.0.1:{_free_port()}/0")
    with pytest.raises(BrokerError, match=r"^broker redis://127\.0\.0\.1:\d+/0: "):
        CeleryRunner(settings, flow=Flow())


def test_a_fetch_that_fails_for_now_is_retried_on_the_workers(
        tmp_path: Path, store_url: str, redis_server: RedisServer) -> None:
    """The retry within a round, on Celery: the ingest job's retry goes to the broker
    with a countdown, and `crawl --once` waits for it as for any follow-up job."""
    from tests.support.httpserver import LoopbackServer, Reply, replies
    from tests.support.soak import build_articles, render_page
    from tests.test_crawl_rounds import _rss

    arts, _ = build_articles(1, 0, 1.0, seed=7)
    server = LoopbackServer({})
    server.start()
    base = server.base_url
    server.route(arts[0].path, replies(Reply(503), Reply(body=render_page(base, arts[0]))))
    server.route("/feed.xml", Reply(body=_rss(base, [arts[0].path]),
                                    content_type="application/rss+xml"))
    spec = SourceSpec(id="flaky", name="Flaky", homepage=f"{base}/", country="GB",
                      languages=("en",), feeds=(f"{base}/feed.xml",))
    env = _env(tmp_path, store_url, write_catalog([spec], tmp_path / "cat"),
               BABELWIRE_BROKER_URL=redis_server.url, BABELWIRE_EMBEDDER="none",
               BABELWIRE_FETCH_RETRIES="0", BABELWIRE_ARTICLE_RETRY_SECONDS="1")
    workers = Workers(env, tmp_path)
    workers.start("-c", "1")
    try:
        crawl = subprocess.run([sys.executable, "-m", "babelwire", "crawl", "--once"],
                               env=env, capture_output=True, text=True, timeout=300)
        tries = server.requests(arts[0].path)
    finally:
        workers.stop_all()
        server.stop()
    assert crawl.returncode == 0, crawl.stderr + workers.log()
    assert "1 ready" in crawl.stdout and "fetches tried again after a wait: 1" in crawl.stdout
    assert len(tries) == 2 and tries[1].started - tries[0].started >= 1.0
    ctx = Context.open(make_settings(tmp_path / "inspect", database_url=store_url),
                       catalog=catalog_from_specs([spec]), sync_catalog=False)
    try:
        with ctx.db.session() as s:
            assert list(s.scalars(select(Article.status))) == [READY]
    finally:
        ctx.close()
