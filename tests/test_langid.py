"""Language identification: the model on related languages, hints, short text, codes."""

from __future__ import annotations

import pytest

from babelwire.ingest import langid
from babelwire.ingest.langid import LanguageGuess, identify_language, normalize_language_tag

UKRAINIAN = ("Уряд ухвалив бюджет на наступний рік. Депутати довго сперечалися, "
             "але більшість підтримала зміни до податкового кодексу.")
RUSSIAN = ("Правительство приняло бюджет на следующий год. Депутаты долго спорили, "
           "но большинство поддержало изменения в налоговом кодексе.")
CATALAN = ("L'ajuntament ha aprovat els pressupostos per a l'any vinent. Els veïns "
           "podran votar quins projectes es fan primer als barris.")
SPANISH = ("El ayuntamiento ha aprobado los presupuestos para el año que viene. Los vecinos "
           "podrán votar qué proyectos se hacen primero en los barrios.")
PORTUGUESE = ("A câmara municipal aprovou o orçamento para o próximo ano. Os moradores "
              "poderão votar quais projetos serão feitos primeiro nos bairros.")


@pytest.mark.parametrize(("text", "expected"), [
    (UKRAINIAN, "uk"), (RUSSIAN, "ru"), (CATALAN, "ca"), (SPANISH, "es"), (PORTUGUESE, "pt"),
])
def test_related_languages_are_told_apart_from_text_alone(text: str, expected: str) -> None:
    guess = identify_language(text)
    assert guess == LanguageGuess(expected, guess.confidence, "text", None)
    assert 0.5 < guess.confidence <= 1.0


@pytest.mark.parametrize(("text", "wrong_hint", "expected"), [
    (UKRAINIAN, "ru", "uk"), (RUSSIAN, "uk", "ru"), (CATALAN, "es", "ca"),
    (SPANISH, "ca", "es"), (PORTUGUESE, "es", "pt"),
])
def test_a_wrong_related_hint_does_not_override_clear_text(text: str, wrong_hint: str,
                                                           expected: str) -> None:
    guess = identify_language(text, [wrong_hint])
    assert guess.language == expected
    assert guess.source == "text"
    assert guess.agrees_with_hints is False


def test_a_wrong_unrelated_hint_does_not_override_clear_text() -> None:
    text = ("The council voted on Tuesday to rebuild the old bridge over the river, "
            "after years of debate about its cost.")
    guess = identify_language(text, ["de"])
    assert (guess.language, guess.source, guess.agrees_with_hints) == ("en", "text", False)


@pytest.mark.parametrize(("text", "hint"), [
    ("Ministro da Saúde visita hospital", "es"),  # model leans pt, gl
    ("La presidenta del parlament", "ca"),  # model torn between oc and ca
    ("Banka ne radi subotom i nedjeljom", "bs"),  # hr, bs, sr are one dialect continuum
    ("Presiden menghadiri pertemuan di Jakarta", "ms"),
])
def test_hint_decides_when_the_model_is_unsure(text: str, hint: str) -> None:
    unhinted = identify_language(text)
    assert unhinted.language != hint
    assert unhinted.confidence < 0.9
    guess = identify_language(text, [hint])
    assert (guess.language, guess.source, guess.agrees_with_hints) == (hint, "hint", False)
    assert 0.0 < guess.confidence <= 1.0


def test_hint_that_agrees_is_reported() -> None:
    guess = identify_language(CATALAN, ["ca-ES"])
    assert (guess.language, guess.source, guess.agrees_with_hints) == ("ca", "text", True)


@pytest.mark.parametrize("text", ["", "   ", "Hola", "Breaking: 12:45", "1234567890 1234567 !!!"])
def test_too_little_text_falls_back_to_the_first_hint(text: str) -> None:
    guess = identify_language(text, ["pt-BR", "en"])
    assert guess == LanguageGuess("pt", langid.HINT_ONLY_CONFIDENCE, "hint", None)


def test_no_text_and_no_hints_gives_no_language() -> None:
    assert identify_language("ok", []) == LanguageGuess(None, 0.0, "none", None)


def test_only_the_first_max_chars_are_read() -> None:
    text = SPANISH * 20 + " " + RUSSIAN * 40
    assert len(SPANISH * 20) > langid.MAX_CHARS
    assert identify_language(text).language == "es"


def test_unusable_hints_are_ignored() -> None:
    guess = identify_language("Hi", ["", "und", "<script>", "x-klingon", "de-AT"])
    assert guess.language == "de"


@pytest.mark.parametrize(("tag", "expected"), [
    ("en-US", "en"), ("pt_BR", "pt"), ("  FR  ", "fr"), ("zh-Hant-TW", "zh"), ("iw", "he"),
    ("in", "id"), ("deu", "de"), ("ger", "de"), ("nb-NO", "no"), ("nn", "nn"), ("fil", "tl"),
    ("English", "en"), ("und", None), ("mul", None), ("x-private", None), ("", None),
    (None, None), ("e", None), ("english-please", None), ("<b>", None), ("12", None),
])
def test_normalize_language_tag(tag: str | None, expected: str | None) -> None:
    assert normalize_language_tag(tag) == expected


def test_model_codes_are_ours() -> None:
    # Egyptian Arabic is reported as Arabic, not as the model's "arz".
    text = "ازيك يا صاحبي؟ انا مش عارف اعمل ايه النهارده عشان الجو حر قوي ومفيش حاجة اعملها"
    assert identify_language(text).language == "ar"


def test_the_model_is_loaded_once() -> None:
    assert langid._identifier() is langid._identifier()
