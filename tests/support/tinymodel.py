"""Build a tiny Argos Translate package (.argosmodel) at test time.

No real translation model can be downloaded here, so the tests make one: a SentencePiece
model trained on a few dozen lines, and a one-layer CTranslate2 Transformer whose weights are
drawn from a seeded random generator. Its output is MEANINGLESS: it exists to exercise the
plumbing (package layout, install, tokenise -> translate_batch -> detokenise), never to judge
translation quality.

The package has the layout Argos Translate uses: a zip holding one top-level directory with
``metadata.json``, ``sentencepiece.model`` and a CTranslate2 model directory ``model/``
(``model.bin``, ``config.json``, ``shared_vocabulary.json``).

Needs the ``neural`` extra (ctranslate2, sentencepiece, numpy); callers skip when missing.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import sentencepiece as spm
from ctranslate2.specs import common_spec, transformer_spec

__all__ = ["TRAINING_LINES", "build_model_dir", "build_package", "train_sentencepiece"]

TRAINING_LINES: tuple[str, ...] = (
    "The government announced new measures on Tuesday.",
    "Prices rose again in March, the statistics office said.",
    "The river flooded the old town after three days of rain.",
    "Hello world, this is a small test of the translation engine.",
    "Farmers protested outside the parliament building.",
    "The minister resigned after the report was published.",
    "Scientists found water on a distant planet.",
    "The national team won the final match on Sunday evening.",
    "Schools will reopen next week in most regions.",
    "A new bridge connects the two halves of the city.",
    "Exports fell sharply during the winter months.",
    "The museum opened a large exhibition about ancient maps.",
    "Doctors warned about a rise in seasonal influenza.",
    "The central bank kept interest rates unchanged.",
    "Thousands of people gathered in the main square.",
    "Train services were cancelled because of the storm.",
    "The company plans to hire two hundred workers.",
    "Voters will choose a new mayor in October.",
    "The festival attracts visitors from many countries.",
    "Police closed the road after a serious accident.",
    "Researchers published their results in a journal.",
    "The president met foreign leaders at the summit.",
    "Fuel prices dropped for the third week in a row.",
    "The library will extend its opening hours.",
    "A strong earthquake shook the coastal region.",
    "Local shops reported better sales this year.",
    "The court rejected the appeal on Friday.",
    "Heavy snow blocked mountain passes overnight.",
    "The airline added new routes for the summer.",
    "Citizens can now renew documents online.",
)

# CTranslate2 vocabulary specials, in the order OpenNMT-trained Argos models use.
_SPECIALS = ("<blank>", "<unk>", "<s>", "</s>")


def train_sentencepiece(lines: tuple[str, ...] = TRAINING_LINES, vocab_size: int = 96) -> bytes:
    """Train a small unigram SentencePiece model and return its serialised bytes."""
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=out,
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # the corpus is tiny: accept fewer pieces than asked
        model_type="unigram",
        character_coverage=1.0,
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    return out.getvalue()


def _vocabulary(sp_model: bytes) -> list[str]:
    sp = spm.SentencePieceProcessor(model_proto=sp_model)
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    return list(_SPECIALS) + [p for p in pieces if p not in _SPECIALS]


def _linear(rng: np.random.Generator, out_dim: int, in_dim: int) -> dict[str, np.ndarray]:
    scale = 1.0 / np.sqrt(in_dim)
    return {"weight": rng.normal(0.0, scale, (out_dim, in_dim)).astype(np.float32),
            "bias": np.zeros(out_dim, dtype=np.float32)}


def _set_linear(spec: common_spec.LinearSpec, values: dict[str, np.ndarray]) -> None:
    spec.weight = values["weight"]
    spec.bias = values["bias"]


def _set_norm(spec: common_spec.LayerNormSpec, dim: int) -> None:
    spec.gamma = np.ones(dim, dtype=np.float32)
    spec.beta = np.zeros(dim, dtype=np.float32)


def _set_ffn(spec: Any, rng: np.random.Generator, dim: int, ffn_dim: int) -> None:
    _set_norm(spec.layer_norm, dim)
    _set_linear(spec.linear_0, _linear(rng, ffn_dim, dim))
    _set_linear(spec.linear_1, _linear(rng, dim, ffn_dim))


def build_model_dir(model_dir: Path, sp_model: bytes, *, seed: int = 7, dim: int = 16,
                    ffn_dim: int = 32, num_heads: int = 2, eos_bias: float = 6.0) -> None:
    """Write a one-layer CTranslate2 Transformer with random weights to `model_dir`.

    The output projection gives the end-of-sentence token a large bias and the special tokens
    a very negative one, so that (with ``min_decoding_length=1``) greedy decoding emits a
    short run of real pieces and stops, instead of running to the length cap. A very
    negative `eos_bias` makes a model that never stops (a decoding loop)."""
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(sp_model)
    size = len(vocab)
    spec = transformer_spec.TransformerSpec.from_config(num_layers=1, num_heads=num_heads)

    enc, dec = spec.encoder, spec.decoder
    enc.embeddings[0].weight = rng.normal(0.0, 1.0, (size, dim)).astype(np.float32)
    dec.embeddings.weight = rng.normal(0.0, 1.0, (size, dim)).astype(np.float32)
    _set_norm(enc.layer_norm, dim)
    _set_norm(dec.layer_norm, dim)
    for layer in enc.layer:
        attn = layer.self_attention
        _set_norm(attn.layer_norm, dim)
        _set_linear(attn.linear[0], _linear(rng, 3 * dim, dim))  # fused query/key/value
        _set_linear(attn.linear[1], _linear(rng, dim, dim))
        _set_ffn(layer.ffn, rng, dim, ffn_dim)
    for layer in dec.layer:
        attn = layer.self_attention
        _set_norm(attn.layer_norm, dim)
        _set_linear(attn.linear[0], _linear(rng, 3 * dim, dim))
        _set_linear(attn.linear[1], _linear(rng, dim, dim))
        cross = layer.attention
        _set_norm(cross.layer_norm, dim)
        _set_linear(cross.linear[0], _linear(rng, dim, dim))  # query
        _set_linear(cross.linear[1], _linear(rng, 2 * dim, dim))  # fused key/value
        _set_linear(cross.linear[2], _linear(rng, dim, dim))
        _set_ffn(layer.ffn, rng, dim, ffn_dim)
    projection = _linear(rng, size, dim)
    projection["weight"] *= 4.0  # sharper logits: less dependence on float rounding
    for special in ("<blank>", "<unk>", "<s>"):
        projection["bias"][vocab.index(special)] = -1e4
    projection["bias"][vocab.index("</s>")] = eos_bias
    _set_linear(dec.projection, projection)

    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.validate()
    spec.optimize(quantization="float32")
    model_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(model_dir))


def build_package(dest: Path, *, from_code: str = "en", to_code: str = "es",
                  version: str = "0.1", seed: int = 7, eos_bias: float = 6.0,
                  extra_members: dict[str, bytes] | None = None) -> Path:
    """Write a complete .argosmodel zip to `dest` (a file path) and return it.

    `extra_members` adds raw zip members (name -> bytes), for tests of hostile archives."""
    sp_model = train_sentencepiece()
    top = f"translate-{from_code}_{to_code}-{version.replace('.', '_')}"
    metadata = {
        "package_version": version,
        "argos_version": "1.9.0",
        "from_code": from_code,
        "from_name": from_code,
        "to_code": to_code,
        "to_name": to_code,
        "type": "translate",
        "note": "tiny random-weight test model built by tests/support/tinymodel.py",
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work, \
            zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        build_model_dir(Path(work) / "model", sp_model, seed=seed, eos_bias=eos_bias)
        zf.writestr(f"{top}/metadata.json", json.dumps(metadata, indent=2))
        zf.writestr(f"{top}/sentencepiece.model", sp_model)
        for path in sorted((Path(work) / "model").iterdir()):
            zf.write(path, f"{top}/model/{path.name}")
        for name, data in (extra_members or {}).items():
            zf.writestr(name, data)
    return dest

