"""Neural translation with Argos Translate packages, run by CTranslate2 in-process.

The ``argostranslate`` package is not needed: a package is a CTranslate2 model plus a
SentencePiece model (see `models`), and this engine does what Argos does with them:
tokenise with SentencePiece, ``Translator.translate_batch``, join the pieces back. Argos's
stanza sentence splitting is not used: segments arrive already split.

ctranslate2 and sentencepiece come with the ``neural`` extra (``pip install
babelwire[neural]``); without them the engine offers no pairs and says so in `health`.

Failures are per segment and explicit: a segment that does not tokenise, is longer than the
model accepts, decodes to nothing, or runs away (output far longer than the input, the
usual sign of a decoding loop) comes back as ``Translated(None, error)``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from babelwire.translate.base import EngineError, Health, Pair, Translated
from babelwire.translate.models import InstalledModel, list_models, version_key

__all__ = ["ArgosEngine"]

log = logging.getLogger(__name__)

INSTALL_HINT = "ctranslate2 and sentencepiece are not installed: install babelwire[neural]"
MAX_INPUT_TOKENS = 1024  # longer segments fail explicitly instead of being cut
OUTPUT_RATIO = 3  # output tokens allowed per input token (plus OUTPUT_SLACK) before a
OUTPUT_SLACK = 16  # translation counts as a runaway decoding loop


def _neural_installed() -> bool:
    """ctranslate2 and sentencepiece are there (found, not imported: importing ctranslate2
    costs a command that never translates with it a tenth of a second)."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("ctranslate2", "sentencepiece"))


def _import_neural() -> tuple[ModuleType, ModuleType] | None:
    try:
        import ctranslate2
        import sentencepiece
    except ImportError:
        return None
    return ctranslate2, sentencepiece


def _identity(model: InstalledModel) -> tuple[Path, int]:
    try:
        return model.path, model.path.stat().st_ino
    except OSError:
        return model.path, 0


def _default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


@dataclass(frozen=True)
class _Loaded:
    model: InstalledModel
    translator: Any  # ctranslate2.Translator
    tokenizer: Any  # sentencepiece.SentencePieceProcessor
    target_prefix: str


@dataclass
class _Prepared:
    index: int
    lead: str
    trail: str
    tokens: list[str]


class ArgosEngine:
    """Translate with the Argos packages installed in `models_dir` (see `models`)."""

    name = "argos"
    quality = 20

    def __init__(self, models_dir: Path, *, beam_size: int = 2, inter_threads: int = 1,
                 intra_threads: int | None = None, compute_type: str = "default",
                 max_batch_size: int = 32, max_loaded: int = 4) -> None:
        self.models_dir = Path(models_dir)
        self.beam_size = beam_size
        self.inter_threads = inter_threads
        self.intra_threads = _default_threads() if intra_threads is None else intra_threads
        self.compute_type = compute_type
        self.max_batch_size = max_batch_size
        self.max_loaded = max_loaded
        self._installed = _neural_installed()
        self._neural_modules: tuple[ModuleType, ModuleType] | None = None
        self._lock = threading.Lock()
        # keyed by (package directory, its inode): a reinstall at the same path reloads
        self._loaded: OrderedDict[tuple[Path, int], _Loaded] = OrderedDict()
        self._scan_key: tuple[int, int] | None = None
        self._by_pair: dict[Pair, InstalledModel] = {}

    @property
    def _neural(self) -> tuple[ModuleType, ModuleType] | None:
        """ctranslate2 and sentencepiece, imported on first use."""
        if self._neural_modules is None and self._installed:
            self._neural_modules = _import_neural()
            self._installed = self._neural_modules is not None
        return self._neural_modules

    # -- models -----------------------------------------------------------------------

    def _models(self) -> dict[Pair, InstalledModel]:
        """The newest installed model per pair, rescanned when models_dir changes."""
        try:
            st = self.models_dir.stat()
            key = (st.st_mtime_ns, st.st_ino)
        except OSError:
            key = (0, 0)
        with self._lock:
            if key != self._scan_key:
                best: dict[Pair, InstalledModel] = {}
                for model in list_models(self.models_dir):
                    have = best.get(model.pair)
                    if have is None or version_key(model.version) > version_key(have.version):
                        best[model.pair] = model
                self._by_pair = best
                self._scan_key = key
                live = {_identity(m) for m in best.values()}
                for stale in [k for k in self._loaded if k not in live]:
                    del self._loaded[stale]
            return dict(self._by_pair)

    def _load(self, model: InstalledModel) -> _Loaded:
        assert self._neural is not None
        ctranslate2, sentencepiece = self._neural
        key = _identity(model)
        with self._lock:
            loaded = self._loaded.get(key)
            if loaded is not None:
                self._loaded.move_to_end(key)
                return loaded
            translator = ctranslate2.Translator(
                str(model.model_dir), device="cpu", compute_type=self.compute_type,
                inter_threads=self.inter_threads, intra_threads=self.intra_threads)
            tokenizer = sentencepiece.SentencePieceProcessor(
                model_file=str(model.sentencepiece_path))
            loaded = _Loaded(model, translator, tokenizer, model.target_prefix)
            self._loaded[key] = loaded
            while len(self._loaded) > self.max_loaded:
                self._loaded.popitem(last=False)
            log.info("loaded Argos model %s-%s %s", model.from_code, model.to_code,
                     model.version)
            return loaded

    # -- Engine -----------------------------------------------------------------------

    def pairs(self) -> frozenset[Pair]:
        if not self._installed:
            return frozenset()
        models = self._models()  # no model yet: nothing to import
        if not models or self._neural is None:
            return frozenset()
        return frozenset(models)

    def version(self) -> str:
        if self._neural is None:
            return "ctranslate2 not installed"
        ctranslate2, sentencepiece = self._neural
        return (f"ctranslate2 {ctranslate2.__version__}, "
                f"sentencepiece {getattr(sentencepiece, '__version__', '?')}")

    @property
    def runnable(self) -> bool:
        """ctranslate2 and sentencepiece are installed (models may come later)."""
        return self._installed

    def health(self) -> Health:
        if self._neural is None:
            return Health(False, INSTALL_HINT)
        models = self._models()
        if not models:
            return Health(False, f"no Argos models installed in {self.models_dir}")
        listed = ", ".join(f"{s}-{t} {m.version}" for (s, t), m in sorted(models.items()))
        return Health(True, f"{len(models)} model(s): {listed}")

    def close(self) -> None:
        with self._lock:
            self._loaded.clear()

    def translate(self, segments: Sequence[str], source: str, target: str
                  ) -> list[Translated]:
        if self._neural is None:
            raise EngineError(INSTALL_HINT)
        results: list[Translated | None] = [None] * len(segments)
        model = self._models().get((source, target))
        if model is None:
            return [Translated(None, f"argos: no model installed for {source}-{target}")
                    for _ in segments]
        try:
            loaded = self._load(model)
        except Exception as exc:  # a broken model fails its pair, not the engine
            log.warning("cannot load Argos model %s: %s", model.path, exc)
            return [Translated(None, f"argos: cannot load model {model.path.name}: {exc}")
                    for _ in segments]

        prepared: list[_Prepared] = []
        for i, segment in enumerate(segments):
            core = segment.strip()
            if not core:
                results[i] = Translated(segment)  # nothing to translate
                continue
            try:
                tokens = list(loaded.tokenizer.encode(core, out_type=str))
            except Exception as exc:
                results[i] = Translated(None, f"argos: tokenisation failed: {exc}")
                continue
            if len(tokens) > MAX_INPUT_TOKENS:
                results[i] = Translated(None, f"argos: segment too long ({len(tokens)} tokens"
                                              f" > {MAX_INPUT_TOKENS})")
                continue
            lead = segment[: len(segment) - len(segment.lstrip())]
            trail = segment[len(segment.rstrip()):]
            prepared.append(_Prepared(i, lead, trail, tokens))

        if prepared:
            for item, outcome in zip(prepared, self._decode(loaded, prepared), strict=True):
                results[item.index] = outcome
        return [r if r is not None else Translated(None, "argos: no result") for r in results]

    def _decode(self, loaded: _Loaded, items: list[_Prepared]) -> list[Translated]:
        """Translate a batch; if the batch call fails, retry one by one to isolate."""
        try:
            return self._decode_batch(loaded, items)
        except Exception as exc:
            if len(items) == 1:
                return [Translated(None, f"argos: translation failed: {exc}")]
            log.warning("Argos batch of %d failed (%s); isolating", len(items), exc)
            return [self._decode(loaded, [item])[0] for item in items]

    def _decode_batch(self, loaded: _Loaded, items: list[_Prepared]) -> list[Translated]:
        prefix = [loaded.target_prefix] if loaded.target_prefix else None
        longest = max(len(item.tokens) for item in items)
        options: dict[str, Any] = {
            "beam_size": self.beam_size,
            "max_batch_size": self.max_batch_size,
            "max_input_length": 0,  # never truncate silently: long inputs are refused above
            "max_decoding_length": OUTPUT_RATIO * longest + OUTPUT_SLACK + (1 if prefix else 0),
            "min_decoding_length": 1 + (1 if prefix else 0),
            "replace_unknowns": True,
        }
        if prefix:
            options["target_prefix"] = [prefix] * len(items)
        batch = loaded.translator.translate_batch([item.tokens for item in items], **options)
        out = []
        for item, result in zip(items, batch, strict=True):
            pieces = list(result.hypotheses[0])
            if prefix and pieces[:1] == prefix:
                pieces = pieces[1:]
            limit = OUTPUT_RATIO * len(item.tokens) + OUTPUT_SLACK
            text = "".join(pieces).replace("▁", " ").strip()
            if len(pieces) >= limit:
                out.append(Translated(None, f"argos: runaway output ({len(pieces)} tokens for "
                                            f"{len(item.tokens)} input tokens)"))
            elif not text:
                out.append(Translated(None, "argos: empty output for non-empty input"))
            else:
                out.append(Translated(item.lead + text + item.trail))
        return out
