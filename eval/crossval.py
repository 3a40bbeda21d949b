"""Cross-validation grouped by transcript, shared by every method of one evaluation.

Units of one conversation in both training and test inflate every figure, so folds are drawn
over groups (transcripts, or stricter groups such as AnnoMI's videos). Embeddings are computed
once for all folds and methods, and every method sees the same folds from the same seed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from codebook.errors import InputError
from codebook.model import Codebook
from models.context import encode_units, units_of_frame
from models.encoder import Embeddings, Encoder

Fold = tuple[NDArray[np.intp], NDArray[np.intp]]


@dataclass(frozen=True)
class EvalData:
    """The reference coding (one code set per unit) with its embeddings, ready for folds."""

    codebook: Codebook
    frame: pd.DataFrame
    vectors: Embeddings
    encoder: Encoder
    """What embedded ``vectors``; a coder needs it for the codebook's own texts (prototype)."""
    groups: tuple[str, ...]

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def texts(self) -> list[str]:
        return [str(text) for text in self.frame["text"]]

    @property
    def code_sets(self) -> list[frozenset[str]]:
        return [frozenset(codes) for codes in self.frame["codes"]]


def prepare(frame: pd.DataFrame, codebook: Codebook, encoder: Encoder) -> EvalData:
    """Embed every unit once (through the encoder's cache, when it has one), with its speaker
    and previous unit when the encoder is a project model trained to read them."""
    duplicated = frame.duplicated(["transcript_id", "unit_id"])
    if duplicated.any():
        raise InputError(
            "expected one reference coding per unit for cross-validation, found "
            f"{int(duplicated.sum())} units coded more than once; merge coders first "
            "(majority) or give one coder's rows"
        )
    reset = frame.reset_index(drop=True)
    groups = reset["group"] if "group" in reset.columns else reset["transcript_id"]
    return EvalData(
        codebook=codebook,
        frame=reset,
        vectors=encode_units(encoder, units_of_frame(reset)),
        encoder=encoder,
        groups=tuple(str(group) for group in groups),
    )


def make_folds(groups: tuple[str, ...], n_folds: int | None, seed: int) -> list[Fold]:
    """k grouped folds (groups shuffled by the seed), or leave-one-group-out when None."""
    distinct = sorted(set(groups))
    if len(distinct) < 2:
        raise InputError(
            f"cross-validation needs at least 2 transcripts (groups), found {len(distinct)}; "
            "code more transcripts or evaluate on more data"
        )
    placeholder = np.zeros(len(groups))
    if n_folds is None:
        splits = LeaveOneGroupOut().split(placeholder, groups=np.array(groups))
    else:
        if not 2 <= n_folds <= len(distinct):
            raise InputError(
                f"--folds must be between 2 and the number of transcripts ({len(distinct)}), "
                f"got {n_folds}"
            )
        rank = {name: i for i, name in enumerate(np.random.default_rng(seed).permutation(distinct))}
        keys = np.array([rank[group] for group in groups])
        splits = GroupKFold(n_splits=n_folds).split(placeholder, groups=keys)
    return [
        (np.asarray(train, dtype=np.intp), np.asarray(test, dtype=np.intp))
        for train, test in splits
    ]


def subsample_groups(
    train: NDArray[np.intp], groups: tuple[str, ...], share: float, seed: int
) -> NDArray[np.intp]:
    """The training rows of a random ``share`` of the training groups (at least one)."""
    names = sorted({groups[i] for i in train})
    count = max(1, round(share * len(names)))
    chosen = set(np.random.default_rng(seed).choice(names, size=count, replace=False))
    return np.array([i for i in train if groups[i] in chosen], dtype=np.intp)


def dataset_hash(frame: pd.DataFrame) -> str:
    """sha256 over the units' ids, texts and code sets, independent of row order."""
    rows = sorted(
        json.dumps([str(t), str(u), str(x), sorted(c)], ensure_ascii=False)
        for t, u, x, c in zip(
            frame["transcript_id"], frame["unit_id"], frame["text"], frame["codes"], strict=True
        )
    )
    return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()
