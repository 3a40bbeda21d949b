""" "No code" as an outcome: learned as a class by the linear head, scored like any code by the
evaluation, and the plain logistic-regression baseline beside every method.

Real data, kept tiny: SwDA's validation conversations recoded with ``swda-nocode`` (most
utterances uncoded), embedded by the deterministic test encoder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score, f1_score

from codebook.datasets import load_swda, load_swda_nocode
from codebook.loader import load_codebook, parse_codebook_yaml
from eval.agreement import NO_CODE, exclusive_agreement, multilabel_agreement
from eval.crossval import EvalData, make_folds, prepare
from eval.harness import EvalOptions, evaluate
from eval.inputs import EvalInput
from eval.method_names import DEFAULT_METHODS
from eval.methods import LogisticBaseline, exemplars_of, method_by_name
from eval.scoring import as_label, per_code_rows, scheme_kind
from models.calibration import (
    NEVER,
    _label_kappa,
    kappa_class_weights,
    no_code_margin,
    no_code_threshold,
)
from models.suggesters import LinearSuggester
from models.suggesters.groups import decide_no_code
from models.testing import HashingEncoder

CODEBOOK = load_codebook("swda-nocode")


@pytest.fixture(scope="module")
def swda_val(shared_dir: Path) -> pd.DataFrame:
    frame = load_swda_nocode(root=shared_dir, splits=["val"])
    return frame[frame["transcript_id"].isin(sorted(set(frame["transcript_id"]))[:9])]


@pytest.fixture(scope="module")
def data(swda_val: pd.DataFrame) -> EvalData:
    return prepare(swda_val, CODEBOOK, HashingEncoder())


def _split(data: EvalData) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    return make_folds(data.groups, 3, seed=0)[0]


# --- the linear head learns "no code" ----------------------------------------------------------


def test_most_units_carry_no_code_and_the_scheme_is_scored_as_labels(data: EvalData) -> None:
    empty = sum(not codes for codes in data.code_sets)
    assert empty / len(data.code_sets) > 0.6
    assert scheme_kind(CODEBOOK, data.code_sets) == "single-label"


def test_linear_learns_no_code_as_one_more_class(data: EvalData) -> None:
    train, test = _split(data)
    # no inner folds: no calibrated "no code" threshold, the most likely class decides
    head = LinearSuggester(calibration_folds=1).fit(exemplars_of(data, train), CODEBOOK)
    assert np.isnan(head.no_code_thresholds_).all()
    (model,) = head.state_.multinomials
    assert model.none  # "no code" is a class of the one category's model ...
    assert model.weights.shape[1] == len(model.columns) + 1  # ... the last one
    seen = {code for i in train for code in data.code_sets[i]}
    assert {CODEBOOK.codable_ids[j] for j in model.columns} == seen
    decisions = head.decide(data.vectors[test])
    left = 1.0 - decisions.scores.sum(axis=1)
    # the decision is the most likely class, "no code" being what the codes leave
    most_likely = np.argmax(np.column_stack([decisions.scores, left]), axis=1)
    no_code = most_likely == decisions.scores.shape[1]
    np.testing.assert_array_equal(~decisions.decided.any(axis=1), no_code)
    assert (decisions.decided.sum(axis=1) <= 1).all()
    assert 0.3 < no_code.mean() < 1.0  # it says "no code" often, and not always


def test_no_code_suggestion_has_the_same_shape_and_its_class_probability(data: EvalData) -> None:
    train, test = _split(data)
    head = LinearSuggester().fit(exemplars_of(data, train), CODEBOOK)
    texts = [data.texts[i] for i in test]
    suggestions = head.suggest(data.vectors[test], texts, data.model_id)
    uncoded = [s for s in suggestions if s.no_code]
    coded = [s for s in suggestions if s.suggested]
    assert uncoded
    assert coded
    assert uncoded[0].model_dump().keys() == coded[0].model_dump().keys()
    assert uncoded[0].suggested == []
    assert len(uncoded[0].codes) == head.top_n
    scores = head.scores(data.vectors[test])
    expected = np.clip(1.0 - scores.sum(axis=1), 0.0, 1.0)
    got = np.array([s.no_code_score for s in suggestions])
    np.testing.assert_allclose(got, expected, atol=1e-9)
    assert all(s.no_code_score > max(c.score for c in s.codes) for s in uncoded)


def test_update_keeps_no_code_as_a_class(data: EvalData) -> None:
    train, _ = _split(data)
    head = LinearSuggester().fit(exemplars_of(data, train[:-50]), CODEBOOK)
    head.update(exemplars_of(data, train))
    assert [model.none for model in head.state_.multinomials] == [True]
    assert [rule for _, rule in head.groups_] == ["best-or-none"]


# --- scored like any code ----------------------------------------------------------------------


def test_no_code_has_a_per_code_row_and_counts_in_macro_f1(data: EvalData) -> None:
    truth = data.code_sets
    rng = np.random.default_rng(0)
    flip = rng.random(len(truth)) < 0.3
    predicted = [frozenset() if f else codes for f, codes in zip(flip, truth, strict=True)]
    rows = {row.code: row for row in per_code_rows(CODEBOOK, truth, predicted, data.groups)}
    row = rows[NO_CODE]
    truth_empty = [not codes for codes in truth]
    predicted_empty = [not codes for codes in predicted]
    assert row.kappa == pytest.approx(cohen_kappa_score(truth_empty, predicted_empty))
    assert row.n_true == sum(truth_empty)
    assert row.n_predicted == sum(predicted_empty)
    assert row.kappa_ci is not None
    assert row.kappa_ci.low is not None
    labels_truth = [as_label(codes) for codes in truth]
    labels_predicted = [as_label(codes) for codes in predicted]
    result = exclusive_agreement(labels_truth, labels_predicted, list(CODEBOOK.codable_ids))
    assert NO_CODE in result.labels
    used = sorted(set(labels_truth) | set(labels_predicted))
    assert result.macro_f1 == pytest.approx(
        f1_score(labels_truth, labels_predicted, labels=used, average="macro")
    )


def test_multilabel_scores_no_code_like_a_code() -> None:
    codes = ["a", "b"]
    truth = [frozenset({"a"}), frozenset(), frozenset({"a", "b"}), frozenset(), frozenset({"b"})]
    predicted = [frozenset({"a"}), frozenset(), frozenset({"a"}), frozenset({"b"}), frozenset()]
    result = multilabel_agreement(truth, predicted, codes)
    empty_truth = [not c for c in truth]
    empty_predicted = [not c for c in predicted]
    assert result.no_code.kappa == pytest.approx(cohen_kappa_score(empty_truth, empty_predicted))
    matrix_truth = np.array([[c in s for c in codes] + [not s] for s in truth])
    matrix_predicted = np.array([[c in s for c in codes] + [not s] for s in predicted])
    assert result.macro_f1 == pytest.approx(
        f1_score(matrix_truth, matrix_predicted, average="macro", zero_division=0)
    )


# --- the plain baseline ------------------------------------------------------------------------


def test_logreg_baseline_is_scikit_learns_logistic_regression_over_code_sets(
    data: EvalData,
) -> None:
    train, test = _split(data)
    prediction = LogisticBaseline().fit_predict(data, train, test)
    # directly: one class per code set ("" for no code), scikit-learn's defaults
    targets = [",".join(sorted(data.code_sets[i])) for i in train]
    model = LogisticRegression(max_iter=1000).fit(data.vectors[train], targets)
    expected = [
        frozenset(filter(None, label.split(","))) for label in model.predict(data.vectors[test])
    ]
    got = [
        frozenset(CODEBOOK.codable_ids[j] for j in np.flatnonzero(row))
        for row in prediction.decided
    ]
    assert got == expected
    assert frozenset() in got  # "no code" is one of its classes
    np.testing.assert_allclose(
        prediction.confidence, model.predict_proba(data.vectors[test]).max(1)
    )


def test_logreg_baseline_takes_a_code_set_as_one_class() -> None:
    codebook = load_codebook("interview")
    first, second = codebook.codable_ids[:2]
    both = frozenset({first, second})
    sets = [both, frozenset({first}), frozenset()] * 10
    encoder = HashingEncoder()
    frame = pd.DataFrame(
        {
            "transcript_id": [f"t{i % 5}" for i in range(len(sets))],
            "unit_id": [str(i) for i in range(len(sets))],
            "turn_index": list(range(len(sets))),
            "text": [
                f"{'alpha beta' if s == both else 'alpha' if s else 'zzz'} {i}"
                for i, s in enumerate(sets)
            ],
            "codes": sets,
            "coder": "ref",
        }
    )
    data = prepare(frame, codebook, encoder)
    train, test = make_folds(data.groups, 5, seed=0)[0]
    prediction = LogisticBaseline().fit_predict(data, train, test)
    got = [
        frozenset(codebook.codable_ids[j] for j in np.flatnonzero(r)) for r in prediction.decided
    ]
    assert got == [sets[i] for i in test]


def test_logreg_is_a_default_method_beside_every_evaluation(data: EvalData) -> None:
    assert "logreg" in DEFAULT_METHODS
    source = EvalInput("swda-nocode", CODEBOOK, data.frame, None, None)
    methods = [method_by_name(name) for name in ("linear", "logreg")]
    report = evaluate(source, data, methods, EvalOptions(n_folds=3, learning_method=None))
    assert report.kind == "single-label"
    for result in report.methods:
        assert NO_CODE in {row.code for row in result.per_code}
        assert result.macro_f1 is not None
        assert result.kappa is not None
        assert result.confusion is not None
        assert NO_CODE in result.confusion.labels
    assert [result.method for result in report.methods] == ["linear", "logreg"]


def test_no_code_threshold_is_calibrated_for_label_kappa() -> None:
    # "no code" wins at 0.55 under most-likely-class decisions, but the units left with 0.4
    # to 0.6 for "no code" carry the code: a threshold above 0.6 gives them their code.
    rng = np.random.default_rng(3)
    left = rng.uniform(0.0, 1.0, 400)
    scores = np.column_stack([1.0 - left, np.zeros_like(left)])
    labels = np.column_stack([left < 0.6, np.zeros_like(left, dtype=bool)])
    threshold = no_code_threshold(scores, labels)
    assert 0.6 <= threshold <= 0.65
    decided = np.where(left >= threshold, 2, 0)
    truth = np.where(labels[:, 0], 0, 2)
    most_likely = np.where(left > 1.0 - left, 2, 0)
    assert cohen_kappa_score(truth, decided) > cohen_kappa_score(truth, most_likely) + 0.1


def test_no_code_threshold_is_nan_where_most_likely_class_is_best() -> None:
    left = np.linspace(0.005, 0.995, 100)  # the most likely class is always right
    scores = np.column_stack([1.0 - left])
    assert np.isnan(no_code_threshold(scores, (left < 0.5)[:, None]))


def test_head_decides_no_code_by_its_calibrated_threshold(data: EvalData) -> None:
    train, test = _split(data)
    head = LinearSuggester().fit(exemplars_of(data, train), CODEBOOK)
    (threshold,) = head.no_code_thresholds_
    decisions = head.decide(data.vectors[test])
    left = 1.0 - decisions.scores.sum(axis=1)
    uncoded = ~decisions.decided.any(axis=1)
    assert 0.5 < threshold < 1.0  # on these data, codes are worth giving more often
    np.testing.assert_array_equal(uncoded, left >= threshold)
    assert uncoded.mean() < (left > decisions.scores.max(axis=1)).mean()


# --- multi-label: a calibrated "no code" ------------------------------------------------------


def test_no_code_margin_gives_near_misses_their_code_where_humans_coded_them() -> None:
    # one code, threshold 0.5; the humans coded every unit scoring 0.3 or more
    scores = np.linspace(0.0, 1.0, 201)[:, None]
    labels = scores >= 0.3
    margin = no_code_margin(scores, labels, np.array([0.5]))
    assert -0.21 <= margin <= -0.19
    decided = decide_no_code(scores >= 0.5, scores, np.array([0.5]), np.array([True]), margin)
    assert cohen_kappa_score(labels[:, 0], decided[:, 0]) > 0.97


def test_no_code_margin_takes_codes_that_barely_pass_where_humans_left_them_uncoded() -> None:
    scores = np.linspace(0.0, 1.0, 201)[:, None]
    labels = scores >= 0.7
    margin = no_code_margin(scores, labels, np.array([0.5]))
    assert 0.19 <= margin <= 0.21
    decided = decide_no_code(scores >= 0.5, scores, np.array([0.5]), np.array([True]), margin)
    assert cohen_kappa_score(labels[:, 0], decided[:, 0]) > 0.97


def test_no_code_margin_keeps_the_plain_rule_without_reason_to_move() -> None:
    scores = np.linspace(0.0, 1.0, 201)[:, None]
    thresholds = np.array([0.5])
    assert no_code_margin(scores, scores >= 0.5, thresholds) == 0.0  # the rule is right
    assert no_code_margin(scores, scores >= -1.0, thresholds) == 0.0  # no "no code" to learn
    never = np.array([NEVER])  # a code no exemplar carries is never given
    assert no_code_margin(scores, np.zeros_like(scores, dtype=bool), never) == 0.0
    given = decide_no_code(scores < 0, scores, never, np.array([True]), -0.9)
    assert not given.any()


def test_multi_label_head_calibrates_its_no_code_margin(data: EvalData) -> None:
    codes = "\n".join(f"  - {{id: {code}, name: {code}}}" for code in CODEBOOK.codable_ids)
    book = parse_codebook_yaml(f"name: free\ncodes:\n{codes}\n")
    train, test = _split(data)
    head = LinearSuggester().fit(exemplars_of(data, train), book)
    # on these data "no code" is likelier than the plain rule says: a code must pass by more
    assert 0.0 < head.no_code_margin_ < 1.0
    decisions = head.decide(data.vectors[test])
    best_gap = (decisions.scores - head.thresholds_).max(axis=1)
    coded = decisions.decided.any(axis=1)
    np.testing.assert_array_equal(coded, best_gap >= head.no_code_margin_)
    assert (~coded & (best_gap >= 0)).any()  # units the plain rule would have coded


# --- single-label: the best code, weighted for kappa ------------------------------------------


def test_class_weights_give_a_rare_code_its_share() -> None:
    # the rare code 1 scores at most 0.45, so the most likely class never picks it
    rng = np.random.default_rng(5)
    rare = rng.random(600) < 0.15
    second = np.where(rare, rng.uniform(0.35, 0.45, 600), rng.uniform(0.0, 0.3, 600))
    scores = np.column_stack([1.0 - second, second])
    labels = np.column_stack([~rare, rare])
    weights = kappa_class_weights(scores, labels)
    assert weights[1] / weights[0] > 1.2
    weighted = np.argmax(scores * weights, axis=1)
    assert cohen_kappa_score(rare, weighted == 1) > 0.9
    assert cohen_kappa_score(rare, np.argmax(scores, axis=1) == 1) == 0.0


def test_class_weights_stay_one_where_the_most_likely_class_is_right() -> None:
    scores = np.eye(3)[np.arange(90) % 3] * 0.6 + 0.1
    np.testing.assert_array_equal(kappa_class_weights(scores, scores > 0.5), np.ones(3))


def test_label_kappa_is_sklearns() -> None:
    rng = np.random.default_rng(8)
    truth, predicted = rng.integers(0, 5, 300), rng.integers(0, 4, 300)
    predicted[:150] = truth[:150]
    assert _label_kappa(truth, predicted) == pytest.approx(cohen_kappa_score(truth, predicted))
    assert _label_kappa(np.zeros(5, dtype=np.intp), np.zeros(5, dtype=np.intp)) == 0.0


def test_single_label_head_decides_by_its_weighted_scores(shared_dir: Path) -> None:
    frame = load_swda(root=shared_dir, splits=["val"])
    frame = frame[frame["transcript_id"].isin(sorted(set(frame["transcript_id"]))[:9])]
    book = load_codebook("swda")
    tags = prepare(frame, book, HashingEncoder())
    train, test = _split(tags)
    head = LinearSuggester().fit(exemplars_of(tags, train), book)
    ((columns, rule),) = head.groups_
    (weights,) = head.class_weights_
    assert rule == "best"
    assert not np.allclose(weights, 1.0)  # calibrated on the inner folds
    decisions = head.decide(tags.vectors[test])
    chosen = columns[np.argmax(decisions.scores[:, columns] * weights, axis=1)]
    np.testing.assert_array_equal(np.argmax(decisions.decided, axis=1), chosen)
    assert (decisions.decided.sum(axis=1) == 1).all()
