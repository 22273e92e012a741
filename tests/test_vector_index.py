"""The vector index behind similar news: exact answers, ANN recall, time windows, updates,
snapshots and concurrent use. Speed is measured in benchmarks/vector_index.py, not here."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from babelwire.similar.index import VectorIndex

DAY = 86400.0
T0 = 1_790_000_000.0  # an epoch second in 2026

try:
    import faiss  # noqa: F401

    HAVE_FAISS = True
except ImportError:  # the ANN backend is optional; its tests skip
    HAVE_FAISS = False
BACKENDS = ["exact", pytest.param("faiss", marks=pytest.mark.skipif(
    not HAVE_FAISS, reason="faiss-cpu missing"))]


def unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def clustered(n: int, dim: int, seed: int, clusters: int = 60) -> np.ndarray:
    """Unit vectors around a few dozen centres: neighbours are close calls inside a cluster."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((clusters, dim)))
    which = rng.integers(0, clusters, n)
    return unit(centres[which] + 0.9 / np.sqrt(dim) * rng.standard_normal((n, dim)))


def exact_top(x: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    return np.argsort(-(x @ q), kind="stable")[:k].tolist()


def filled(backend: str, x: np.ndarray, times: np.ndarray, **kw: int) -> VectorIndex:
    ix = VectorIndex(x.shape[1], backend=backend, **kw)
    ix.add(np.arange(len(x), dtype=np.int64), x, times)
    assert ix.wait_ready(60)
    return ix


def test_exact_backend_matches_hand_computed_cosines() -> None:
    # 2-D vectors at known angles from the query (1, 0): cos 0° = 1, 60° = .5, 90° = 0, ...
    angles = {7: 60, 8: 0, 9: 90, 10: 180, 11: 30}
    vecs = np.array([[np.cos(np.radians(a)), np.sin(np.radians(a))] for a in angles.values()])
    ix = VectorIndex(2, backend="exact")
    ix.add(np.array(list(angles)), vecs * 3.0, np.full(len(angles), T0))  # normalised on add
    got = ix.search(np.array([2.0, 0.0]), 3)
    assert [i for i, _ in got] == [8, 11, 7]
    assert [s for _, s in got] == pytest.approx([1.0, np.sqrt(3) / 2, 0.5], abs=1e-6)
    # query (0, -1): cos = -sin(angle), so 180° and 0° tie at 0 and 90° comes last
    got = ix.search(np.array([0.0, -1.0]), 5)
    assert [i for i, _ in got][-1] == 9 and {i for i, _ in got[:2]} == {8, 10}
    scores = dict(got)
    assert scores == pytest.approx({k: -np.sin(np.radians(a)) for k, a in angles.items()},
                                   abs=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_index_wrong_dim_and_bad_input(backend: str) -> None:
    ix = VectorIndex(8, backend=backend)
    assert len(ix) == 0 and 3 not in ix and ix.vector(3) is None
    assert ix.search(unit(np.ones(8)), 10) == []
    assert ix.search(unit(np.ones(8)), 10, time_from=T0, time_to=T0 + DAY) == []
    with pytest.raises(ValueError, match="shape"):
        ix.add(np.array([1]), np.ones((1, 7), np.float32), np.array([T0]))
    with pytest.raises(ValueError, match="shape"):
        ix.search(np.ones(9, np.float32), 3)
    with pytest.raises(ValueError, match="same length"):
        ix.add(np.array([1, 2]), np.ones((1, 8), np.float32), np.array([T0]))
    with pytest.raises(ValueError, match="non-zero"):
        ix.add(np.array([1]), np.zeros((1, 8), np.float32), np.array([T0]))
    with pytest.raises(ValueError, match="backend"):
        VectorIndex(8, backend="annoy")
    assert len(ix) == 0


def test_ann_recall_against_exact_on_clustered_vectors() -> None:
    pytest.importorskip("faiss")
    x = clustered(4000, 48, seed=1)
    queries = clustered(60, 48, seed=2)
    ix = filled("faiss", x, T0 + np.arange(len(x)) * 60.0)
    assert ix.uses_graph
    hits = 0
    for q in queries:
        got = [i for i, _ in ix.search(q, 50)][:10]
        hits += len(set(got) & set(exact_top(x, q, 10)))
        assert got == sorted(got, key=lambda i: -float(x[i] @ q))  # exact re-scoring
    assert hits / (10 * len(queries)) >= 0.95


@pytest.mark.parametrize("backend", BACKENDS)
def test_replace_and_remove(backend: str) -> None:
    x = clustered(600, 16, seed=3)
    times = T0 + np.arange(600) * 600.0
    ix = filled(backend, x, times)
    q = x[42]
    assert ix.search(q, 1)[0][0] == 42
    # re-adding 42 elsewhere replaces it: its old place is empty, its new one found
    ix.add(np.array([42]), -q[None], np.array([times[42]]))
    assert len(ix) == 600
    assert ix.search(q, 1)[0][0] != 42
    assert ix.search(-q, 1) == [(42, pytest.approx(1.0, abs=1e-5))]
    stored = ix.vector(42)
    assert stored is not None
    np.testing.assert_allclose(stored, -q, atol=1e-6)
    # an identical re-add changes nothing
    ix.add(np.array([42]), -q[None], np.array([times[42]]))
    assert len(ix) == 600 and ix.search(-q, 1)[0][0] == 42
    # removal: gone from len, membership, vector and every search
    second = ix.search(x[7], 2)[1][0]
    assert ix.remove([7, 7, 99999]) == 1
    assert len(ix) == 599 and 7 not in ix and ix.vector(7) is None
    assert ix.search(x[7], 1)[0][0] == second
    assert all(i != 7 for i, _ in ix.search(x[7], 600))
    assert len(ix.search(x[7], 1000)) == 599
    # a removed id can come back
    ix.add(np.array([7]), x[7:8], times[7:8])
    assert ix.search(x[7], 1)[0][0] == 7


def test_many_removals_compact_the_exact_index() -> None:
    x = clustered(3000, 16, seed=4)
    times = T0 + np.arange(3000) * 60.0
    ix = filled("exact", x, times)
    gone = np.arange(0, 3000, 2)
    assert ix.remove(gone) == 1500
    keep = np.arange(1, 3000, 2)
    for q in x[:20]:
        assert [i for i, _ in ix.search(q, 10)] == keep[exact_top(x[keep], q, 10)].tolist()
    lo, hi = times[1000], times[1100]
    got = [i for i, _ in ix.search(x[5], 100, time_from=lo, time_to=hi)]
    assert sorted(got) == list(range(1001, 1100, 2))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("exact_window_rows", [100_000, 0])  # 0: over-fetch, then fallback
def test_narrow_window_finds_the_in_window_best_among_closer_outsiders(
        backend: str, exact_window_rows: int) -> None:
    rng = np.random.default_rng(5)
    dim = 32
    q = unit(rng.standard_normal(dim))
    # 5,000 vectors very close to q (cosine ~0.999), all outside a one-day window ...
    near = unit(q + 0.05 * unit(rng.standard_normal((5000, dim))))
    near_t = T0 + DAY * np.where(rng.random(5000) < 0.5, rng.uniform(0, 29, 5000),
                                 rng.uniform(32, 60, 5000))
    # ... 1,000 unrelated ones, half of them inside ...
    far = clustered(1000, dim, seed=6)
    far_t = T0 + DAY * np.concatenate([rng.uniform(30, 31, 500), rng.uniform(0, 29, 500)])
    # ... and inside it five at cosines 0.95 .. 0.75 to q
    perp = rng.standard_normal((5, dim))
    perp -= np.outer(perp @ q, q)
    cosines = np.array([0.95, 0.9, 0.85, 0.8, 0.75])
    inside = cosines[:, None] * q + np.sqrt(1 - cosines[:, None] ** 2) * unit(perp)
    x = np.vstack([near, far, inside])
    times = np.concatenate([near_t, far_t, T0 + 30.5 * DAY + np.arange(5) * 60.0])
    ix = filled(backend, x, times, exact_window_rows=exact_window_rows)
    t0, t1 = T0 + 30 * DAY, T0 + 31 * DAY
    got = ix.search(q, 3, time_from=t0, time_to=t1)
    assert [i for i, _ in got] == [6000, 6001, 6002]
    assert [s for _, s in got] == pytest.approx([0.95, 0.9, 0.85], abs=1e-5)
    got = ix.search(q, 3, time_from=t0, time_to=t1, exclude=[6000, 6002])
    assert [i for i, _ in got] == [6001, 6003, 6004]
    # open-ended windows (half the index: through the graph when exact_window_rows is 0,
    # where the 2,500 near-ties may come back in another order)
    for lo, hi in ((t0, None), (None, t1)):
        rows = np.flatnonzero((times >= (lo or -np.inf)) & (times <= (hi or np.inf)))
        got = ix.search(q, 3, time_from=lo, time_to=hi)
        want = rows[exact_top(x[rows], q, 3)].tolist()
        assert {i for i, _ in got} <= set(rows.tolist())
        if backend == "exact" or exact_window_rows:
            assert [i for i, _ in got] == want
        else:  # as similar as the exact answer, to within the ties' spread
            assert [s for _, s in got] == pytest.approx(x[want] @ q, abs=1e-3)
    assert ix.search(q, 3, time_from=t1 + 1, time_to=t1 + 2) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_wide_window_and_exclude_match_exact(backend: str) -> None:
    x = clustered(3000, 24, seed=7)
    times = T0 + np.random.default_rng(8).uniform(0, 60 * DAY, 3000)
    ix = filled(backend, x, times, exact_window_rows=100)
    mask = times <= T0 + 40 * DAY
    found = 0
    for q in clustered(20, 24, seed=9):
        inside = np.flatnonzero(mask)
        want = inside[exact_top(x[inside], q, 10)].tolist()
        got = [i for i, _ in ix.search(q, 10, time_to=T0 + 40 * DAY, exclude=want[:3])]
        assert not set(got) & set(want[:3])
        assert all(mask[i] for i in got) and len(got) == 10
        found += len(set(got) & set(want[3:]))
    assert found / (7 * 20) >= 0.9


@pytest.mark.parametrize("backend", BACKENDS)
def test_backfill_out_of_time_order(backend: str) -> None:
    x = clustered(1000, 16, seed=10)
    ix = VectorIndex(16, backend=backend)
    ix.add(np.arange(500), x[:500], T0 + 10 * DAY + np.arange(500) * 60.0)  # recent first
    ix.add(np.arange(500, 1000), x[500:], T0 + np.arange(500) * 60.0)  # then older ones
    assert ix.wait_ready(60)
    got = ix.search(x[700], 1000, time_to=T0 + DAY)
    assert sorted(i for i, _ in got) == list(range(500, 1000))
    assert got[0][0] == 700


@pytest.mark.parametrize("backend", BACKENDS)
def test_scattered_backfills_are_rewritten_in_time_order(backend: str) -> None:
    # an archive replayed out of order: 30 batches of random days, one-by-one adds between;
    # every window answer must equal brute force over that window, before and after the
    # index lays its rows out in time order again
    rng = np.random.default_rng(21)
    n = 9000
    x = clustered(n, 24, seed=22)
    times = T0 + rng.uniform(0, 60 * DAY, n)
    ix = VectorIndex(24, backend=backend, graph_batch=1024, ann_threshold=4000)
    reordered = False
    for lo in range(0, n, 300):
        hi = min(lo + 300, n)
        ix.add(np.arange(lo, hi), x[lo:hi], times[lo:hi])
        order = ix._times[: ix._n]
        reordered |= bool(lo and np.all(np.diff(order) >= 0))
        assert ix.wait_ready(60)
        q = x[int(rng.integers(0, hi))]
        t0 = T0 + float(rng.uniform(0, 50 * DAY))
        got = ix.search(q, 15, time_from=t0, time_to=t0 + 7 * DAY)
        inside = np.flatnonzero((times[:hi] >= t0) & (times[:hi] <= t0 + 7 * DAY))
        want = inside[np.argsort(-(x[inside] @ q), kind="stable")[:15]]
        assert [i for i, _ in got] == want.tolist()
    assert reordered, "the back-filled rows were never put back in time order"
    assert len(ix) == n


@pytest.mark.parametrize("backend", BACKENDS)
def test_save_load_round_trip(backend: str, tmp_path: Path) -> None:
    x = clustered(2500, 32, seed=11)
    times = T0 + np.arange(2500) * 300.0
    ix = filled(backend, x, times)
    ix.remove([3, 4])
    queries = clustered(10, 32, seed=12)
    before = [ix.search(q, 20) for q in queries]
    window = [ix.search(q, 5, time_from=times[100], time_to=times[200]) for q in queries]
    path = tmp_path / "similar.bwvi"
    ix.save(path)
    ix.save(path)  # overwriting an existing snapshot
    assert [p.name for p in tmp_path.iterdir()] == ["similar.bwvi"]  # no temp file left
    back = VectorIndex.load(path)
    assert back.wait_ready(60)
    assert back.uses_graph == ix.uses_graph == (backend == "faiss")
    assert len(back) == 2498 and 3 not in back and 5 in back
    np.testing.assert_array_equal(back.vector(5), ix.vector(5))
    for q, b, w in zip(queries, before, window, strict=True):
        assert back.search(q, 20) == b
        assert back.search(q, 5, time_from=times[100], time_to=times[200]) == w
    back.add(np.array([9000]), x[:1], times[:1])  # still updatable
    assert back.search(x[0], 2)[0][1] == pytest.approx(1.0, abs=1e-5) and 9000 in back
    (tmp_path / "junk").write_bytes(b"not a snapshot")
    with pytest.raises(ValueError, match="not a vector index snapshot"):
        VectorIndex.load(tmp_path / "junk")


def test_auto_switches_to_the_graph_above_the_threshold() -> None:
    pytest.importorskip("faiss")
    x = clustered(3000, 32, seed=13)
    times = T0 + np.arange(3000) * 60.0
    ix = VectorIndex(32, backend="auto", ann_threshold=1000)
    ix.add(np.arange(900), x[:900], times[:900])
    assert ix.wait_ready(60) and not ix.uses_graph
    ix.add(np.arange(900, 3000), x[900:], times[900:])
    # answered (exactly) while the graph builds in the background
    assert ix.search(x[2999], 1)[0][0] == 2999
    assert ix.wait_ready(60) and ix.uses_graph
    for i in (5, 950, 2999):
        assert ix.search(x[i], 1)[0][0] == i
    assert VectorIndex(32, backend="exact", ann_threshold=10).uses_graph is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_adds_and_searches(backend: str) -> None:
    dim = 32
    x = clustered(4000, dim, seed=14)
    times = T0 + np.arange(4000) * 60.0
    # graph_batch 500: the graph takes in new rows (on a copy, swapped in) during the test
    ix = filled(backend, x[:1000], times[:1000], graph_batch=500)
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            for a in range(1000, 4000, 100):
                ix.add(np.arange(a, a + 100), x[a:a + 100], times[a:a + 100])
                ix.remove([a - 500])
        except BaseException as e:
            errors.append(e)
        finally:
            stop.set()

    def reader(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while not stop.is_set():
                i = int(rng.integers(0, 1000))
                got = ix.search(x[i], 10, time_from=times[0], exclude=[i + 1])
                assert got and all(-1.0001 <= s <= 1.0001 for _, s in got)
                assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
                ix.vector(i)
                _ = len(ix), i in ix
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert ix.wait_ready(60)
    assert len(ix) == 4000 - 30
    assert ix.search(x[3999], 1)[0][0] == 3999 and 500 not in ix and 999 in ix
    assert ix.search(x[3400], 1)[0][0] != 3400 and ix.search(x[3401], 1)[0][0] == 3401
    if backend == "faiss":
        assert ix.uses_graph
