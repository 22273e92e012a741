"""Near-duplicate fingerprints: speed, and how well `near_duplicate_distance` separates copies
of one article from other texts, on constructed pairs.

Copies (should match): real news documents (NTREX-128 in ../shared/data: English and its eight
professional translations, one sentence a line, the headline first) and the texts of
tests/data/dedup, edited the way syndicated wire copy is: new headline, a byline, a dateline, a
sentence replaced, deleted or added, boilerplate lines, typography, all at once.
Not copies (must not match): different outlets' own coverage of one story (NTREX has several,
e.g. Reuters, RT, the NYT and Euronews on one event, listed below; and tests/data/dedup), other
stories in the same language, and the same text in another language.

Prints distance distributions, recall and precision at each threshold and the share of
non-copies that the 4-band index returns as candidates; for comparison, the same for a classic
sign-of-sum SimHash (Charikar) over the same shingles.
Usage: python benchmarks/dedup.py [--seed N]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
NTREX = SHARED / "mt-ntrex128"
OWN = ROOT / "tests" / "data" / "dedup"

from babelwire.ingest import dedup  # noqa: E402

LANG_FILES = {"en": "newstest2019-src.eng.txt", "ru": "newstest2019-ref.rus.txt",
              "uk": "newstest2019-ref.ukr.txt", "de": "newstest2019-ref.deu.txt",
              "fr": "newstest2019-ref.fra.txt", "es": "newstest2019-ref.spa.txt",
              "pt": "newstest2019-ref.por.txt", "ca": "newstest2019-ref.cat.txt"}
# NTREX documents by different outlets about one event (read from their headlines and text).
SAME_STORY = [
    ["rt.com.91337", "reuters.218932"],  # Macedonia name referendum
    ["nytimes.184837", "euronews-en.153835", "reuters.218863", "nytimes.184860",
     "telegraph.405422", "euronews-en.153797"],  # Sulawesi earthquake and tsunami
    ["abcnews.306815", "newsweek.51338"],  # remnants of Hurricane Rosa
    ["cbsnews.248387", "reuters.218909"],  # arrest in the Wayde Sims shooting
    ["bbc.381746", "scotsman.133791"],  # Livingston 1-0 Rangers
    ["cnn.304447", "newsweek.51310"],  # Trump rally in West Virginia
    ["cnbc.com.6769", "reuters.218861"],  # North Korea: no disarmament without trust
    ["newsweek.51300", "abcnews.306755"],  # Warren's "hard look" at 2020
    ["cnn.304478", "newsweek.51339"],  # Track Palin
    ["reuters.218923", "independent.226301"],  # Ryder Cup, Saturday
]
OWN_SAME_STORY = [("en_storm_wire", "en_storm_outlet"), ("en_tram_wire", "en_tram_outlet"),
                  ("ru_snow_wire", "ru_snow_outlet"), ("ru_fire_wire", "ru_fire_outlet"),
                  ("zh_rail_wire", "zh_rail_outlet")]
BYLINES = {"en": "By Jane Doe and Ivan Petrov, Staff Reporters",
           "ru": "Ирина Петрова, Иван Сидоров", "uk": "Ірина Петренко, власна кореспондентка",
           "zh": "本报记者 王芳"}
ADVERT = {"en": "Advertisement", "ru": "Реклама", "uk": "Реклама", "zh": "广告"}

Doc = list[str]  # line 0: headline; then one sentence (NTREX) or paragraph a line


def load_ntrex() -> dict[str, dict[str, Doc]]:
    ids = (NTREX / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").split()
    out: dict[str, dict[str, Doc]] = {}
    for lang, name in LANG_FILES.items():
        lines = (NTREX / name).read_text(encoding="utf-8").splitlines()
        docs: dict[str, Doc] = {}
        for doc_id, line in zip(ids, lines, strict=True):
            docs.setdefault(doc_id, []).append(line.strip())
        out[lang] = docs
    return out


def load_own() -> dict[str, Doc]:
    docs = {}
    for path in sorted(OWN.glob("*.txt")):
        lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        docs[path.stem] = lines
    return docs


def join(doc: Doc) -> str:
    return "\n".join(doc)


def sentences(doc: Doc) -> list[tuple[int, str]]:
    """(line, sentence) of the body: NTREX has one sentence a line; our texts paragraphs."""
    out = []
    for i, line in enumerate(doc[1:], 1):
        parts = [p for p in line.replace("。", "。\n").replace(". ", ".\n").split("\n") if p]
        out += [(i, p) for p in parts]
    return out


def edits(doc: Doc, other: Doc, lang: str, rng: random.Random) -> dict[str, str]:
    """Copies of `doc` as another site would publish them; `other` lends foreign sentences."""
    body = sentences(doc)
    foreign = rng.choice(sentences(other))[1]
    line, sentence = rng.choice(body)

    def with_line(i: int, new: str | None) -> Doc:
        copy = list(doc)
        if new is None:
            del copy[i]
        else:
            copy[i] = new
        return copy

    replaced = with_line(line, doc[line].replace(sentence, foreign, 1))
    byline = BYLINES.get(lang, BYLINES["en"])
    typo = join(doc).replace("'", "\u2019").replace(" , ", ", ").replace(" ", "\u00a0", 5)
    typo = typo.replace('"', "\u201c", 1).replace("\n", "\n\n")
    combined = [other[0], byline, *replaced[1:]]
    return {
        "typography": typo,
        "headline": join([other[0], *doc[1:]]),
        "byline": join([doc[0], byline, *doc[1:]]),
        "dateline": join([doc[0], "LONDON (Wire) — " + doc[1], *doc[2:]]),
        "boilerplate": join([*doc[:2], ADVERT.get(lang, ADVERT["en"]), *doc[2:],
                             "Read more: " + other[0]]),
        "sentence replaced": join(replaced),
        "sentence deleted": join(with_line(line, doc[line].replace(sentence, "", 1).strip()
                                           or None)),
        "sentence added": join([*doc[:line], foreign, *doc[line:]]),
        "headline+byline+sentence": join(combined),
    }


def charikar(text: str) -> int:
    """Classic SimHash (sign of the sum of +-1 per bit over the shingle hashes)."""
    import numpy as np  # only this comparison needs it

    hashes = np.array(sorted(dedup._shingle_hashes(text)), dtype=np.uint64)
    if not len(hashes):
        return 0
    ones = ((hashes[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).sum(axis=0)
    return sum(1 << b for b in range(64) if 2 * int(ones[b]) > len(hashes))


def memo(fp: Callable[[str], int]) -> Callable[[str], int]:
    cache: dict[str, int] = {}
    return lambda text: cache[text] if text in cache else cache.setdefault(text, fp(text))


Pairs = dict[str, list[tuple[str, str]]]


def build_pairs(seed: int) -> tuple[Pairs, Pairs]:
    rng = random.Random(seed)
    copies: Pairs = {}
    others: Pairs = {"same story, other outlet": [], "other story": [],
                     "same text, other language": []}
    ntrex = load_ntrex() if NTREX.is_dir() else {}
    for lang, docs in ntrex.items():
        ids = [k for k, d in docs.items() if sum(len(x.split()) for x in d[1:]) >= 150]
        for k in ids:
            other = docs[rng.choice([x for x in ids if x != k])]
            for kind, text in edits(docs[k], other, lang, rng).items():
                copies.setdefault(kind, []).append((join(docs[k]), text))
        for group in SAME_STORY:
            for a, b in itertools.combinations(group, 2):
                others["same story, other outlet"].append((join(docs[a]), join(docs[b])))
        for k in ids:
            b = rng.choice([x for x in ids if x != k])
            others["other story"].append((join(docs[k]), join(docs[b])))
        if lang != "en":
            for k in ids:
                others["same text, other language"].append(
                    (join(ntrex["en"][k]), join(docs[k])))
    own = load_own()
    for name, doc in own.items():
        lang = name.split("_")[0]
        peers = [d for n, d in own.items() if n.startswith(lang) and n != name]
        for kind, text in edits(doc, rng.choice(peers), lang, rng).items():
            copies.setdefault(kind, []).append((join(doc), text))
    for a, b in OWN_SAME_STORY:
        others["same story, other outlet"].append((join(own[a]), join(own[b])))
    others["same text, other language"].append(
        (join(own["en_storm_wire"]), join(own["ru_storm_wire_translated"])))
    return copies, others


def distances(pairs: Pairs, fp: Callable[[str], int]) -> dict[str, list[int]]:
    return {kind: [dedup.hamming(fp(a), fp(b)) for a, b in ps] for kind, ps in pairs.items()}


def share_band(pairs: Pairs, fp: Callable[[str], int]) -> float:
    flat = [p for ps in pairs.values() for p in ps]
    hits = sum(bool(set(dedup.simhash_bands(fp(a))) & set(dedup.simhash_bands(fp(b))))
               for a, b in flat)
    return hits / len(flat)


def report(name: str, copies: Pairs, others: Pairs, fp: Callable[[str], int]) -> None:
    dc, do = distances(copies, fp), distances(others, fp)
    print(f"\n== {name}")
    print(f"{'pairs':34} {'n':>4} {'min':>4} {'p5':>4} {'med':>4} {'p95':>4} {'max':>4}"
          f" {'mean':>5}  {'<=1':>5} {'<=2':>5} {'<=3':>5} {'<=4':>5} {'<=6':>5}")
    for label, group in (("copies", dc), ("not copies", do)):
        print(f"-- {label}")
        for kind, ds in group.items():
            q = statistics.quantiles(ds, n=20, method="inclusive") if len(ds) > 1 else ds * 19
            shares = " ".join(f"{sum(d <= k for d in ds) / len(ds):5.2f}" for k in (1, 2, 3, 4, 6))
            print(f"{kind:34} {len(ds):4} {min(ds):4} {q[0]:4.0f} {statistics.median(ds):4.0f}"
                  f" {q[-1]:4.0f} {max(ds):4} {statistics.mean(ds):5.1f}  {shares}")
    pos = [d for ds in dc.values() for d in ds]
    neg = [d for ds in do.values() for d in ds]
    print("threshold: recall (all copies), recall (one edit at a time), precision, "
          "false matches")
    single = [d for kind, ds in dc.items() if kind != "headline+byline+sentence" for d in ds]
    for k in range(0, 9):
        tp, fp_ = sum(d <= k for d in pos), sum(d <= k for d in neg)
        precision = tp / (tp + fp_) if tp + fp_ else 1.0
        print(f"  <= {k}: {tp / len(pos):.3f}  {sum(d <= k for d in single) / len(single):.3f}"
              f"  {precision:.4f}  {fp_}/{len(neg)}")
    print("copies within 3 bits, by length of the original (words):")
    for kind in ("sentence replaced", "sentence deleted", "headline+byline+sentence"):
        row = []
        for lo, hi in ((0, 300), (300, 600), (600, 10**6)):
            ds = [d for (a, _), d in zip(copies[kind], dc[kind], strict=True)
                  if lo <= len(a.split()) < hi]
            row.append(f"{lo}-{hi if hi < 10**6 else ''}: "
                       + (f"{sum(d <= 3 for d in ds) / len(ds):.2f} (n={len(ds)}, mean "
                          f"{statistics.mean(ds):.1f})" if ds else "-"))
        print(f"  {kind:26} " + "   ".join(row))
    print(f"non-copies sharing a band (index candidates): {share_band(others, fp):.4f}; "
          f"closest non-copy: {min(neg)} bits")
    flat = [(fp(a), fp(b)) for ps in copies.values() for a, b in ps]
    for k in (3, 6, 7):
        near = [(a, b) for a, b in flat if dedup.hamming(a, b) <= k]
        banded = sum(bool(set(dedup.simhash_bands(a)) & set(dedup.simhash_bands(b)))
                     for a, b in near)
        probed = sum(bool(set(dedup.simhash_probes(a, k)) & set(dedup.simhash_bands(b)))
                     for a, b in near)
        print(f"  copies within {k} bits found by the index: {banded} with the 4 bands, "
              f"{probed} with simhash_probes(h, {k}), of {len(near)}")

def speed() -> None:
    texts = ([join(d) for d in load_ntrex()["en"].values()] if NTREX.is_dir()
             else [join(d) for d in load_own().values()])
    words = sum(len(t.split()) for t in texts)
    for name, fn in (("simhash", dedup.simhash), ("content_hash", dedup.content_hash)):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        dt = time.perf_counter() - t0
        print(f"{name}: {len(texts) / dt:,.0f} texts/s, {words / dt:,.0f} words/s "
              f"({len(texts)} texts, {words / len(texts):.0f} words on average)")
    urls = [f"https://WWW.Example.com:443/news/{i}/./story.html?utm_source=x&b={i}&a=1#top"
            for i in range(2000)]
    t0 = time.perf_counter()
    for u in urls:
        dedup.canonicalize_url(u)
    print(f"canonicalize_url: {len(urls) / (time.perf_counter() - t0):,.0f} URLs/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not NTREX.is_dir():
        print(f"{NTREX} is absent: measuring on tests/data/dedup only")
    copies, others = build_pairs(args.seed)
    report("babelwire simhash (one-bit MinHash sketch of word 3-shingles)", copies, others,
           memo(dedup.simhash))
    try:
        report("for comparison: classic SimHash (sign of sums) over the same shingles", copies,
               others, memo(charikar))
    except ImportError:
        print("\n(numpy is not installed: no comparison with classic SimHash)")
    print()
    speed()
    print("stable across runs:", hashlib.sha256(
        str([dedup.simhash(a) for ps in copies.values() for a, _ in ps[:3]]).encode())
        .hexdigest()[:12])


if __name__ == "__main__":
    main()
