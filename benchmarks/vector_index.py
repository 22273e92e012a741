"""The vector index behind "similar news": exact numpy brute force against ANN libraries, then
Babelwire's own `VectorIndex`, at 100,000 and 1,000,000 vectors.

Data: synthetic but clustered, like news embeddings and unlike uniform noise (on which every
method's recall means nothing): 200 topic centres; 5,000 story centres around them (story =
topic + noise, normalised); story sizes heavy-tailed (Pareto); an article is its story centre
plus isotropic noise of per-story strength (cosine to the centre 0.64-0.86), L2-normalised.
A query's true 10 nearest are then mostly articles of its own story, at cosines 0.5-0.6, so
the ranking inside a story is close: a hard case for ANN recall. Times: each story has an
event time, uniform over 60 days; its articles follow it (exponential, mean 0.8 day). Queries
are held-out articles drawn the same way.

Per row: build time; memory (RSS growth of a forked child that builds only that index, the
input matrix excluded); single-query latency p50/p99 at k=50; recall@10 (the first 10 of the
k=50 answer against the exact top 10); adding one vector (median and max
of 50 single adds: the max shows the occasional reallocation); the
3-day window query (3 days out of 60; "near" = around the query's own time, "rand" = at a
random position, where the query's neighbours are mostly outside) with its recall against the
exact in-window top 10. The raw candidates get rows sorted by time (as a store-built index
is), so a window is a row range for them.

Usage: python benchmarks/vector_index.py [--sizes 100000,1000000] [--dims 512,384]
                                        [--only numpy,sq8,hnswlib,usearch,faiss,faiss-sq8,index]
                                        [--queries 300]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DAY = 86400.0
SPAN = 60 * DAY
WINDOW = 3 * DAY
K = 50
THREADS = 2  # the target machine's cores


def _faiss() -> Any:
    import faiss  # untyped use: its stubs lag the API (SearchParametersHNSW, selectors)

    return faiss


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# --------------------------------------------------------------------------- data


@dataclass
class Data:
    x: np.ndarray  # (n, dim) float32, unit rows, sorted by time
    t: np.ndarray  # (n,) float64 epoch seconds, ascending
    q: np.ndarray  # (nq, dim) queries
    extra: np.ndarray  # (50, dim) held-out rows for the add-one measurement
    qt: np.ndarray  # (nq,) query times
    gt: list[set[int]]  # exact top 10 row numbers per query
    windows: dict[str, list[tuple[float, float, set[int]]]]  # name -> (t0, t1, exact top 10)


def clustered(n: int, dim: int, seed: int = 0, topics: int = 200, stories: int = 5000
              ) -> tuple[np.ndarray, np.ndarray]:
    """n clustered unit vectors and their times (see the module docstring)."""
    rng = np.random.default_rng(seed)
    top = rng.standard_normal((topics, dim), dtype=np.float32)
    top /= np.linalg.norm(top, axis=1, keepdims=True)
    centre = top[rng.integers(0, topics, stories)] + np.float32(0.8 / np.sqrt(dim)) * \
        rng.standard_normal((stories, dim), dtype=np.float32)
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    event = rng.uniform(0, SPAN, stories)
    weight = rng.pareto(1.2, stories) + 1
    story = rng.choice(stories, n, p=weight / weight.sum())
    sigma = rng.uniform(0.6, 1.2, stories).astype(np.float32) / np.float32(np.sqrt(dim))
    x = np.empty((n, dim), np.float32)
    for a in range(0, n, 100_000):
        b = min(n, a + 100_000)
        x[a:b] = centre[story[a:b]] + sigma[story[a:b], None] * rng.standard_normal(
            (b - a, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    t = np.clip(event[story] + rng.exponential(0.8 * DAY, n) - 0.3 * DAY, 0, SPAN)
    return x, t


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    if k >= len(scores):
        return np.argsort(-scores)
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part])]


def make_data(n: int, dim: int, nq: int) -> Data:
    x, t = clustered(n + nq + 50, dim)
    q, qt, extra = x[n:n + nq].copy(), t[n:n + nq].copy(), x[n + nq:].copy()
    order = np.argsort(t[:n], kind="stable")
    x, t = x[order], t[order]
    rng = np.random.default_rng(1)
    starts = {"near": qt - WINDOW / 2, "rand": rng.uniform(0, SPAN - WINDOW, nq)}
    gt: list[set[int]] = []
    windows: dict[str, list[tuple[float, float, set[int]]]] = {w: [] for w in starts}
    for a in range(0, nq, 32):
        scores = q[a:a + 32] @ x.T
        for j, s in enumerate(scores):
            gt.append(set(top_rows(s, 10).tolist()))
            for name, st in starts.items():
                t0, t1 = float(st[a + j]), float(st[a + j] + WINDOW)
                lo, hi = np.searchsorted(t, [t0, t1], side="left")
                windows[name].append((t0, t1, set((top_rows(s[lo:hi], 10) + lo).tolist())))
    return Data(x, t, q, extra, qt, gt, windows)


# --------------------------------------------------------------------------- candidates


@dataclass
class Candidate:
    """One way to answer: build from (rows, times), search, windowed search, add one row."""

    name: str
    build: Callable[[Data], Any]
    search: Callable[[Any, np.ndarray, int], list[int]]
    window: Callable[[Any, Data, np.ndarray, int, float, float], list[int]]
    add: Callable[[Any, int, np.ndarray], None] | None = None


def _rows_between(d: Data, t0: float, t1: float) -> tuple[int, int]:
    lo, hi = np.searchsorted(d.t, [t0, t1], side="left")
    return int(lo), int(hi)


def numpy_candidates() -> list[Candidate]:
    def search(o: Data, q: np.ndarray, k: int) -> list[int]:
        return top_rows(o.x @ q, k).tolist()

    def window(o: Data, d: Data, q: np.ndarray, k: int, t0: float, t1: float) -> list[int]:
        lo, hi = _rows_between(d, t0, t1)
        return (top_rows(d.x[lo:hi] @ q, k) + lo).tolist()

    return [Candidate("numpy f32 exact", lambda d: d, search, window)]


def faiss_sq8_flat() -> list[Candidate]:
    faiss = _faiss()

    def build(d: Data) -> Any:
        ix = faiss.IndexScalarQuantizer(d.x.shape[1], faiss.ScalarQuantizer.QT_8bit,
                                        faiss.METRIC_INNER_PRODUCT)
        ix.train(d.x[:100_000])
        ix.add(d.x)
        return ix

    def search(o: Any, q: np.ndarray, k: int) -> list[int]:
        return o.search(q[None], k)[1][0].tolist()

    def window(o: Any, d: Data, q: np.ndarray, k: int, t0: float, t1: float) -> list[int]:
        lo, hi = _rows_between(d, t0, t1)
        p = faiss.SearchParameters(sel=faiss.IDSelectorRange(lo, hi))
        return [i for i in o.search(q[None], k, params=p)[1][0].tolist() if i >= 0]

    return [Candidate("faiss SQ8 flat (int8 brute)", build, search, window)]


def hnswlib_candidates(m: int = 16, efc: int = 100, efs: tuple[int, ...] = (128, 256)
                       ) -> list[Candidate]:
    import hnswlib

    def build(d: Data) -> Any:
        ix = hnswlib.Index("ip", d.x.shape[1])
        ix.init_index(len(d.x) + 1000, M=m, ef_construction=efc)
        ix.add_items(d.x, np.arange(len(d.x)), num_threads=THREADS)
        return ix

    def make(ef: int) -> Candidate:
        def search(o: Any, q: np.ndarray, k: int) -> list[int]:
            o.set_ef(ef)
            return o.knn_query(q, k, num_threads=1)[0][0].tolist()

        def window(o: Any, d: Data, q: np.ndarray, k: int, t0: float, t1: float) -> list[int]:
            lo, hi = _rows_between(d, t0, t1)
            o.set_ef(ef)
            try:
                r = o.knn_query(q, k, num_threads=1, filter=lambda label: lo <= label < hi)
            except RuntimeError:  # fewer than k found
                return []
            return r[0][0].tolist()

        def add(o: Any, i: int, v: np.ndarray) -> None:
            o.add_items(v[None], [i], num_threads=1)

        return Candidate(f"hnswlib M{m} efc{efc} ef{ef}", build, search, window, add)

    return [make(ef) for ef in efs]


def usearch_candidates(conn: int = 16, ea: int = 128, efs: tuple[int, ...] = (128, 256)
                       ) -> list[Candidate]:
    from usearch.index import Index

    def build(d: Data) -> Any:
        ix = Index(ndim=d.x.shape[1], metric="ip", dtype="f32", connectivity=conn,
                   expansion_add=ea)
        ix.add(np.arange(len(d.x), dtype=np.uint64), d.x, threads=THREADS)
        return ix

    def make(ef: int) -> Candidate:
        def search(o: Any, q: np.ndarray, k: int) -> list[int]:
            o.expansion_search = ef
            return o.search(q, k, threads=1).keys.tolist()

        def window(o: Any, d: Data, q: np.ndarray, k: int, t0: float, t1: float) -> list[int]:
            # no filtered search in the Python API: over-fetch in proportion, widen x4
            lo, hi = _rows_between(d, t0, t1)
            o.expansion_search = ef
            fetch = int(k * len(d.x) / max(hi - lo, 1) * 2)
            while True:
                keys = o.search(q, min(fetch, len(d.x)), threads=1).keys
                keys = keys[(keys >= lo) & (keys < hi)][:k]
                if len(keys) >= min(k, hi - lo) or fetch >= len(d.x):
                    return keys.tolist()
                fetch *= 4

        def add(o: Any, i: int, v: np.ndarray) -> None:
            o.add(i, v, threads=1)

        return Candidate(f"usearch f32 c{conn} ea{ea} es{ef}", build, search, window, add)

    return [make(ef) for ef in efs]


def faiss_hnsw_candidates(m: int = 24, efc: int = 100, efs: tuple[int, ...] = (64, 128, 256),
                          sq8: bool = False) -> list[Candidate]:
    faiss = _faiss()

    def build(d: Data) -> Any:
        faiss.omp_set_num_threads(THREADS)
        dim = d.x.shape[1]
        if sq8:
            ix = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, m,
                                   faiss.METRIC_INNER_PRODUCT)
            ix.train(d.x[:100_000])
        else:
            ix = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        ix.hnsw.efConstruction = efc
        ix.add(d.x)
        return (ix, d)

    def rerank(d: Data, q: np.ndarray, rows: np.ndarray, k: int) -> list[int]:
        rows = rows[rows >= 0]
        if not sq8:
            return rows[:k].tolist()
        return rows[top_rows(d.x[rows] @ q, k)].tolist()

    def make(ef: int) -> Candidate:
        def search(o: Any, q: np.ndarray, k: int) -> list[int]:
            ix, d = o
            p = faiss.SearchParametersHNSW(efSearch=max(ef, k))
            return rerank(d, q, ix.search(q[None], max(ef, k) if sq8 else k, params=p)[1][0], k)

        def window(o: Any, d: Data, q: np.ndarray, k: int, t0: float, t1: float) -> list[int]:
            ix, _ = o
            lo, hi = _rows_between(d, t0, t1)
            p = faiss.SearchParametersHNSW(efSearch=max(ef, k), sel=faiss.IDSelectorRange(lo, hi))
            return rerank(d, q, ix.search(q[None], max(ef, k) if sq8 else k, params=p)[1][0], k)

        def add(o: Any, i: int, v: np.ndarray) -> None:
            faiss.omp_set_num_threads(1)
            o[0].add(v[None])

        kind = "HNSW-SQ8+rerank" if sq8 else "HNSWFlat"
        return Candidate(f"faiss {kind} M{m} efc{efc} ef{ef}", build, search, window, add)

    return [make(ef) for ef in efs]


# --------------------------------------------------------------------------- measuring


def measure(built: Any, c: Candidate, d: Data, add: bool) -> str:
    """Search figures, then (when add) the add-one cost, which changes the index."""
    for q in d.q[:10]:
        c.search(built, q, K)
    lat, rec = [], []
    for q, truth in zip(d.q, d.gt, strict=True):
        a = time.perf_counter()
        r = c.search(built, q, K)
        lat.append(time.perf_counter() - a)
        rec.append(len(set(r[:10]) & truth) / 10)
    p50, p99 = np.percentile(lat, [50, 99]) * 1e3
    out = f"{p50:7.2f} {p99:7.2f} {np.mean(rec):6.3f}"
    for name in ("near", "rand"):
        lat, rec = [], []
        for q, (t0, t1, truth) in zip(d.q[:100], d.windows[name][:100], strict=False):
            a = time.perf_counter()
            r = c.window(built, d, q, K, t0, t1)
            lat.append(time.perf_counter() - a)
            rec.append(len(set(r[:10]) & truth) / max(1, len(truth)))
        p50, p99 = np.percentile(lat, [50, 99]) * 1e3
        out += f" | {p50:6.2f} {p99:7.2f} {np.mean(rec):5.3f}"
    if c.add is not None and add:
        lat = []
        for j, v in enumerate(d.extra):
            a = time.perf_counter()
            c.add(built, len(d.x) + j, v)
            lat.append(time.perf_counter() - a)
        out += f" | {np.median(lat) * 1e3:6.2f} {np.max(lat) * 1e3:7.1f}"
    else:
        out += " |      -       -"
    return out


def run_forked(fn: Callable[[], str]) -> str:
    """Run fn in a forked child (memory measured alone, freed after) and return its line."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            line = fn()
        except Exception as e:  # report, don't kill the table
            line = f"failed: {e!r}"
        os.write(w, line.encode())
        os.close(w)
        os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        return f"child died (wait status {status}): out of memory?"
    return b"".join(chunks).decode()


def candidate_group(cands: list[Candidate], d: Data) -> None:
    """Build once (the first candidate's build), measure every search setting on it."""

    def child() -> str:
        gc.collect()
        m0, a = rss_mib(), time.perf_counter()
        built = cands[0].build(d)
        bt, mem = time.perf_counter() - a, rss_mib() - m0
        lines = []
        for i, c in enumerate(cands):
            figures = measure(built, c, d, add=i == len(cands) - 1)
            lines.append(f"{c.name:36s} {bt:8.1f} {mem:7.0f} {figures}"
                         f"  [load {loadavg()}]")
        return "\n".join(lines)

    print(run_forked(child), flush=True)


HEADER = (f"{'backend':36s} {'build s':>8s} {'MiB':>7s} {'p50 ms':>7s} {'p99 ms':>7s} "
          f"{'rec@10':>6s} | {'near3d p50':>6s} {'p99':>7s} {'rec':>5s} | {'rand3d p50':>6s} "
          f"{'p99':>7s} {'rec':>5s} | {'add1 p50':>6s} {'max':>7s}")


# --------------------------------------------------------------------------- VectorIndex


def index_rows(d: Data, backend: str) -> None:
    """Babelwire's VectorIndex: built from unsorted rows, as from the store; then a snapshot."""
    from babelwire.similar.index import VectorIndex

    def child() -> str:
        n, dim = d.x.shape
        perm = np.random.default_rng(2).permutation(n)  # the store's order is by id
        ids = np.arange(1, n + 1, dtype=np.int64)
        x, t = d.x[perm], d.t[perm]
        row_of_id = perm  # id i+1 is data row perm[i]
        gc.collect()
        m0, a = rss_mib(), time.perf_counter()
        ix = VectorIndex(dim, backend=backend)
        ix.add(ids, x, t)
        ix.wait_ready()
        bt, mem = time.perf_counter() - a, rss_mib() - m0

        def to_rows(res: list[tuple[int, float]]) -> list[int]:
            return [int(row_of_id[i - 1]) for i, _ in res]

        c = Candidate(
            f"VectorIndex {backend}", lambda _: None,
            lambda o, q, k: to_rows(o.search(q, k)),
            lambda o, _d, q, k, t0, t1: to_rows(o.search(q, k, time_from=t0, time_to=t1)),
            lambda o, i, v: o.add(np.array([i + 1]), v[None], np.array([SPAN])))
        figures = measure(ix, c, d, add=True)
        line = f"{c.name:36s} {bt:8.1f} {mem:7.0f} {figures}  [load {loadavg()}]"
        with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
            path = Path(tmp) / "index.bwvi"
            a = time.perf_counter()
            ix.save(path)
            save_s = time.perf_counter() - a
            del ix
            gc.collect()
            a = time.perf_counter()
            VectorIndex.load(path)
            load_s = time.perf_counter() - a
            size = path.stat().st_size / 2**20
        line += (f"\n{'':36s} snapshot: save {save_s:.1f} s, {size:.0f} MiB; start from snapshot "
                 f"{load_s:.1f} s vs rebuild from arrays {bt:.1f} s  [load {loadavg()}]")
        return line

    print(run_forked(child), flush=True)


# --------------------------------------------------------------------------- main

GROUPS: dict[str, Callable[[], list[Candidate]]] = {
    "numpy": numpy_candidates,
    "sq8": faiss_sq8_flat,
    "hnswlib": hnswlib_candidates,
    "usearch": usearch_candidates,
    "faiss": faiss_hnsw_candidates,
    "faiss-sq8": lambda: faiss_hnsw_candidates(sq8=True, efs=(128, 256)),
}
NEEDS = {"sq8": "faiss", "hnswlib": "hnswlib", "usearch": "usearch", "faiss": "faiss",
         "faiss-sq8": "faiss"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--dims", default="512,384")
    ap.add_argument("--only", default=",".join([*GROUPS, "index"]))
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    only = args.only.split(",")
    print(f"cpus {os.cpu_count()}, k={K}, window {WINDOW / DAY:.0f} of {SPAN / DAY:.0f} days; "
          f"latencies in ms, single query; memory = RSS growth while building")
    for dim in map(int, args.dims.split(",")):
        for n in map(int, args.sizes.split(",")):
            a = time.perf_counter()
            d = make_data(n, dim, args.queries)
            rows = [hi - lo for lo, hi in
                    (_rows_between(d, t0, t1) for t0, t1, _ in d.windows["near"])]
            print(f"\n== n={n:,} dim={dim}  (data + exact truth {time.perf_counter() - a:.0f} s;"
                  f" rows in a 3-day window: mean {np.mean(rows):.0f}, max {max(rows)})")
            print(HEADER, flush=True)
            for g in only:
                module = NEEDS.get(g)
                if module and importlib.util.find_spec(module) is None:
                    print(f"{g:36s} skipped: {module} is not installed")
                elif g in GROUPS:
                    candidate_group(GROUPS[g](), d)
                elif g == "index":
                    index_rows(d, "auto")
            del d
            gc.collect()


if __name__ == "__main__":
    main()
