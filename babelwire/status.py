"""`babelwire status`: what the system holds and is doing, for a terminal (and the gauges
of /metrics)."""

from __future__ import annotations

from typing import Any

from babelwire.context import Context
from babelwire.ingest.prepare import utcnow
from babelwire.store import queries


def gather(ctx: Context) -> dict[str, Any]:
    with ctx.db.session() as s:
        report: dict[str, Any] = queries.system_counts(s, now=utcnow())
    report["runner"] = "celery" if ctx.settings.broker_url else "in-process"
    if ctx.settings.broker_url:
        report.update(_broker(ctx))
    return report


def _broker(ctx: Context) -> dict[str, Any]:
    from babelwire.jobs import stages
    from babelwire.jobs.celery_app import broker_counts

    try:
        queues, open_jobs, runs = broker_counts(ctx.settings,
                                                list(dict.fromkeys(stages.QUEUES.values())))
    except Exception as exc:  # the broker is down: say so, report the rest
        return {"broker_error": f"{type(exc).__name__}: {exc}"}
    return {"queues": queues, "jobs_open": open_jobs, "runs_open": runs}


def render(report: dict[str, Any]) -> str:
    arts = report["articles"]
    lines = [
        "articles: " + (", ".join(f"{n} {k}" for k, n in sorted(arts.items())) or "none"),
        "feeds: {active} active, {due} due, {failing} failing".format(**report["feeds"]),
        f"stored: {report['translations']} translations, {report['vectors']} vectors, "
        f"{report['stories']} stories",
        f"runner: {report['runner']}",
    ]
    if "broker_error" in report:
        lines.append(f"broker: unreachable ({report['broker_error']})")
    elif "queues" in report:
        lines.append("queued: " + ", ".join(f"{q} {n}" for q, n in report["queues"].items()))
        lines.append(f"open: {report['jobs_open']} jobs in {report['runs_open']} run(s)")
    return "\n".join(lines)
