"""Methods that fine-tune the encoder on each fold's training units, then fit a head.

For every fold a fresh copy of the bundled MiniLM is fine-tuned on the training units alone,
each read with its speaker and previous turn (:mod:`models.context`); the tuned encoder then
embeds the fold's units and an engine suggester (the head) is fitted on the training units'
tuned embeddings, exactly as a project trained with ``intercoder train`` suggests. Test units
are embedded but their codes are never seen. One fine-tuning per fold is shared by every head
(kept in memory for the folds of the running evaluation only).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
from numpy.typing import NDArray

from codebook.errors import UnknownNameError
from eval.crossval import EvalData, dataset_hash
from eval.methods import FoldPrediction, SuggesterMethod, majority_decision
from models.encoder import Embeddings
from models.exemplars import Exemplars
from models.finetune import TrainConfig
from models.project_coder import ProjectCoder
from models.project_model import training_inputs, tune

# Not prototype: its codebook fallback embeds with the frozen encoder, another space.
TUNED_HEADS = ("linear", "knn", "blend")
_KEPT_FOLDS = 32  # a learning curve (4 shares x k folds) reuses the full-share folds
_tuned: OrderedDict[str, tuple[NDArray[np.intp], Embeddings]] = OrderedDict()


class TunedMethod:
    """Fine-tune MiniLM with dialogue context on the training folds, then an engine head."""

    def __init__(self, head: str = "linear", config: TrainConfig | None = None) -> None:
        if head not in TUNED_HEADS:
            raise UnknownNameError(f"unknown head {head!r}; expected one of {list(TUNED_HEADS)}")
        self.head = head
        self.config = config or TrainConfig()
        self.name = "tuned" if head == "linear" else f"tuned-{head}"
        self.description = (
            f"MiniLM fine-tuned per fold on the training units with the previous turn, "
            f"{head} head on the tuned embeddings"
        )

    def fit_predict(
        self, data: EvalData, train: NDArray[np.intp], test: NDArray[np.intp]
    ) -> FoldPrediction:
        rows, vectors = tuned_embeddings(data, train, test, self.config)
        position = {row: i for i, row in enumerate(rows)}
        train_vectors = vectors[[position[row] for row in train]]
        codes, texts = data.code_sets, data.texts  # each builds a list: once per fold, not per row
        exemplars = Exemplars(
            model_id=f"tuned-fold-{_fold_key(data, train, test, self.config)[:12]}",
            vectors=train_vectors,
            codes=tuple(codes[i] for i in train),
            texts=tuple(texts[i] for i in train),
            ids=train.astype(np.int64),
            groups=tuple(data.groups[i] for i in train),
        )
        coder = ProjectCoder(data.encoder, self.head, index_kind="exact")
        decisions = coder.fit(exemplars, data.codebook).decide_vectors(
            vectors[[position[row] for row in test]]
        )
        return FoldPrediction(decisions.decided, decisions.scores, decisions.confidence)


def tuned_embeddings(
    data: EvalData, train: NDArray[np.intp], test: NDArray[np.intp], config: TrainConfig
) -> tuple[NDArray[np.intp], Embeddings]:
    """The fold's rows (training then test) and their embeddings by the fold's tuned encoder."""
    key = _fold_key(data, train, test, config)
    if key in _tuned:
        _tuned.move_to_end(key)
        return _tuned[key]
    rows = np.concatenate([train, test]).astype(np.intp)
    inputs = training_inputs(data.frame.iloc[rows])
    codes = data.code_sets
    _, tuned = tune(
        inputs, [codes[i] for i in train], [data.groups[i] for i in train], data.codebook, config
    )
    _tuned[key] = (rows, tuned.embeddings)
    while len(_tuned) > _KEPT_FOLDS:
        _tuned.popitem(last=False)
    return rows, tuned.embeddings


def _fold_key(
    data: EvalData, train: NDArray[np.intp], test: NDArray[np.intp], config: TrainConfig
) -> str:
    digest = hashlib.sha256(train.astype(np.int64).tobytes())
    digest.update(test.astype(np.int64).tobytes())
    digest.update(repr(config).encode())
    digest.update(dataset_hash(data.frame).encode())
    return digest.hexdigest()


class TunedFrozenEnsemble:
    """The tuned and the frozen linear heads' scores averaged (weights 0.5/0.5, fixed before
    measuring): the frozen head keeps what fine-tuning on a few thousand units forgets."""

    name = "tuned+frozen"

    def __init__(self, config: TrainConfig | None = None) -> None:
        self.tuned = TunedMethod("linear", config)
        self.frozen = SuggesterMethod("linear")
        self.description = "mean of the tuned and the frozen linear heads' scores"

    def fit_predict(
        self, data: EvalData, train: NDArray[np.intp], test: NDArray[np.intp]
    ) -> FoldPrediction:
        tuned = self.tuned.fit_predict(data, train, test)
        frozen = self.frozen.fit_predict(data, train, test)
        scores = (tuned.scores + frozen.scores) / 2.0
        decided = majority_decision(scores, data, train)
        return FoldPrediction(decided, scores, scores.max(axis=1, initial=0.0))
