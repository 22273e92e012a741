"""In-memory nearest-neighbour index over article embeddings, for "similar news" and clustering.

The database holds the vectors; each process (web server, worker) builds this index from the
store at start (or from a snapshot, see `save`/`load`) and then keeps it in step by adding and
removing articles by id. Scores are cosines: vectors and queries are L2-normalised on the way
in, so the inner product is the cosine.

How it answers (figures from benchmarks/vector_index.py, 2 cores):

- Every vector is kept as float32 rows, roughly in time order (each batch is sorted by time
  and appended; a batch into an empty index, such as the start-up load, becomes exactly time
  ordered), with a permutation that sorts the rows by time. Exact search is one matrix-vector
  product: about 0.1 ms per 1,000 rows at dim 512, so 100 ms at 1M rows but ~5 ms at 50k.
- Above `ann_threshold` live rows (backend "auto") an HNSW graph (faiss-cpu, 8-bit scalar
  quantised storage, M=24) gives candidates in well under a millisecond; they are re-scored
  exactly from the float32 rows, so scores are true cosines. numpy float16/int8 variants
  don't help here: numpy has no fast float16 or int8 matrix-vector product.
- A time window [time_from, time_to] is answered exactly over the window's rows (found by
  the time permutation; usually a contiguous slice) when it holds at most `exact_window_rows`
  rows: a 3-day window out of 60 days at 1M vectors holds ~50k rows, a few ms; HNSW with a
  filter loses recall at such selectivity and misses an in-window item surrounded by closer
  out-of-window ones. A wider window over-fetches from the graph in proportion to how much of
  the index lies outside it and falls back to exact when fewer than k hits are in the window.
- Graph building is slow (~20 min at 1M on a busy 2-core machine), so it runs in a background
  thread and searches stay exact until it is done (or start from a snapshot). Rows added
  after the graph was built form a "tail" searched exactly; every `graph_batch` rows the
  background thread adds them to a copy of the graph and swaps it in, so `add` never waits
  for the graph and searches never wait for an insertion.
- Removal marks a row dead (a bit mask the graph search filters on); re-adding an id replaces
  its row (old one dead, new one appended); re-adding an identical vector and time is a no-op,
  so idempotent sync jobs don't grow the index.

Thread safety: a readers-writer lock; searches share it, `add`/`remove` take it exclusively.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

log = logging.getLogger(__name__)

BACKENDS = ("auto", "exact", "faiss")
# Exact search costs ~0.1 ms per 1,000 rows at dim 512 on 2 cores (memory-bound): 50k rows is
# ~5 ms, a small share of a page's budget; above that a graph pays for its build (~0.3 s of
# CPU per 1,000 rows, in the background).
ANN_THRESHOLD = 50_000
# A time window with up to this many rows is searched exactly (~10 ms at dim 512); a wider one
# holds >= 10% of a 1M index, so over-fetching k/share from the graph stays cheap.
EXACT_WINDOW_ROWS = 100_000
HNSW_M = 24
EF_CONSTRUCTION = 100
EF_SEARCH = 256  # recall@10 0.93 at 1M clustered vectors (0.87 at 128), ~1.5 ms
# Rows added after the graph was built are searched exactly (4,096 rows at dim 512: <1 ms)
# and join the graph in batches, in the background on a copy, so adding never stalls
# searches: a faiss HNSW add holds the index for ~1 ms a row at 1M and, when its arrays grow,
# copies them (seconds at 1M).
GRAPH_BATCH = 4096
COMPACT_DEAD_SHARE = 0.2  # rewrite rows (and rebuild any graph) past this share of dead rows
MAX_FETCH = 4096  # most candidates asked of the graph for a wide window
_CHUNK = 8192  # rows per gather when a window's rows are scattered
_RUN_GAP = 64  # rows apart that still count as one run (scoring the gap is cheaper)
_MAX_RUNS = 64  # more runs than this: gather instead
# Back-filled rows (published before rows already in the index) scatter a time window's rows
# across the array; past this share of the rows the index rewrites itself in time order.
REORDER_SHARE = 0.05
_MAGIC = b"BWVI\x01\n"
_ALIGN = 64


def _faiss() -> Any:
    """Import faiss, or explain how to get it (the ANN backend is an optional dependency)."""
    try:
        import faiss
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the 'faiss' vector index backend needs faiss-cpu: "
                          "pip install 'faiss-cpu>=1.8' (or babelwire[ann])") from e
    return faiss


def _has_faiss() -> bool:
    try:
        _faiss()
    except ImportError:
        return False
    return True


class _RWLock:
    """Many readers or one writer; a waiting writer holds back new readers (no starvation)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def _unit_rows(vectors: np.ndarray, dim: int) -> np.ndarray:
    v = np.array(vectors, dtype=np.float32, ndmin=2, copy=True)
    if v.ndim != 2 or v.shape[1] != dim:
        raise ValueError(f"vectors must have shape (n, {dim}), got {np.shape(vectors)}")
    norms = np.sqrt(np.einsum("ij,ij->i", v, v))
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise ValueError("vectors must be finite and non-zero")
    v /= norms[:, None]
    return v


def _top(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (row, score) pairs, best first; -inf scores (dead, excluded) dropped."""
    if k < len(scores):
        part = np.argpartition(-scores, k - 1)[:k]
        rows, scores = rows[part], scores[part]
    order = np.argsort(-scores, kind="stable")
    rows, scores = rows[order], scores[order]
    keep = scores > -np.inf
    return rows[keep], scores[keep]


class VectorIndex:
    """k nearest articles by cosine, optionally within a published-time window.

    backend: "exact" (numpy only, always exact), "faiss" (HNSW graph from the first vector;
    needs faiss-cpu) or "auto" (exact below `ann_threshold` live vectors, the graph above when
    faiss-cpu is installed).
    """

    def __init__(self, dim: int, *, backend: str = "auto", ann_threshold: int = ANN_THRESHOLD,
                 exact_window_rows: int = EXACT_WINDOW_ROWS, ef_search: int = EF_SEARCH,
                 hnsw_m: int = HNSW_M, ef_construction: int = EF_CONSTRUCTION,
                 graph_batch: int = GRAPH_BATCH, threads: int | None = None) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        if dim <= 0:
            raise ValueError("dim must be positive")
        if backend == "faiss":
            _faiss()
        self.dim = dim
        self.backend = backend
        self.ann_threshold = ann_threshold
        self.exact_window_rows = exact_window_rows
        self.ef_search = ef_search
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.graph_batch = graph_batch
        self.threads = threads or os.cpu_count() or 1
        self._lock = _RWLock()
        self._n = 0  # rows used (live and dead)
        self._dead = 0
        self._scattered = 0  # rows back-filled since the rows were last in time order
        self._vec = np.empty((0, dim), np.float32)
        self._ids = np.empty(0, np.int64)
        self._times = np.empty(0, np.float64)
        self._live = np.empty(0, bool)
        self._row: dict[int, int] = {}
        self._tsort = np.empty(0, np.float64)  # times of rows [0, n), ascending
        self._trows = np.empty(0, np.int64)  # the rows in that order
        self._live_bits: np.ndarray | None = None  # packed self._live[:n], built on demand
        self._graph: Any = None  # faiss index over rows [0, _graph_rows); labels are rows
        self._graph_rows = 0
        self._builder: threading.Thread | None = None
        self._build_failed = False
        self._warned_no_faiss = False

    # ----------------------------------------------------------------------- queries

    def __len__(self) -> int:
        with self._lock.read():
            return len(self._row)

    def __contains__(self, article_id: object) -> bool:
        if not isinstance(article_id, int | np.integer):
            return False
        with self._lock.read():
            return int(article_id) in self._row

    def vector(self, article_id: int) -> np.ndarray | None:
        """The stored (normalised) vector of an article, or None."""
        with self._lock.read():
            row = self._row.get(int(article_id))
            return None if row is None else self._vec[row].copy()

    @property
    def uses_graph(self) -> bool:
        """Whether searches currently go through the HNSW graph."""
        return self._graph is not None

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait for a background graph build to finish; True when none is running."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
            return not builder.is_alive()
        return True

    def search(self, vector: np.ndarray, k: int, *, time_from: float | None = None,
               time_to: float | None = None, exclude: Collection[int] = ()
               ) -> list[tuple[int, float]]:
        """The k nearest live articles as (id, cosine), best first.

        time_from/time_to bound the published time (epoch seconds, inclusive); exclude drops
        ids (e.g. the article itself)."""
        q = np.asarray(vector, dtype=np.float32)
        if q.shape != (self.dim,) and q.shape != (1, self.dim):
            raise ValueError(f"search takes one vector of shape ({self.dim},), not {q.shape}")
        q1 = _unit_rows(q.reshape(1, -1), self.dim)[0]
        if k <= 0:
            return []
        with self._lock.read():
            if not self._row:
                return []
            excluded = np.fromiter((r for r in (self._row.get(int(i)) for i in exclude)
                                    if r is not None), np.int64)
            if time_from is None and time_to is None:
                rows, scores = self._search_all(q1, k, excluded)
            else:
                t0 = -math.inf if time_from is None else float(time_from)
                t1 = math.inf if time_to is None else float(time_to)
                rows, scores = self._search_window(q1, k, t0, t1, excluded)
            ids = self._ids[rows]
        return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]

    def _mask(self, rows: np.ndarray, scores: np.ndarray, excluded: np.ndarray) -> None:
        """Set the scores of dead and excluded rows to -inf."""
        if self._dead:
            scores[~self._live[rows]] = -np.inf
        if len(excluded):
            scores[np.isin(rows, excluded)] = -np.inf

    def _exact_range(self, q: np.ndarray, lo: int, hi: int, k: int, excluded: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(lo, hi)
        scores = self._vec[lo:hi] @ q
        self._mask(rows, scores, excluded)
        return _top(rows, scores, k)

    def _exact_rows(self, q: np.ndarray, rows: np.ndarray, k: int, excluded: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        if len(rows) == 0:
            return rows, np.empty(0, np.float32)
        rows = np.sort(rows, kind="stable")  # radix sort: ~1 ms for 200k mostly sorted rows
        # runs of nearby rows are scored straight from the array (no copy); a gather costs
        # ~10x more per row, so it is only for rows scattered by back-filled articles
        cuts = np.flatnonzero(np.diff(rows) > _RUN_GAP) + 1
        if len(cuts) < _MAX_RUNS:
            parts = []
            for run in np.split(rows, cuts):
                first, last = int(run[0]), int(run[-1])
                part = self._vec[first:last + 1] @ q
                parts.append(part if len(run) == last - first + 1 else part[run - first])
            scores = np.concatenate(parts) if len(parts) > 1 else parts[0]
        else:
            scores = np.concatenate([self._vec[rows[a:a + _CHUNK]] @ q
                                     for a in range(0, len(rows), _CHUNK)])
        self._mask(rows, scores, excluded)
        return _top(rows, scores, k)

    def _graph_candidates(self, q: np.ndarray, fetch: int) -> np.ndarray:
        """Up to `fetch` live rows from the graph (approximate order)."""
        faiss = _faiss()
        ef = max(self.ef_search, fetch)
        if self._dead:  # dead rows stay in the graph; the search skips them
            bits = self._live_bits
            if bits is None:  # benign race: readers may build it twice, same value
                bits = np.packbits(self._live[:self._n], bitorder="little")
                self._live_bits = bits
            sel = faiss.IDSelectorBitmap(self._graph_rows, faiss.swig_ptr(bits))
            params = faiss.SearchParametersHNSW(efSearch=ef, sel=sel)
        else:
            bits = sel = None
            params = faiss.SearchParametersHNSW(efSearch=ef)
        _, labels = self._graph.search(q[None], ef, params=params)
        del bits, sel  # kept alive until here: faiss holds raw pointers to them
        rows: np.ndarray = labels[0]
        return rows[rows >= 0]

    def _search_all(self, q: np.ndarray, k: int, excluded: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        if self._graph is None:
            return self._exact_range(q, 0, self._n, k, excluded)
        rows = self._graph_candidates(q, k + len(excluded))
        scores = self._vec[rows] @ q  # exact re-scoring of the candidates
        self._mask(rows, scores, excluded)
        if self._graph_rows < self._n:  # rows not in the graph yet
            tail_rows, tail_scores = self._exact_range(q, self._graph_rows, self._n, k, excluded)
            rows = np.concatenate([rows, tail_rows])
            scores = np.concatenate([scores, tail_scores])
        return _top(rows, scores, k)

    def _search_window(self, q: np.ndarray, k: int, t0: float, t1: float, excluded: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        n = self._n
        lo = int(np.searchsorted(self._tsort[:n], t0, side="left"))
        hi = int(np.searchsorted(self._tsort[:n], t1, side="right"))
        if hi <= lo:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        if lo == 0 and hi == n:
            return self._search_all(q, k, excluded)
        rows = self._trows[lo:hi]
        if self._graph is None or hi - lo <= self.exact_window_rows:
            return self._exact_rows(q, rows, k, excluded)
        # wide window: ask the graph for enough candidates that k should fall inside it
        share = (hi - lo) / n
        fetch = min(MAX_FETCH, math.ceil(2 * (k + len(excluded)) / share))
        cand = self._graph_candidates(q, fetch)
        if self._graph_rows < n:
            cand = np.concatenate([cand, np.arange(self._graph_rows, n)])
        t = self._times[cand]
        cand = cand[(t >= t0) & (t <= t1)]
        scores = self._vec[cand] @ q
        self._mask(cand, scores, excluded)
        got_rows, got_scores = _top(cand, scores, k)
        live = rows[self._live[rows]]
        in_window = len(live) - int(np.count_nonzero(np.isin(live, excluded)))
        if len(got_rows) >= min(k, in_window):
            return got_rows, got_scores
        return self._exact_rows(q, rows, k, excluded)

    # ----------------------------------------------------------------------- updates

    def add(self, ids: np.ndarray, vectors: np.ndarray, times: np.ndarray) -> None:
        """Add articles' vectors (re-adding an id replaces it; an identical one is a no-op).

        ids: int64 (n,); vectors: float32 (n, dim), normalised here; times: epoch seconds."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        vecs = _unit_rows(vectors, self.dim)
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        if not len(ids) == len(vecs) == len(times):
            raise ValueError("ids, vectors and times must have the same length")
        if not np.all(np.isfinite(times)):
            raise ValueError("times must be finite")
        if len(np.unique(ids)) < len(ids):  # the last of repeated ids wins
            _, first_rev = np.unique(ids[::-1], return_index=True)
            keep = np.sort(len(ids) - 1 - first_rev)
            ids, vecs, times = ids[keep], vecs[keep], times[keep]
        with self._lock.write():
            keep_new = np.ones(len(ids), bool)
            for j, article_id in enumerate(ids.tolist()):
                row = self._row.get(article_id)
                if row is None:
                    continue
                same = np.max(np.abs(self._vec[row] - vecs[j])) <= 1e-6  # re-normalised
                if self._times[row] == times[j] and same:
                    keep_new[j] = False
                else:
                    self._kill(row)
            if not keep_new.all():
                ids, vecs, times = ids[keep_new], vecs[keep_new], times[keep_new]
            if len(ids):
                self._append(ids, vecs, times)
                self._after_add()

    def remove(self, ids: Iterable[int] | np.ndarray) -> int:
        """Remove articles by id; returns how many were present."""
        removed = 0
        with self._lock.write():
            gone = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), np.int64)
            for article_id in gone.reshape(-1).tolist():
                row = self._row.pop(article_id, None)
                if row is not None:
                    self._live[row] = False
                    self._dead += 1
                    removed += 1
            if removed:
                self._live_bits = None
                if self._graph is None and self._builder is None and self._should_compact():
                    self._compact()
        return removed

    def _kill(self, row: int) -> None:
        del self._row[int(self._ids[row])]
        self._live[row] = False
        self._dead += 1
        self._live_bits = None

    def _should_compact(self) -> bool:
        return self._dead > 1024 and self._dead > COMPACT_DEAD_SHARE * self._n

    def _append(self, ids: np.ndarray, vecs: np.ndarray, times: np.ndarray) -> None:
        order = np.argsort(times, kind="stable")
        ids, times = ids[order], times[order]
        n, m = self._n, len(ids)
        if n + m > len(self._ids):  # headroom costs no memory until rows are written
            self._grow(max(1024, (n + m) * 5 // 4, len(self._ids) * 3 // 2))
        np.take(vecs, order, axis=0, out=self._vec[n:n + m])  # no sorted copy: 2 GB at 1M
        self._ids[n:n + m] = ids
        self._times[n:n + m] = times
        self._live[n:n + m] = True
        new_rows = np.arange(n, n + m)
        if n == 0 or times[0] >= self._tsort[n - 1]:  # the usual case: newer than all
            self._tsort[n:n + m] = times
            self._trows[n:n + m] = new_rows
        else:  # a backfill: merge into the time order
            self._scattered += m
            at = np.searchsorted(self._tsort[:n], times, side="right")
            tsort = np.insert(self._tsort[:n], at, times)
            trows = np.insert(self._trows[:n], at, new_rows)
            self._tsort = np.empty(len(self._ids), np.float64)
            self._trows = np.empty(len(self._ids), np.int64)
            self._tsort[:n + m] = tsort
            self._trows[:n + m] = trows
        self._row.update(zip(ids.tolist(), range(n, n + m), strict=True))
        self._n = n + m
        self._live_bits = None

    def _grow(self, cap: int) -> None:
        """New arrays of capacity cap (a running graph builder keeps reading the old ones)."""
        n = self._n

        def grown(a: np.ndarray) -> np.ndarray:
            b = np.empty((cap, *a.shape[1:]), a.dtype)
            b[:n] = a[:n]
            return b


        self._vec, self._ids, self._times = grown(self._vec), grown(self._ids), grown(self._times)
        self._live, self._tsort, self._trows = (grown(self._live), grown(self._tsort),
                                                grown(self._trows))

    def _compact(self) -> None:
        """Keep only live rows, in time order (rows and the time order become one)."""
        rows = self._trows[:self._n][self._live[self._trows[:self._n]]]
        ids, vecs, times = self._ids[rows], self._vec[rows], self._times[rows]
        self._n, self._dead, self._row, self._scattered = 0, 0, {}, 0
        self._vec = np.empty((0, self.dim), np.float32)
        self._ids, self._times = np.empty(0, np.int64), np.empty(0, np.float64)
        self._live, self._tsort, self._trows = (np.empty(0, bool), np.empty(0, np.float64),
                                                np.empty(0, np.int64))
        self._graph, self._graph_rows = None, 0
        if len(ids):
            self._append(ids, vecs, times)

    # ----------------------------------------------------------------------- the graph

    def _wants_graph(self) -> bool:
        if self.backend == "exact" or self._build_failed:
            return False
        if self.backend == "auto":
            if len(self._row) < self.ann_threshold:
                return False
            if not _has_faiss():
                if not self._warned_no_faiss:
                    log.warning("vector index: %d vectors, searched exactly; install "
                                "faiss-cpu for approximate search", len(self._row))
                    self._warned_no_faiss = True
                return False
        return True

    def _after_add(self) -> None:
        """Called under the write lock after rows were appended."""
        if self._builder is None and self._scattered > max(self.graph_batch,
                                                           REORDER_SHARE * self._n):
            log.info("vector index: %d back-filled rows; rewriting %d rows in time order",
                     self._scattered, self._n)
            self._compact()  # the graph, if any, is rebuilt in the background below
        if self._builder is not None or not self._wants_graph():
            return
        if self._graph is None or self._n - self._graph_rows >= self.graph_batch:
            self._start_builder()

    def _start_builder(self) -> None:
        self._builder = threading.Thread(target=self._build, name="vector-index-build",
                                         daemon=True)
        self._builder.start()

    def _new_graph(self, sample: np.ndarray) -> Any:
        faiss = _faiss()
        graph = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, self.hnsw_m,
                                  faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = self.ef_construction
        graph.train(sample)
        return graph

    def _build(self) -> None:
        """Background: extend a copy of the graph (or a new one) until fewer than
        `graph_batch` rows are left out, then swap it in."""
        try:
            faiss = _faiss()
            faiss.omp_set_num_threads(self.threads)
            with self._lock.read():
                vec, done, target = self._vec, self._graph_rows, self._n
                if self._graph is None:
                    step = max(1, self._n // 100_000)
                    graph = self._new_graph(np.ascontiguousarray(vec[:target:step]))
                    done = 0
                else:
                    graph = faiss.clone_index(self._graph)
            while True:
                # rows below `target` never change (replacing appends), so no lock is needed
                graph.add(vec[done:target])
                done = target
                with self._lock.write():
                    if self._n - done < self.graph_batch:
                        self._graph, self._graph_rows = graph, done
                        self._builder = None
                        log.info("vector index: graph over %d rows ready", done)
                        return
                    vec, target = self._vec, self._n
        except Exception:
            log.exception("vector index: graph build failed; searches stay exact")
            with self._lock.write():
                self._builder = None
                self._build_failed = True  # don't retry on every add

    # ----------------------------------------------------------------------- snapshots

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a snapshot (vectors, ids, times, live mask, graph) atomically."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with self._lock.read(), open(tmp, "wb") as f:
                n = self._n
                arrays: dict[str, np.ndarray] = {"vec": self._vec[:n], "ids": self._ids[:n],
                          "times": self._times[:n], "live": self._live[:n]}
                header = {"dim": self.dim, "backend": self.backend, "n": n,
                          "ann_threshold": self.ann_threshold,
                          "exact_window_rows": self.exact_window_rows,
                          "ef_search": self.ef_search, "hnsw_m": self.hnsw_m,
                          "ef_construction": self.ef_construction,
                          "graph_batch": self.graph_batch,
                          "graph_rows": self._graph_rows if self._graph is not None else 0,
                          "has_graph": self._graph is not None,
                          "arrays": {k: [a.dtype.str, list(a.shape)] for k, a in arrays.items()}}
                blob = json.dumps(header).encode()
                f.write(_MAGIC + len(blob).to_bytes(8, "little") + blob)
                for a in arrays.values():
                    _pad(f)
                    f.write(np.ascontiguousarray(a).data.cast("B"))
                if self._graph is not None:
                    _pad(f)
                    faiss = _faiss()
                    faiss.write_index(self._graph, faiss.PyCallbackIOWriter(f.write))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, backend: str | None = None,
             threads: int | None = None) -> VectorIndex:
        """Read a snapshot written by `save`. A graph in it is used when the backend allows
        (faiss-cpu installed, backend not "exact"); otherwise one is built in the background
        when wanted."""
        with open(path, "rb") as f:
            if f.read(len(_MAGIC)) != _MAGIC:
                raise ValueError(f"{path}: not a vector index snapshot")
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
            ix = cls(header["dim"], backend=backend or header["backend"],
                     ann_threshold=header["ann_threshold"],
                     exact_window_rows=header["exact_window_rows"],
                     ef_search=header["ef_search"], hnsw_m=header["hnsw_m"],
                     ef_construction=header["ef_construction"],
                     graph_batch=header["graph_batch"], threads=threads)
            n = header["n"]
            cap = max(1024, n * 9 // 8)  # room to add without copying everything at once
            arrays = {}
            for name, (dtype, shape) in header["arrays"].items():
                _skip_pad(f)
                a = np.empty((cap, *shape[1:]), np.dtype(dtype))
                if f.readinto(a[:n].data.cast("B")) != a[:n].nbytes:
                    raise ValueError(f"{path}: truncated snapshot")
                arrays[name] = a
            graph = None
            if header["has_graph"] and ix.backend != "exact" and _has_faiss():
                _skip_pad(f)
                faiss = _faiss()
                graph = faiss.read_index(faiss.PyCallbackIOReader(f.read))
        ix._restore(arrays, n, graph, header["graph_rows"])
        return ix

    def _restore(self, arrays: dict[str, np.ndarray], n: int, graph: Any, graph_rows: int
                 ) -> None:
        with self._lock.write():
            self._vec, self._ids = arrays["vec"], arrays["ids"]
            self._times, self._live = arrays["times"], arrays["live"]
            self._n = n
            live_rows = np.flatnonzero(self._live[:n])
            self._dead = n - len(live_rows)
            self._row = dict(zip(self._ids[live_rows].tolist(), live_rows.tolist(),
                                 strict=True))
            self._trows = np.empty(len(self._ids), np.int64)
            self._tsort = np.empty(len(self._ids), np.float64)
            self._trows[:n] = np.argsort(self._times[:n], kind="stable")
            self._tsort[:n] = self._times[self._trows[:n]]
            if n:
                t = self._times[:n]
                self._scattered = int(np.count_nonzero(t < np.maximum.accumulate(t)))
            self._graph, self._graph_rows = graph, graph_rows if graph is not None else 0
            if self._should_compact():
                self._compact()  # drops the graph; rebuilt below if wanted
            if self._graph is not None and not self._wants_graph():
                self._graph, self._graph_rows = None, 0
            self._after_add()


def _pad(f: IO[bytes]) -> None:
    f.write(b"\0" * (-f.tell() % _ALIGN))


def _skip_pad(f: IO[bytes]) -> None:
    f.seek(-f.tell() % _ALIGN, os.SEEK_CUR)
