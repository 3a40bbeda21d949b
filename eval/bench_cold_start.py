"""Benchmark: does the cold start leave back-channels and small talk uncoded, and still code?

The cold start (no coded data, the shipped interview codebook) is run twice in one go, through
``ProjectCoder.fit(None, codebook)``: *before*, the plain prototype on the codebook's texts
(``background=False``), and *after*, :class:`models.cold_start.ColdStartSuggester` with the
background set (the default). Both are scored on:

- the shipped interview sample (``codebook/data/samples``, written for this project, gold
  codes written before any model saw it): the share of back-channel / filler / logistics
  sentences left uncoded, without and with the codebook's speaker filter (the interviewer
  skipped); the share of interviewer prompts left uncoded (without the filter); the top-3 hit
  rate on sentences that carry a code (any gold code among the 3 best-ranked); the share of
  those sentences that still get a code, and that get a right one;
- SwDA back-channels (tags b, bk, ba, bh, aa in ``../shared/data/swda``, every split), as
  out-of-sample data: the share left uncoded, per utterance, per distinct text, and per
  distinct text that is not (case and punctuation aside) a background sentence.

Run: ``python -m eval.bench_cold_start [--shared ../shared] [--no-swda] [--background-k 3]``
(``--background-k``: how many nearest background sentences a unit is compared with, after).
"""

from __future__ import annotations

import argparse
import csv
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TypeAlias

import numpy as np

from codebook.background import load_background
from codebook.datasets import load_swda
from codebook.errors import IntercoderError
from codebook.loader import load_codebook
from codebook.model import Codebook
from codebook.speakers import select_sentences
from models.cache import CachedEncoder, EmbeddingCache
from models.cold_start import DEFAULT_BACKGROUND_K
from models.context import units_of
from models.encoder import Encoder, SentenceTransformerEncoder
from models.exemplars import cold_start_exemplars
from models.methods import SuggestOptions
from models.project_coder import ProjectCoder
from models.suggesters import PrototypeSuggester
from models.suggestions import UnitSuggestion

Suggest: TypeAlias = Callable[[list[str]], list[UnitSuggestion]]

SWDA_BACKCHANNEL_TAGS = ("b", "bk", "ba", "bh", "aa")


@dataclass(frozen=True)
class GoldRow:
    speaker: str
    kind: str  # backchannel, prompt or coded
    codes: frozenset[str]
    text: str


def normalised(text: str) -> str:
    """Case, punctuation and spacing ignored, as in the leakage test."""
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def load_gold() -> list[GoldRow]:
    resource = resources.files("codebook").joinpath("data", "samples", "interview-sample-gold.csv")
    rows = csv.DictReader(resource.read_text(encoding="utf-8").splitlines())
    return [
        GoldRow(
            row["speaker"],
            row["kind"],
            frozenset(filter(None, row["codes"].split(";"))),
            row["text"],
        )
        for row in rows
    ]


def sample_figures(
    units: list[UnitSuggestion], gold: list[GoldRow], coded: list[bool]
) -> dict[str, float]:
    """The sample's shares for one run; ``coded`` is the speaker filter's choice per sentence."""
    got = np.array([bool(unit.suggested) for unit in units])
    filtered = got & np.array(coded)
    kind = np.array([row.kind for row in gold])
    content = kind == "coded"
    # By score: a unit lists its decided code first, which need not be its best-scoring one.
    top3 = [
        bool(row.codes & {c.code for c in sorted(unit.codes, key=lambda c: -c.score)[:3]})
        for unit, row in zip(units, gold, strict=True)
    ]
    right = [bool(row.codes & set(unit.suggested)) for unit, row in zip(units, gold, strict=True)]
    return {
        "back-channels uncoded": 1 - got[kind == "backchannel"].mean(),
        "back-channels uncoded, speaker filter": 1 - filtered[kind == "backchannel"].mean(),
        "interviewer prompts uncoded": 1 - got[kind == "prompt"].mean(),
        "top-3 hit rate, coded sentences": np.mean(np.array(top3)[content]),
        "coded sentences that get a code": got[content].mean(),
        "coded sentences that get a right code": np.mean(np.array(right)[content]),
    }


def swda_backchannels(shared: Path | None) -> Counter[tuple[str, str]]:
    """(text, tag) -> number of utterances, for SwDA's back-channel-like tags."""
    frame = load_swda(root=shared)
    tags = frame["codes"].map(lambda codes: next(iter(codes)))
    chosen = frame.loc[tags.isin(SWDA_BACKCHANNEL_TAGS), "text"]
    return Counter(zip(chosen.astype(str), tags[chosen.index], strict=True))


def swda_figures(suggest: Suggest, utterances: Counter[tuple[str, str]]) -> dict[str, float]:
    texts = sorted({text for text, _ in utterances})
    uncoded = {u.text: not u.suggested for u in suggest(texts)}
    background = {normalised(sentence.text) for sentence in load_background()}
    total = sum(utterances.values())
    unseen = [text for text in texts if normalised(text) not in background]
    figures = {
        "SwDA back-channel utterances uncoded": sum(
            n for (t, _), n in utterances.items() if uncoded[t]
        )
        / total,
        "SwDA distinct back-channel texts uncoded": float(np.mean([uncoded[t] for t in texts])),
        "... of them not in the background set": float(np.mean([uncoded[t] for t in unseen])),
    }
    for tag in SWDA_BACKCHANNEL_TAGS:
        counts = {(t, g): n for (t, g), n in utterances.items() if g == tag}
        share = sum(n for (t, _), n in counts.items() if uncoded[t]) / max(sum(counts.values()), 1)
        figures[f"SwDA '{tag}' utterances uncoded"] = share
    return figures


def run(
    book: Codebook,
    encoder: Encoder,
    background_k: int | None,
    gold: list[GoldRow],
    swda: Counter[tuple[str, str]] | None,
) -> dict[str, float]:
    """One cold start: before (``background_k`` None: plain prototype, no background) or after."""
    suggest = (
        _plain_prototype(book, encoder)
        if background_k is None
        else _cold_start(book, encoder, background_k)
    )
    units = suggest([row.text for row in gold])
    coded = select_sentences([row.speaker for row in gold], codebook=book)
    figures = sample_figures(units, gold, coded)
    if swda is not None:
        figures |= swda_figures(suggest, swda)
    return figures


def _plain_prototype(book: Codebook, encoder: Encoder) -> Suggest:
    """The cold start of before: the prototype on the codebook's texts alone."""
    suggester = PrototypeSuggester(top_n=3)
    suggester.fit(cold_start_exemplars(book, encoder, background=False), book)

    def suggest(texts: list[str]) -> list[UnitSuggestion]:
        return suggester.suggest(encoder.encode(texts), texts, encoder.model_id)

    return suggest


def _cold_start(book: Codebook, encoder: Encoder, background_k: int) -> Suggest:
    """The cold start every entry point runs now."""
    coder = ProjectCoder(encoder, background_k=background_k).fit(None, book)

    def suggest(texts: list[str]) -> list[UnitSuggestion]:
        return coder.suggest(units_of(texts), SuggestOptions(top=3))

    return suggest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=None, help="the shared folder (../shared)")
    parser.add_argument("--no-swda", action="store_true", help="skip the SwDA back-channels")
    parser.add_argument("--background-k", type=int, default=DEFAULT_BACKGROUND_K)
    args = parser.parse_args()
    book, gold = load_codebook("interview"), load_gold()
    # Both runs share the codebook's and the sample's embeddings: each text is embedded once.
    cache = EmbeddingCache(Path(tempfile.mkdtemp()) / "embeddings.sqlite")
    encoder = CachedEncoder(SentenceTransformerEncoder(), cache)
    swda = None
    if not args.no_swda:
        try:
            swda = swda_backchannels(args.shared)
        except IntercoderError as error:
            print(f"SwDA skipped: {error}")
    before = run(book, encoder, None, gold, swda)
    after = run(book, encoder, args.background_k, gold, swda)
    kinds = Counter(row.kind for row in gold)
    print(f"interview sample: {len(gold)} sentences, {dict(kinds)}")
    if swda is not None:
        distinct = len({text for text, _ in swda})
        print(f"SwDA: {sum(swda.values())} back-channel utterances, {distinct} distinct texts")
    print("\n| figure | before (plain prototype) | after (background) |\n|---|---|---|")
    for name, value in before.items():
        print(f"| {name} | {value:.1%} | {after[name]:.1%} |")


if __name__ == "__main__":
    main()
