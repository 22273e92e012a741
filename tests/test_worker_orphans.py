"""Extraction workers end when their parent is SIGKILLed (they used to wait for ever,
~130 MB each). A real child process with a real spawn pool, killed for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = """
import os, sys, time
from pathlib import Path
from babelwire.context import Context
from tests.support.factories import make_settings
ctx = Context.open(make_settings(Path(sys.argv[1]), extract_processes=2))
pool = ctx.extract_pool
pids = set()
for _ in range(50):
    pids |= {f.result() for f in [pool.submit(os.getpid) for _ in range(20)]}
    if len(pids) == 2:
        break
print(" ".join(map(str, sorted(pids))), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


@pytest.mark.slow
def test_pool_workers_exit_when_the_parent_is_killed(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], cwd=root,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    workers = [int(p) for p in line.split()]
    assert len(workers) == 2 and all(_alive(p) for p in workers), line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in workers if _alive(p)]
    for p in left:  # don't leave them behind even when the test fails
        os.kill(p, signal.SIGKILL)
    assert left == [], "pool workers outlived their killed parent"
