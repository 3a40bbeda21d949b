"""Coded exemplars in embedding space: what every suggester is fitted on.

Suggesters see vectors, not texts, so that cross-validation embeds each text once for all folds
and methods. :func:`exemplars_from_frame` embeds a coded-units table; :func:`codebook_exemplars`
turns a codebook's definitions and examples into exemplars, and :func:`cold_start_exemplars` adds
the background set (sentences that need no code) to them for the cold start, when no sentence
has been coded yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from codebook.background import load_background
from codebook.errors import CodedDataError
from codebook.model import Codebook
from models.context import encode_units, units_of_frame
from models.encoder import Embeddings, Encoder


@dataclass(frozen=True)
class Exemplars:
    """Parallel arrays: one row per coded exemplar."""

    model_id: str
    vectors: Embeddings
    codes: tuple[frozenset[str], ...]
    texts: tuple[str, ...]
    ids: NDArray[np.int64]
    groups: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        count = len(self.codes)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != count:
            raise ValueError(f"expected {count} vectors in a 2-d array, got {self.vectors.shape}")
        if len(self.texts) != count or len(self.ids) != count:
            raise ValueError("vectors, codes, texts and ids must have one entry per exemplar")
        if self.groups and len(self.groups) != count:
            raise ValueError("groups must be empty or have one entry per exemplar")

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def group_labels(self) -> tuple[str, ...]:
        """The grouping for inner cross-validation: given groups, else each exemplar alone."""
        return self.groups or tuple(str(i) for i in range(len(self)))

    def label_matrix(self, code_ids: tuple[str, ...]) -> NDArray[np.bool_]:
        """(exemplars, codes) presence matrix in the order of ``code_ids``."""
        column = {code: j for j, code in enumerate(code_ids)}
        matrix = np.zeros((len(self), len(code_ids)), dtype=bool)
        for row, codes in enumerate(self.codes):
            for code in codes:
                if code in column:
                    matrix[row, column[code]] = True
        return matrix

    def subset(self, rows: NDArray[np.intp] | list[int]) -> Exemplars:
        index = np.asarray(rows, dtype=np.intp)
        return Exemplars(
            model_id=self.model_id,
            vectors=self.vectors[index],
            codes=tuple(self.codes[i] for i in index),
            texts=tuple(self.texts[i] for i in index),
            ids=self.ids[index],
            groups=tuple(self.groups[i] for i in index) if self.groups else (),
        )


def exemplars_from_frame(frame: pd.DataFrame, encoder: Encoder) -> Exemplars:
    """Embed a coded-units table (one row per unit; several coders must be merged first).

    Exemplar ids are the rows' numbers from 1, as the service numbers the exemplars of a new
    project uploaded in the same order: evidence names the same exemplar either way.
    """
    duplicated = frame.duplicated(["transcript_id", "unit_id"])
    if duplicated.any():
        first = frame.loc[duplicated].iloc[0]
        raise CodedDataError(
            f"expected one coding per unit to learn from, found unit {first['unit_id']!r} of "
            f"transcript {first['transcript_id']!r} coded more than once (several coders?); "
            "keep one coder's rows or merge them by majority first"
        )
    texts = [str(text) for text in frame["text"]]
    groups = frame["group"] if "group" in frame.columns else frame["transcript_id"]
    return Exemplars(
        model_id=encoder.model_id,
        vectors=encode_units(encoder, units_of_frame(frame)),
        codes=tuple(frozenset(codes) for codes in frame["codes"]),
        texts=tuple(texts),
        ids=np.arange(1, len(texts) + 1, dtype=np.int64),
        groups=tuple(str(group) for group in groups),
    )


def codebook_exemplars(codebook: Codebook, encoder: Encoder) -> Exemplars:
    """Each codable code's description and examples as exemplars carrying that code.

    The description reads "name: definition" so a code with no examples still has one
    exemplar. No groups: inner cross-validation holds out single texts, so each code keeps
    most of its examples in every inner fold.
    """
    texts: list[str] = []
    codes: list[frozenset[str]] = []
    for code_id in codebook.codable_ids:
        code = codebook.get(code_id)
        description = f"{code.name}: {code.definition}" if code.definition else code.name
        for text in [description, *(example.text for example in code.examples)]:
            texts.append(text)
            codes.append(frozenset({code_id}))
    return Exemplars(
        model_id=encoder.model_id,
        vectors=encoder.encode(texts),
        codes=tuple(codes),
        texts=tuple(texts),
        ids=np.arange(len(texts), dtype=np.int64),
    )


def cold_start_exemplars(
    codebook: Codebook, encoder: Encoder, *, background: bool = True
) -> Exemplars:
    """The cold start's exemplars: the codebook's texts, then the background set uncoded.

    The one place cold-start exemplar ids are made: -1 - position, so evidence shows they are
    the codebook's (and the background's), never a coder's, and a codebook text has the id
    :func:`with_codebook_fallback` gives it. Each codebook text is its own inner-CV group, as
    in :func:`codebook_exemplars`; background sentences are grouped as in their file, so a
    held-out "Yeah." is not scored against its near twin "Yeah, yeah.".
    """
    from_codebook = codebook_exemplars(codebook, encoder)
    sentences = load_background() if background else ()
    texts = from_codebook.texts + tuple(sentence.text for sentence in sentences)
    vectors = from_codebook.vectors
    if sentences:
        vectors = np.vstack([vectors, encoder.encode([sentence.text for sentence in sentences])])
    return Exemplars(
        model_id=encoder.model_id,
        vectors=vectors,
        codes=from_codebook.codes + tuple(frozenset[str]() for _ in sentences),
        texts=texts,
        ids=-1 - np.arange(len(texts), dtype=np.int64),
        groups=tuple(f"codebook:{row}" for row in range(len(from_codebook)))
        + tuple(sentence.group for sentence in sentences),
    )


def with_codebook_fallback(exemplars: Exemplars, from_codebook: Exemplars) -> Exemplars:
    """Add the codebook's own texts (``codebook_exemplars``) for every code that no human
    exemplar carries yet, for the prototype method.

    They get negative exemplar ids (-1 - their position among the codebook's texts) so evidence
    shows they are the codebook's, not a coder's.
    """
    seen: set[str] = set().union(*exemplars.codes) if len(exemplars) else set()
    keep = [row for row, codes in enumerate(from_codebook.codes) if not codes & seen]
    if not keep:
        return exemplars
    extra = from_codebook.subset(keep)
    return Exemplars(
        model_id=exemplars.model_id,
        vectors=np.vstack([exemplars.vectors, extra.vectors]),
        codes=exemplars.codes + extra.codes,
        texts=exemplars.texts + extra.texts,
        ids=np.concatenate([exemplars.ids, -1 - np.asarray(keep, dtype=np.int64)]),
        groups=exemplars.group_labels() + tuple(f"codebook:{t}" for t in extra.texts),
    )
