"""Resident memory of a process tree, read from /proc (Linux): for benchmarks and the soak."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class TreeRss(NamedTuple):
    """MiB resident: the process itself, its Python descendants (extraction workers, the
    resource tracker) and the rest (the translation engines' pipelines)."""
    own: float
    workers: float
    engines: float

    @property
    def python(self) -> float:
        return self.own + self.workers


def _rss_kib(status: str) -> int:
    return next((int(line.split()[1]) for line in status.splitlines()
                 if line.startswith("VmRSS:")), 0)


def tree_rss(pid: int) -> TreeRss:
    """Resident memory of `pid` and its descendants, by part (see TreeRss)."""
    own = workers = engines = 0
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
        if p == pid:
            own = _rss_kib(status)
        elif name.startswith("python"):
            workers += _rss_kib(status)
        else:
            engines += _rss_kib(status)
    return TreeRss(own / 1024, workers / 1024, engines / 1024)


def tree_rss_mib(pid: int) -> tuple[float, float]:
    """Resident memory of `pid` and its descendants, MiB: (Python processes, the rest). The
    rest is the translation engines (Apertium pipelines) a Babelwire command starts."""
    rss = tree_rss(pid)
    return rss.python, rss.engines
