"""Resident memory of a process tree, read from /proc (Linux): for benchmarks and the soak."""

from __future__ import annotations

from pathlib import Path


def tree_rss_mib(pid: int) -> tuple[float, float]:
    """Resident memory of `pid` and its descendants, MiB: (Python processes, the rest). The
    rest is the translation engines (Apertium pipelines) a Babelwire command starts."""
    own = engines = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        name = status.split("\n", 1)[0].split()[-1]
        rss = next((int(line.split()[1]) for line in status.splitlines()
                    if line.startswith("VmRSS:")), 0)
        if name.startswith("python"):
            own += rss
        else:
            engines += rss
    return own / 1024, engines / 1024
