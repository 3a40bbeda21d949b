"""Lever of issue 15: a context model over a window of previous turns, on frozen embeddings.

Each unit is read with the frozen embeddings of up to ``window`` turns before it (of either
speaker), and a head learns from them:

- ``concat``: the unit's vector, the previous two turns' vectors with a same-speaker flag, and
  a decayed mean of the turns before those (same speaker and other speaker apart), into one
  logistic regression (C=4, the linear head's);
- ``attention``: one small transformer layer over the window's turn vectors with speaker roles
  (current / same speaker / other speaker) and positions, trained with early stopping on a
  tenth of the training transcripts; the current turn's output feeds a softmax.

Every setting is fixed here in advance; the folds are the harness's (5, grouped, seed 0), so the
figures sit beside the harness's. Single-label schemes only (AnnoMI, SwDA), scored on pooled
predictions as the harness scores them. Run:
``python -m eval.context_window --data annomi:therapist --windows 0,1,2,6,10 --model attention
--data-dir $INTERCODER_DATA_DIR``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score, f1_score

from codebook.datasets import load_dataset
from eval.crossval import make_folds
from models.cache import CachedEncoder, EmbeddingCache
from models.encoder import Encoder, load_encoder

DECAY = 0.8  # weight of the k-th previous turn in the pooled mean: DECAY ** k
SWDA_CONVERSATIONS = 300  # the harness's SwDA set-up: a seeded sample of 300 conversations
MAX_TRAIN_UNITS = 20_000  # and a cap of 20,000 training units a fold
DATASETS_READ = ("annomi:therapist", "annomi:client", "swda")  # single-label, with dialogue


@dataclass(frozen=True)
class Dialogue:
    """Every turn of the dataset's conversations (in order), and which of them are coded."""

    turns: pd.DataFrame  # transcript_id, turn_index, speaker, text
    coded_rows: NDArray[np.intp]  # row in ``turns`` of each coded unit
    labels: NDArray[np.str_]
    groups: tuple[str, ...]


def load_dialogue(name: str) -> Dialogue:
    """A dataset's coded units with all the turns around them (AnnoMI: both interlocutors)."""
    _, coded = load_dataset(name)
    if name == "swda":
        names = sorted(coded["transcript_id"].unique())
        kept = set(np.random.default_rng(0).choice(names, SWDA_CONVERSATIONS, replace=False))
        coded = coded[coded["transcript_id"].isin(kept)]
        turns = coded
    elif name in ("annomi:therapist", "annomi:client"):
        turns = pd.concat([load_dataset("annomi:therapist")[1], load_dataset("annomi:client")[1]])
    else:
        raise ValueError(f"expected one of {', '.join(DATASETS_READ)}, got {name!r}")
    table = pd.DataFrame(
        {
            "transcript_id": turns["transcript_id"].astype(str),
            "turn_index": turns["turn_index"].astype(int),
            "speaker": turns["speaker"].astype(str),
            "text": turns["text"].astype(str),
        }
    ).sort_values(["transcript_id", "turn_index"], kind="stable")
    table = table.reset_index(drop=True)
    position = {
        key: i
        for i, key in enumerate(zip(table["transcript_id"], table["turn_index"], strict=True))
    }
    rows = [
        position[(str(t), int(i))]
        for t, i in zip(coded["transcript_id"], coded["turn_index"], strict=True)
    ]
    return Dialogue(
        turns=table,
        coded_rows=np.array(rows, dtype=np.intp),
        labels=np.array([next(iter(codes)) for codes in coded["codes"]]),
        groups=tuple(str(group) for group in coded["group"]),
    )


def previous_rows(turns: pd.DataFrame, window: int) -> NDArray[np.intp]:
    """(turns, window): the row of the k-th turn before each turn in its transcript, -1 if none."""
    index = np.arange(len(turns))
    transcripts = turns["transcript_id"].to_numpy()
    out = np.full((len(turns), window), -1, dtype=np.intp)
    for k in range(1, window + 1):
        before = np.maximum(index - k, 0)
        same = (index - k >= 0) & (transcripts[before] == transcripts)
        out[:, k - 1] = np.where(same, index - k, -1)
    return out


def concat_features(
    vectors: NDArray[np.float32],
    speakers: NDArray[np.str_],
    rows: NDArray[np.intp],
    before: NDArray[np.intp],
) -> NDArray[np.float32]:
    """The unit, its previous two turns with flags, and decayed means of the rest by speaker.

    ``before`` holds, for each of ``rows``, the rows of the turns before it (-1: none)."""
    window = before.shape[1]
    parts = [vectors[rows]]
    for k in range(min(window, 2)):
        parts += _turn_part(vectors, speakers, rows, before[:, k])
    for same_speaker in (True, False) if window > 2 else ():
        total = np.zeros_like(vectors[rows])
        weights = np.zeros(len(rows), dtype=np.float32)
        for k in range(2, window):
            prev = before[:, k]
            same = (prev >= 0) & (speakers[np.maximum(prev, 0)] == speakers[rows])
            weight = (DECAY**k) * ((prev >= 0) & (same == same_speaker))
            total += weight[:, None] * vectors[np.maximum(prev, 0)]
            weights += weight
        parts.append((total / np.maximum(weights, 1e-9)[:, None]).astype(np.float32))
    return np.hstack(parts).astype(np.float32)


def _turn_part(
    vectors: NDArray[np.float32],
    speakers: NDArray[np.str_],
    rows: NDArray[np.intp],
    prev: NDArray[np.intp],
) -> list[NDArray[np.float32]]:
    present = prev >= 0
    vector = np.where(present[:, None], vectors[np.maximum(prev, 0)], 0.0)
    same = present & (speakers[np.maximum(prev, 0)] == speakers[rows])
    return [vector, same[:, None].astype(np.float32), present[:, None].astype(np.float32)]


def predict_fold(
    model: str,
    dialogue: Dialogue,
    vectors: NDArray[np.float32],
    window: int,
    train: NDArray[np.intp],
    test: NDArray[np.intp],
) -> NDArray[np.str_]:
    """One fold's predicted labels for ``test`` (positions in the coded units)."""
    speakers = dialogue.turns["speaker"].to_numpy()
    rows = dialogue.coded_rows
    before = previous_rows(dialogue.turns, window)[rows]
    if model == "concat":
        features = concat_features(vectors, speakers, rows, before)
        head = LogisticRegression(C=4.0, max_iter=500).fit(features[train], dialogue.labels[train])
        return np.asarray(head.predict(features[test]))
    from eval.context_attention import attention_predict  # torch: only for this model

    return attention_predict(vectors, speakers, rows, before, dialogue, train, test)


def cached_encoder(data_dir: Path) -> Encoder:
    """The bundled MiniLM on the default (onnx) backend behind the embedding cache of an
    intercoder data folder (``INTERCODER_DATA_DIR``'s layout), so the harness's vectors are
    reused."""
    encoder = load_encoder(backend="onnx", cache_dir=data_dir / "onnx")
    return CachedEncoder(encoder, EmbeddingCache(data_dir / "embeddings.sqlite"))


def evaluate_windows(name: str, model: str, windows: Sequence[int], encoder: Encoder) -> list[str]:
    dialogue = load_dialogue(name)
    vectors = encoder.encode(list(dialogue.turns["text"])).astype(np.float32)
    folds = make_folds(dialogue.groups, 5, 0)
    lines = []
    for window in windows:
        started = time.perf_counter()
        predicted = np.empty(len(dialogue.labels), dtype=object)
        for train, test in folds:
            if len(train) > MAX_TRAIN_UNITS:
                train = np.random.default_rng(0).choice(train, MAX_TRAIN_UNITS, replace=False)
            predicted[test] = predict_fold(model, dialogue, vectors, window, train, test)
        truth, guess = dialogue.labels.astype(str), predicted.astype(str)
        kappa = cohen_kappa_score(truth, guess)
        macro = f1_score(truth, guess, average="macro")
        seconds = time.perf_counter() - started
        lines.append(f"| {name} | {model} | {window} | {kappa:.3f} | {macro:.3f} | {seconds:.0f} |")
        print(lines[-1], flush=True)
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", required=True, choices=DATASETS_READ)
    parser.add_argument("--model", choices=("concat", "attention"), default="attention")
    parser.add_argument("--windows", default="0,1,2,6,10")
    parser.add_argument("--data-dir", type=Path, required=True, help="intercoder data folder")
    args = parser.parse_args(argv)
    windows = [int(part) for part in args.windows.split(",")]
    print("| dataset | model | window | kappa | macro-F1 | seconds (5 folds) |")
    print("|---|---|---|---|---|---|")
    evaluate_windows(args.data, args.model, windows, cached_encoder(args.data_dir))


if __name__ == "__main__":
    main()
