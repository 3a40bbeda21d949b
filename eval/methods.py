"""The methods an evaluation compares, each fitted and scored fold by fold on the same folds.

Every suggester of the engine runs through its own ``fit``/``decide`` on the shared embeddings;
baselines frame them: plain logistic regression on the same embeddings with one class per code
set (the bar every gain is read against), TF-IDF cosine 5-nearest-neighbour majority vote (the
lexical baseline of ../shared/README.md) and the majority class (kappa 0 by construction).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from codebook.errors import UnknownNameError
from eval.crossval import EvalData
from eval.method_names import ALL_METHODS, FUSED_METHODS, TUNED_METHODS
from models.exemplars import Exemplars
from models.project_coder import ProjectCoder
from models.suggesters import METHODS

if TYPE_CHECKING:
    from models.finetune import TrainConfig  # imports torch: only for the tuned methods

_CHUNK = 2_000  # rows of the dense test x train similarity block held at once


@dataclass(frozen=True)
class FoldPrediction:
    """One fold's test units: decided codes, scores and confidence (rows follow ``test``)."""

    decided: NDArray[np.bool_]
    scores: NDArray[np.float64]
    confidence: NDArray[np.float64]


class EvalMethod(Protocol):
    name: str
    description: str

    def fit_predict(
        self, data: EvalData, train: NDArray[np.intp], test: NDArray[np.intp]
    ) -> FoldPrediction: ...


def exemplars_of(data: EvalData, rows: NDArray[np.intp]) -> Exemplars:
    codes = data.code_sets
    texts = data.texts
    return Exemplars(
        model_id=data.model_id,
        vectors=data.vectors[rows],
        codes=tuple(codes[i] for i in rows),
        texts=tuple(texts[i] for i in rows),
        ids=rows.astype(np.int64),
        groups=tuple(data.groups[i] for i in rows),
    )


def docstring_summary(doc: str | None) -> str:
    """A docstring's first paragraph as one line of prose, for the report.

    The first line alone cuts a summary that wraps, mid-sentence; the reStructuredText
    literal marks (````c````) are dropped because the report shows plain text.
    """
    paragraph = (doc or "").strip().split("\n\n")[0]
    return " ".join(paragraph.replace("``", "").split())


class SuggesterMethod:
    """An engine suggester (knn, prototype, linear) with its default parameters."""

    def __init__(self, name: str) -> None:
        if name not in METHODS:
            raise UnknownNameError(f"unknown method {name!r}; expected one of {list(METHODS)}")
        self.name = name
        self.description = docstring_summary(METHODS[name].__doc__) or name

    def fit_predict(
        self, data: EvalData, train: NDArray[np.intp], test: NDArray[np.intp]
    ) -> FoldPrediction:
        # The same coder the CLI and the service run. Exact search: scoring a whole fold at
        # once is faster exact, and figures reproducible.
        coder = ProjectCoder(data.encoder, self.name, index_kind="exact")
        decisions = coder.fit(exemplars_of(data, train), data.codebook).decide_vectors(
            data.vectors[test]
        )
        return FoldPrediction(decisions.decided, decisions.scores, decisions.confidence)


class TfidfKnnBaseline:
    """TF-IDF cosine, 5 nearest training units, similarity-weighted majority vote."""

    name = "tfidf-5nn"
    description = "TF-IDF cosine 5-nearest-neighbour vote (lexical baseline)"

    def __init__(self, k: int = 5) -> None:
        self.k = k

    def fit_predict(
        self, data: EvalData, train: NDArray[np.intp], test: NDArray[np.intp]
    ) -> FoldPrediction:
        texts = data.texts
        vectorizer = TfidfVectorizer(sublinear_tf=True)
        train_matrix = vectorizer.fit_transform([texts[i] for i in train])
        test_matrix = vectorizer.transform([texts[i] for i in test])
        labels = exemplars_of(data, train).label_matrix(data.codebook.codable_ids)
        scores = np.zeros((len(test), labels.shape[1]))
        for start in range(0, len(test), _CHUNK):
            block = (test_matrix[start : start + _CHUNK] @ train_matrix.T).toarray()
            nearest = np.argpartition(-block, min(self.k, block.shape[1] - 1), axis=1)
            nearest = nearest[:, : self.k]
            weights = np.take_along_axis(block, nearest, axis=1) + 1e-9
            votes = np.einsum("uk,ukc->uc", weights, labels[nearest])
            scores[start : start + _CHUNK] = votes / weights.sum(axis=1, keepdims=True)
        decided = majority_decision(scores, data, train)
        return FoldPrediction(decided, scores, scores.max(axis=1, initial=0.0))


class LexicalFusionMethod:
    """An engine head's scores fused with a TF-IDF 10-NN vote (lexical evidence beside the
    embedding): ``(1 - w) x head + w x lexical``, w fixed at 0.2 for every dataset."""

    def __init__(self, head: str = "linear", lexical_weight: float = 0.2) -> None:
        self.head = SuggesterMethod(head)
        self.lexical = TfidfKnnBaseline(k=10)
        self.lexical_weight = lexical_weight
        self.name = f"{head}+lexical"
        self.description = f"{head} scores fused with a TF-IDF 10-NN vote (weight {lexical_weight})"

    def fit_predict(
        self, data: EvalData, train: NDArray[np.intp], test: NDArray[np.intp]
    ) -> FoldPrediction:
        head = self.head.fit_predict(data, train, test)
        lexical = self.lexical.fit_predict(data, train, test)
        weight = self.lexical_weight
        scores = (1 - weight) * head.scores + weight * lexical.scores
        decided = majority_decision(scores, data, train)
        return FoldPrediction(decided, scores, scores.max(axis=1, initial=0.0))


class LogisticBaseline:
    """scikit-learn's LogisticRegression with its default settings (C=1, L2, lbfgs; max_iter
    raised to 1,000 so that it converges) on the same embeddings as the methods, one class per
    code set seen in training, "no code" (the empty set) included; each unit gets its most
    likely code set. Fixed in advance: nothing is tuned, no threshold calibrated."""

    name = "logreg"
    description = (
        "logistic regression (scikit-learn defaults, max_iter 1000) on the same embeddings, "
        'one class per code set, "no code" included (plain baseline)'
    )
    max_iter = 1_000

    def fit_predict(
        self, data: EvalData, train: NDArray[np.intp], test: NDArray[np.intp]
    ) -> FoldPrediction:
        code_ids = data.codebook.codable_ids
        code_sets = data.code_sets
        classes = sorted({tuple(sorted(code_sets[i])) for i in train})
        # row k: the codes of class k (the empty row is "no code")
        presence = np.array([[code in codes for code in code_ids] for codes in classes])
        presence = presence.reshape(len(classes), len(code_ids))
        if len(classes) == 1:  # one code set in training: nothing to learn
            probabilities = np.ones((len(test), 1))
        else:
            position = {codes: k for k, codes in enumerate(classes)}
            targets = np.array([position[tuple(sorted(code_sets[i]))] for i in train])
            model = LogisticRegression(max_iter=self.max_iter)
            probabilities = model.fit(data.vectors[train], targets).predict_proba(
                data.vectors[test]
            )
        decided = presence[np.argmax(probabilities, axis=1)]
        # a code's probability: the summed probability of the code sets holding it
        scores = probabilities @ presence.astype(np.float64)
        return FoldPrediction(decided, scores, probabilities.max(axis=1))


class MajorityBaseline:
    """Every unit gets the training folds' most frequent code set."""

    name = "majority"
    description = "most frequent code set of the training folds (kappa 0 by construction)"

    def fit_predict(
        self, data: EvalData, train: NDArray[np.intp], test: NDArray[np.intp]
    ) -> FoldPrediction:
        codes = data.code_sets
        most_common = Counter(codes[i] for i in train).most_common(1)[0][0]
        code_ids = data.codebook.codable_ids
        row = np.array([code in most_common for code in code_ids])
        decided = np.tile(row, (len(test), 1))
        return FoldPrediction(decided, decided.astype(np.float64), np.zeros(len(test)))


def majority_decision(
    scores: NDArray[np.float64], data: EvalData, train: NDArray[np.intp]
) -> NDArray[np.bool_]:
    """Codes with at least half the vote; in an exclusive category only the best of them,
    and always the best where every training unit carries one of its codes."""
    decided = scores >= 0.5
    column = {code: j for j, code in enumerate(data.codebook.codable_ids)}
    code_sets = data.code_sets
    rows = np.arange(len(scores))
    for members in data.codebook.exclusive_groups.values():
        columns = np.array([column[code] for code in members], dtype=np.intp)
        always_one = all(len(code_sets[i] & set(members)) == 1 for i in train)
        best = np.argmax(scores[:, columns], axis=1)
        keep = np.zeros((len(scores), len(columns)), dtype=bool)
        keep[rows, best] = True if always_one else decided[rows, columns[best]]
        decided[:, columns] = keep
    return decided


BASELINES: dict[str, type[LogisticBaseline] | type[TfidfKnnBaseline] | type[MajorityBaseline]] = {
    LogisticBaseline.name: LogisticBaseline,
    TfidfKnnBaseline.name: TfidfKnnBaseline,
    MajorityBaseline.name: MajorityBaseline,
}


def method_by_name(name: str, train_config: TrainConfig | None = None) -> EvalMethod:
    """The method called ``name``; ``train_config`` sets how the tuned methods fine-tune."""
    if name in METHODS:
        return SuggesterMethod(name)
    if name in BASELINES:
        return BASELINES[name]()
    if name in FUSED_METHODS:
        return LexicalFusionMethod(name.removesuffix("+lexical"))
    if name in TUNED_METHODS:
        from eval.tuned import TunedFrozenEnsemble, TunedMethod  # torch: only when asked for

        if name == TunedFrozenEnsemble.name:
            return TunedFrozenEnsemble(train_config)
        head = "linear" if name == "tuned" else name.removeprefix("tuned-")
        return TunedMethod(head, train_config)
    raise UnknownNameError(f"unknown method {name!r}; expected one of: {', '.join(ALL_METHODS)}")
