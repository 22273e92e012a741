"""The distributed runner: the stage graph's jobs on Celery workers, Redis as the broker.

Set `BABELWIRE_BROKER_URL=redis://host:6379/0` (and a shared PostgreSQL `database_url`) and
every command submits its jobs here instead of running them in-process; `babelwire worker`
runs them. One Celery task, `babelwire.job`, runs any stage; each stage has its own queue
(`stages.QUEUES`: feeds, ingest, index, translate), so `babelwire worker --queues
index,translate` on a machine with more memory takes the embedding and translation work.

Jobs carry IDs only. Acknowledged late (after the job has run), so a worker killed in the
middle of a job leaves it to another worker: at once when a worker's child process dies,
after `broker_visibility_timeout` when a whole worker machine does. A job that raises is
retried with exponential backoff (`job_max_retries`), then recorded as failed.

Runs: a command's jobs (and their follow-ups) share a run ID. In Redis, the run's set of
open job tokens (added before a job is sent, removed after it has run, in the same atomic
step that adds the job's counts) tells the waiting command when everything it started is
done; a job redelivered after it had finished finds its token gone and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from babelwire.config import Settings
from babelwire.jobs import BrokerError, stages
from babelwire.jobs.runner import Progress, RunStats
from babelwire.jobs.stages import Flow, Outcome

RUN_TTL = 7 * 24 * 3600  # seconds a run's bookkeeping is kept in Redis
MAX_ERRORS = 200  # error messages kept per run
TASK = "babelwire.job"
T = TypeVar("T")

# Remove a finished job's token and add its counts, atomically; returns 1 if the token was
# open (the job's first completion), else 0 and nothing is counted.
_FINISH = """
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[2], ARGV_TTL)
return 1
""".replace("ARGV_TTL", str(RUN_TTL))


def _keys(run_id: str) -> tuple[str, str, str]:
    return (f"babelwire:run:{run_id}:open", f"babelwire:run:{run_id}:stats",
            f"babelwire:run:{run_id}:errors")


def make_app(settings: Settings) -> Any:
    try:
        from celery import Celery
        from kombu import Queue
    except ImportError as exc:
        raise BrokerError("the distributed runner needs Celery: "
                          "pip install 'babelwire[distributed]'") from exc

    app = Celery("babelwire", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json", accept_content=["json"], task_ignore_result=True,
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue="ingest",
        task_queues=[Queue(q) for q in dict.fromkeys(stages.QUEUES.values())],
        # a job of a dead worker is looked for every few seconds (a sorted-set range), and
        # given to another once it has waited visibility_timeout. The sweep takes a lock
        # that a worker killed mid-sweep leaves behind until it expires: kombu's 300 s
        # would stall every redelivery that long, so it lasts no longer than the timeout
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_timeout,
            "unacked_mutex_expire": max(2, min(300, int(settings.broker_visibility_timeout))),
            "unacked_restore_interval": max(1, min(10, int(
                settings.broker_visibility_timeout / 5))),
            "unacked_restore_throttle": 1},
        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )

    @app.task(name=TASK, bind=True)
    def job(self: Any, stage: str, ids: list[int], flow: dict[str, bool], run_id: str,
            token: str) -> None:
        _run_job(self, settings, stage, ids, Flow.from_json(flow), run_id, token)

    return app


def _redis(settings: Settings) -> Any:
    import redis

    if not settings.broker_url.startswith(("redis://", "rediss://", "unix://")):
        raise BrokerError(f"broker_url {settings.broker_url!r}: the runner tracks runs in "
                          "Redis; use a redis:// URL")
    return redis.Redis.from_url(settings.broker_url, socket_timeout=10,
                                socket_connect_timeout=5, health_check_interval=30)


class _Sender:
    """Adds a job's token to its run's open set, then sends it."""

    def __init__(self, settings: Settings, app: Any, r: Any) -> None:
        self.settings, self.app, self.r = settings, app, r

    def send(self, stage: str, ids: list[int], flow: Flow, run_id: str,
             token: str | None = None, countdown: float | None = None) -> str:
        """Safe to repeat with the same token (after a broker error): the token is added
        once, and a second message for it finds it gone and does nothing."""
        if stage not in stages.QUEUES:
            raise ValueError(f"unknown job {stage!r}")
        token = token or uuid.uuid4().hex
        key = _keys(run_id)[0]
        pipe = self.r.pipeline()
        pipe.sadd(key, token)
        pipe.expire(key, RUN_TTL)
        pipe.execute()
        self.app.send_task(TASK, args=[stage, ids, flow.to_json(), run_id, token],
                           queue=stages.QUEUES[stage], countdown=countdown)
        return token


def broker_counts(settings: Settings, queues: list[str]) -> tuple[dict[str, int], int, int]:
    """Jobs waiting per queue, jobs of open runs not finished, open runs."""
    r = _redis(settings)
    try:
        waiting = {q: int(r.llen(q)) for q in queues}
        open_jobs = runs = 0
        for key in r.scan_iter(match="babelwire:run:*:open", count=500):
            n = int(r.scard(key))
            if n:
                open_jobs, runs = open_jobs + n, runs + 1
        return waiting, open_jobs, runs
    finally:
        r.close()


# --------------------------------------------------------------------------- worker side

_WORKER: dict[str, Any] = {}  # this worker process's context, event loop, Redis, sender


def _worker_state(settings: Settings, app: Any) -> dict[str, Any]:
    if not _WORKER or _WORKER.get("pid") != os.getpid():  # a new (forked) worker process
        from babelwire.context import Context

        # the worker's processes are the parallelism: extract in the process itself
        ctx = Context.open(settings.with_(extract_processes=1), sync_catalog=False)
        r = _redis(settings)
        _WORKER.clear()
        _WORKER.update(pid=os.getpid(), ctx=ctx, loop=asyncio.new_event_loop(), r=r,
                       sender=_Sender(settings, app, r), finish=r.register_script(_FINISH))
    return _WORKER


BOOKKEEPING_PATIENCE = 120.0  # seconds a worker waits for Redis to come back mid-job


def _patiently(fn: Callable[[], T], what: str) -> T:
    """Run a Redis call, waiting (with backoff) through a broker restart: the job's work is
    done and must be booked, or the waiting command would never hear of it."""
    import redis

    deadline = time.monotonic() + BOOKKEEPING_PATIENCE
    delay = 0.2
    while True:
        try:
            return fn()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if time.monotonic() > deadline:
                raise BrokerError(f"broker unreachable while {what}: {exc}") from exc
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _run_job(task: Any, settings: Settings, stage: str, ids: list[int], flow: Flow,
             run_id: str, token: str) -> None:
    w = _worker_state(settings, task.app)
    if not _patiently(lambda: w["r"].sismember(_keys(run_id)[0], token), "checking a job"):
        return  # done already: redelivered after it had finished
    try:
        out = w["loop"].run_until_complete(stages.run(w["ctx"], stage, ids, flow))
    except Exception as exc:
        retries = task.request.retries or 0
        if retries < settings.job_max_retries:
            w["ctx"].log.warning("job %s %s failed (%s); retry %d", stage, ids, exc,
                                 retries + 1)
            raise task.retry(exc=exc, countdown=min(2 ** retries, 60)) from exc
        w["ctx"].log.exception("job %s %s failed for good", stage, ids)
        out = Outcome(errors=[f"{stage} {ids}: {type(exc).__name__}: {exc}"])
        out.count("failed", stage)
    if (task.request.delivery_info or {}).get("redelivered"):
        out.count("redelivered", "")  # its first worker died without acknowledging it
    # before this job's token goes: the run stays open; a retry waits in the broker
    for (name, ident), countdown in [*((job, None) for job in out.follow), *out.later]:
        follow_token = uuid.uuid4().hex

        def send(name: str = name, ident: int = ident, follow_token: str = follow_token,
                 countdown: float | None = countdown) -> str:
            return str(w["sender"].send(name, [ident], flow, run_id, follow_token,
                                        countdown))

        _patiently(send, "submitting follow-up jobs")
    _patiently(lambda: _finish(w, run_id, token, out), "recording a finished job")


def _finish(w: dict[str, Any], run_id: str, token: str, out: Outcome) -> None:
    open_key, stats_key, errors_key = _keys(run_id)
    counts: dict[str, int] = {}
    for group, key in out.counts:
        counts[f"{group}:{key}"] = counts.get(f"{group}:{key}", 0) + 1
    if out.discovered:
        counts["discovered:"] = out.discovered
    args: list[Any] = [token]
    for k, v in counts.items():
        args += [k, v]
    if w["finish"](keys=[open_key, stats_key], args=args) and out.errors:
        pipe = w["r"].pipeline()
        pipe.rpush(errors_key, *out.errors[:MAX_ERRORS])
        pipe.ltrim(errors_key, 0, MAX_ERRORS - 1)
        pipe.expire(errors_key, RUN_TTL)
        pipe.execute()


def worker_main(settings: Settings, *, concurrency: int, queues: list[str] | None,
                loglevel: str = "INFO", metrics_port: int = 0) -> None:
    """Run a Celery worker in this process (`babelwire worker`). With `metrics_port`, its
    Prometheus metrics (all its processes', PROMETHEUS_MULTIPROC_DIR) are served there."""
    unknown = set(queues or ()) - set(stages.QUEUES.values())
    if unknown:
        raise ValueError(f"unknown queues: {', '.join(sorted(unknown))} (the queues are "
                         f"{', '.join(dict.fromkeys(stages.QUEUES.values()))})")
    if metrics_port:
        from prometheus_client import CollectorRegistry, multiprocess, start_http_server

        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            raise ValueError("worker metrics need PROMETHEUS_MULTIPROC_DIR set before start")
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        start_http_server(metrics_port, addr=settings.host, registry=registry)
    app = make_app(settings)
    argv = ["worker", f"--concurrency={max(1, concurrency)}", f"--loglevel={loglevel}",
            "--without-gossip", "--without-mingle",
            f"--queues={','.join(queues or dict.fromkeys(stages.QUEUES.values()))}",
            f"--hostname=babelwire-{uuid.uuid4().hex[:6]}@%h"]
    app.worker_main(argv=argv)


# --------------------------------------------------------------------------- submitting side


class CeleryRunner:
    """Submits jobs to Celery workers and waits for them (and their follow-ups)."""

    def __init__(self, settings: Settings, *, flow: Flow, progress: Progress | None = None,
                 poll: float = 0.2, broker_patience: float = 60.0) -> None:
        self.settings = settings
        self.flow = flow
        self.progress = progress
        self.poll = poll
        self.broker_patience = broker_patience  # how long a lost broker is waited for
        self.run_id = uuid.uuid4().hex
        self.stats = RunStats()
        self.app = make_app(settings)
        self.r = _redis(settings)
        self.sender = _Sender(settings, self.app, self.r)
        self.submitted = 0
        try:
            self.r.ping()
        except Exception as exc:
            raise BrokerError(f"broker {settings.broker_url}: {exc}") from exc

    def submit(self, name: str, ident: int) -> None:
        self.sender.send(name, [ident], self.flow, self.run_id)
        self.submitted += 1

    @property
    def outstanding(self) -> int:
        return int(self.r.scard(_keys(self.run_id)[0]))

    def _read_stats(self) -> RunStats:
        _open, stats_key, errors_key = _keys(self.run_id)
        st = RunStats()
        for raw, n in self.r.hgetall(stats_key).items():
            group, _, key = raw.decode().partition(":")
            if group == "discovered":
                st.discovered = int(n)
            elif group == "redelivered":
                st.redelivered = int(n)
            elif group == "failed":
                st.errors.append(f"{int(n)} {key} job(s) failed")
            elif hasattr(st, group):
                getattr(st, group)[key] += int(n)
        st.errors += [e.decode() for e in self.r.lrange(errors_key, 0, -1)]
        return st

    async def join(self) -> RunStats:
        """Wait until every job of the run has finished; a broker that stays unreachable
        for `broker_patience` seconds raises BrokerError saying how much was left."""
        lost_since: float | None = None
        left = -1
        while True:
            try:
                left = await asyncio.to_thread(lambda: self.outstanding)
                self.stats = await asyncio.to_thread(self._read_stats)
                lost_since = None
            except Exception as exc:  # redis.ConnectionError and friends
                now = time.monotonic()
                lost_since = lost_since or now
                if now - lost_since > self.broker_patience:
                    raise BrokerError(
                        f"broker {self.settings.broker_url} unreachable for "
                        f"{self.broker_patience:.0f} s ({exc}); run {self.run_id}: "
                        f"{left if left >= 0 else 'unknown'} job(s) were left") from exc
            if self.progress:
                self.progress(self.stats)
            if left == 0 and lost_since is None:
                return self.stats
            await asyncio.sleep(self.poll)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.r.close()
