"""Benchmark: end-to-end suggestion throughput as a ratio to raw encoder throughput.

A 2,000-sentence batch is suggested against 10,000 coded exemplars (AnnoMI utterances with their
therapist/client codes when ../shared is there, else generated sentences). Both figures come
from the same run, in alternating repetitions, so machine noise hits them alike:

- raw: ``encoder.encode`` on the batch;
- end to end: ``Coder.suggest`` on the batch (encoding included, no cache) with evidence.

Run: ``.venv/bin/python -m eval.bench_suggest [--method knn] [--repeats 3]``.
Target (issue 3): end-to-end / raw throughput >= 0.85.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from codebook.errors import IntercoderError
from codebook.loader import parse_codebook_yaml
from models.coder import Coder
from models.encoder import SentenceTransformerEncoder
from models.exemplars import Exemplars
from models.suggesters import make_suggester

BATCH = 2_000
EXEMPLARS = 10_000


def corpus_texts(count: int, offset: int) -> list[str]:
    """Real utterances from AnnoMI when available, else varied generated sentences."""
    try:
        from codebook.datasets import load_dataset

        _, frame = load_dataset("annomi:therapist")
        _, client = load_dataset("annomi:client")
        texts = [*frame["text"], *client["text"]]
        unique = list(dict.fromkeys(str(text) for text in texts))
        chosen = [unique[(offset + i) % len(unique)] for i in range(count)]
        return [f"{text} ({i})" if i >= len(unique) else text for i, text in enumerate(chosen)]
    except IntercoderError:  # ../shared is absent: generate sentences instead
        rng = np.random.default_rng(offset)
        words = ["model", "data", "attack", "train", "deploy", "secure"]
        words += ["cloud", "label", "test", "pipeline", "risk"]
        return [" ".join(rng.choice(words, size=12)) + f" {offset + i}." for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="knn")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    encoder = SentenceTransformerEncoder()
    book = parse_codebook_yaml(
        "name: bench\ncodes:\n" + "".join(f"  - {{id: c{i}, name: code {i}}}\n" for i in range(20))
    )
    exemplar_texts = corpus_texts(EXEMPLARS, offset=0)
    rng = np.random.default_rng(0)
    codes = tuple(
        frozenset(f"c{j}" for j in rng.choice(20, size=rng.integers(0, 3), replace=False))
        for _ in exemplar_texts
    )
    exemplars = Exemplars(
        model_id=encoder.model_id,
        vectors=encoder.encode(exemplar_texts),
        codes=codes,
        texts=tuple(exemplar_texts),
        ids=np.arange(EXEMPLARS, dtype=np.int64),
        groups=tuple(str(i % 50) for i in range(EXEMPLARS)),
    )
    coder = Coder(encoder, make_suggester(args.method))
    coder.suggester.fit(exemplars, book)
    coder.codebook_ = book
    batch = corpus_texts(BATCH, offset=EXEMPLARS)

    raw_seconds, end_to_end_seconds = [], []
    encoder.encode(batch[:64])  # warm-up
    for _ in range(args.repeats):
        started = time.perf_counter()
        encoder.encode(batch)
        raw_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        suggestions = coder.suggest(batch)
        end_to_end_seconds.append(time.perf_counter() - started)
        assert len(suggestions) == BATCH

    raw = BATCH / statistics.median(raw_seconds)
    end_to_end = BATCH / statistics.median(end_to_end_seconds)
    print("| method | exemplars | batch | raw encoder sent/s | end-to-end sent/s | ratio |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {args.method} | {EXEMPLARS:,} | {BATCH:,} | {raw:.1f} | {end_to_end:.1f} | "
        f"{end_to_end / raw:.3f} |"
    )


if __name__ == "__main__":
    main()
