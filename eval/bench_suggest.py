"""Benchmark: end-to-end suggestion throughput as a ratio to raw encoder throughput.

A 2,000-sentence batch is suggested against 10,000 coded exemplars (AnnoMI utterances with their
therapist/client codes when ../shared is there, else generated sentences). Both figures come
from the same run, in alternating repetitions, so machine noise hits them alike:

- raw: ``encoder.encode`` on the batch, as the model reads it: a project model (``--model``,
  from ``intercoder train``) reads each unit with its speaker and previous turn, so its raw
  figure counts the encoder work the context needs; the raw figure on the bare texts is shown
  beside it, for the cost of the context itself;
- end to end: ``Coder.suggest`` on the batch (encoding included, no cache) with evidence.

Run: ``.venv/bin/python -m eval.bench_suggest [--method knn] [--model DIR] [--repeats 3]``.
Target (issues 3 and 7): end-to-end / raw throughput >= 0.85.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from codebook.errors import IntercoderError
from codebook.loader import parse_codebook_yaml
from models.context import (
    UnitContext,
    encode_units,
    encoder_inputs,
    preceding_texts,
    units_of,
    units_of_frame,
)
from models.encoder import SentenceTransformerEncoder
from models.exemplars import Exemplars
from models.methods import DEFAULT_METHOD
from models.project_coder import ProjectCoder

BATCH = 2_000
EXEMPLARS = 10_000


def corpus_texts(count: int, offset: int) -> list[str]:
    """The texts of :func:`corpus_units` (the service benchmark sends bare sentences)."""
    return [unit.text for unit in corpus_units(count, offset)]


def corpus_units(count: int, offset: int) -> list[UnitContext]:
    """Real AnnoMI turns with speaker and previous turn when available, else generated ones."""
    try:
        from codebook.datasets import load_dataset

        _, therapist = load_dataset("annomi:therapist")
        _, client = load_dataset("annomi:client")
        frame = pd.concat([therapist, client]).drop_duplicates("text")
        units = units_of_frame(frame)
        chosen = [units[(offset + i) % len(units)] for i in range(count)]
        return [
            replace(unit, text=f"{unit.text} ({i})") if i >= len(units) else unit
            for i, unit in enumerate(chosen)
        ]
    except IntercoderError:  # ../shared is absent: generate sentences instead
        rng = np.random.default_rng(offset)
        words = ["model", "data", "attack", "train", "deploy", "secure"]
        words += ["cloud", "label", "test", "pipeline", "risk"]
        texts = [" ".join(rng.choice(words, size=12)) + f" {offset + i}." for i in range(count)]
        return units_of(texts, ["P"] * count, preceding_texts(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default=DEFAULT_METHOD)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default=None, help="a project model folder")
    parser.add_argument("--exemplars", type=int, default=EXEMPLARS)
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args()

    encoder = SentenceTransformerEncoder(args.model)
    context = encoder.context_turns
    book = parse_codebook_yaml(
        "name: bench\ncodes:\n" + "".join(f"  - {{id: c{i}, name: code {i}}}\n" for i in range(20))
    )
    exemplar_units = corpus_units(args.exemplars, offset=0)
    exemplar_texts = [unit.text for unit in exemplar_units]
    rng = np.random.default_rng(0)
    codes = tuple(
        frozenset(f"c{j}" for j in rng.choice(20, size=rng.integers(0, 3), replace=False))
        for _ in exemplar_texts
    )
    exemplars = Exemplars(
        model_id=encoder.model_id,
        vectors=encode_units(encoder, exemplar_units),
        codes=codes,
        texts=tuple(exemplar_texts),
        ids=np.arange(args.exemplars, dtype=np.int64),
        groups=tuple(str(i % 50) for i in range(args.exemplars)),
    )
    coder = ProjectCoder(encoder, args.method).fit(exemplars, book)
    units = corpus_units(args.batch, offset=args.exemplars)
    texts = [unit.text for unit in units]
    model_inputs = encoder_inputs(units, context)

    bare_seconds, raw_seconds, end_to_end_seconds = [], [], []
    encoder.encode(model_inputs[:64])  # warm-up
    for _ in range(args.repeats):
        if context:
            started = time.perf_counter()
            encoder.encode(texts)
            bare_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        encoder.encode(model_inputs)
        raw_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        suggestions = coder.suggest(units)
        end_to_end_seconds.append(time.perf_counter() - started)
        assert len(suggestions) == args.batch

    raw = args.batch / statistics.median(raw_seconds)
    bare = args.batch / statistics.median(bare_seconds) if bare_seconds else raw
    end_to_end = args.batch / statistics.median(end_to_end_seconds)
    print(
        "| method | model | context | exemplars | batch | raw encoder, bare text sent/s | "
        "raw encoder, model input sent/s | end-to-end sent/s | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.method} | {encoder.model_id} | {context} | {args.exemplars:,} | {args.batch:,} | "
        f"{bare:.1f} | {raw:.1f} | {end_to_end:.1f} | {end_to_end / raw:.3f} |"
    )


if __name__ == "__main__":
    main()
