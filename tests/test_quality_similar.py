"""Quality gate: cross-lingual same-story retrieval on NTREX-128 through the real path
(loopback fetch, extraction, storage, embedding, vector index, the similar-news query).

Floors from the issue: mean P@1 >= 0.97 over every ordered pair of the nine languages, and
every pair >= 0.90. Skips cleanly when ../shared/data is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.factories import make_settings, shared_data
from tests.support.ntrex_retrieval import VARIANTS, RetrievalResult, run

MEAN_FLOOR = 0.97
PAIR_FLOOR = 0.90


@pytest.fixture(scope="module")
def retrieval(tmp_path_factory: pytest.TempPathFactory) -> RetrievalResult:
    ntrex = shared_data("mt-ntrex128")
    tmp: Path = tmp_path_factory.mktemp("ntrex")
    return run(ntrex, make_settings(tmp, translate=False, workers=4))


def test_every_page_is_stored_and_embedded(retrieval: RetrievalResult) -> None:
    assert retrieval.articles == 123 * len(VARIANTS)
    assert retrieval.ready == retrieval.articles, retrieval.not_ready


def test_cross_lingual_p_at_1(retrieval: RetrievalResult) -> None:
    worst_pair, worst = retrieval.worst
    assert len(retrieval.p_at_1) == len(VARIANTS) * (len(VARIANTS) - 1)
    assert retrieval.mean >= MEAN_FLOOR, f"mean P@1 {retrieval.mean:.3f}"
    assert worst >= PAIR_FLOOR, f"{worst_pair}: P@1 {worst:.3f}"


def test_stories_group_a_document_across_languages(retrieval: RetrievalResult) -> None:
    # nine translations of one document belong together: completeness (the share of articles
    # in their document's main story) measured 0.978. Purity against documents undercounts:
    # several NTREX documents report one event (the Indonesia tsunami, the Kavanaugh hearing,
    # the Ryder Cup, Track Palin's arrest) and rightly share a story; every merge of two
    # documents' stories seen was one of those. Measured 0.817 (0.855 without merges).
    assert retrieval.story_completeness >= 0.95, retrieval.story_completeness
    assert retrieval.story_purity >= 0.75, retrieval.story_purity
    assert retrieval.stories <= 123 * 2, retrieval.stories
