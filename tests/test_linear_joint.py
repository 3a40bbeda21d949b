"""The linear head's joint solver against scikit-learn's fit per code (solver="per-code")."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.exceptions import ConvergenceWarning

from models.exemplars import Exemplars
from models.suggesters import LinearSuggester
from models.suggesters.linear_state import LinearState

DIM = 12
TIGHT = 1e-8  # both solvers run to the optimum, so only the objective can differ


def _exemplars(labels: NDArray[np.bool_], seed: int = 0) -> Exemplars:
    """Vectors pulled toward a centre per code, noisy enough that no code is separable."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(labels.shape[1], DIM))
    vectors = labels @ centres + 3.0 * rng.normal(size=(len(labels), DIM))
    count = len(labels)
    return Exemplars(
        model_id="m",
        vectors=vectors.astype(np.float32),
        codes=tuple(frozenset() for _ in range(count)),  # the tests pass labels directly
        texts=tuple(str(i) for i in range(count)),
        ids=np.arange(count, dtype=np.int64),
    )


def _multi_label(count: int, seed: int = 0) -> NDArray[np.bool_]:
    rng = np.random.default_rng(seed)
    labels = rng.random((count, 5)) < [0.3, 0.1, 0.5, 0.0, 1.0]  # code 3: none, code 4: all
    return labels


def _single_label(count: int, seed: int = 0) -> NDArray[np.bool_]:
    """Columns 0-2: a three-class category; 3-5: a category whose code 5 is never seen."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((count, 6), dtype=bool)
    labels[np.arange(count), rng.integers(0, 3, count)] = True
    labels[np.arange(count), rng.integers(3, 5, count)] = True
    return labels


def _states(
    labels: NDArray[np.bool_], exclusive: list[NDArray[np.intp]]
) -> tuple[LinearState, LinearState, Exemplars]:
    exemplars = _exemplars(labels)
    joint = LinearSuggester(tol=TIGHT, max_iter=5000)._fit_state(exemplars, labels, exclusive)
    per_code = LinearSuggester(solver="per-code", tol=TIGHT, max_iter=5000)._fit_state(
        exemplars, labels, exclusive
    )
    return joint, per_code, exemplars


def _scores(state: LinearState, exemplars: Exemplars) -> NDArray[np.float64]:
    queries = np.random.default_rng(9).normal(size=(50, DIM)).astype(np.float32)
    vectors = np.vstack([exemplars.vectors, queries])
    return LinearSuggester()._score_with(state, vectors)


def test_joint_equals_per_code_one_vs_rest_with_constant_codes() -> None:
    joint, per_code, exemplars = _states(_multi_label(300), [])
    np.testing.assert_array_equal(joint.constant, per_code.constant)
    assert joint.constant[3] == 0.0
    assert joint.constant[4] == 1.0
    np.testing.assert_allclose(_scores(joint, exemplars), _scores(per_code, exemplars), atol=1e-3)


def test_joint_equals_per_code_multinomial_and_two_class_category() -> None:
    exclusive = [np.array([0, 1, 2]), np.array([3, 4, 5])]
    joint, per_code, exemplars = _states(_single_label(300), exclusive)
    joint_models = sorted(list(m.columns) for m in joint.multinomials)
    assert joint_models == sorted(list(m.columns) for m in per_code.multinomials)
    assert joint_models == [[0, 1, 2], [3, 4]]
    np.testing.assert_allclose(_scores(joint, exemplars), _scores(per_code, exemplars), atol=1e-3)


def test_mixed_categories_and_one_vs_rest_in_one_fit() -> None:
    labels = np.hstack([_single_label(300), _multi_label(300, seed=1)])
    exclusive = [np.array([0, 1, 2]), np.array([3, 4, 5])]
    joint, per_code, exemplars = _states(labels, exclusive)
    np.testing.assert_allclose(_scores(joint, exemplars), _scores(per_code, exemplars), atol=1e-3)


def test_category_with_one_code_seen_is_constant() -> None:
    labels = _single_label(100)
    labels[:, 3:] = [False, True, False]  # every exemplar carries code 4
    joint, per_code, _ = _states(labels, [np.array([0, 1, 2]), np.array([3, 4, 5])])
    np.testing.assert_array_equal(joint.constant[3:], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(joint.constant, per_code.constant)


@pytest.mark.parametrize("single_label", [False, True])
def test_warm_start_reaches_the_cold_optimum(single_label: bool) -> None:
    labels = _single_label(300) if single_label else _multi_label(300)
    exclusive = [np.array([0, 1, 2]), np.array([3, 4, 5])] if single_label else []
    exemplars = _exemplars(labels)
    suggester = LinearSuggester(tol=TIGHT, max_iter=5000)
    full = suggester._fit_state(exemplars, labels, exclusive)
    rows = np.arange(200)
    fold = exemplars.subset(rows)
    cold = suggester._fit_state(fold, labels[rows], exclusive)
    warm = suggester._fit_state(fold, labels[rows], exclusive, warm=full)
    np.testing.assert_allclose(_scores(warm, exemplars), _scores(cold, exemplars), atol=1e-4)


def test_unknown_solver_is_refused() -> None:
    labels = _multi_label(20)
    with pytest.raises(ValueError, match="solver must be"):
        LinearSuggester(solver="newton")._fit_state(_exemplars(labels), labels, [])  # type: ignore[arg-type]


def test_too_few_iterations_warn_like_scikit_learn() -> None:
    labels = _multi_label(100)
    with pytest.warns(ConvergenceWarning, match="raise max_iter"):
        LinearSuggester(max_iter=2)._fit_state(_exemplars(labels), labels, [])


def _some_uncoded(count: int, seed: int = 0) -> NDArray[np.bool_]:
    """Columns 0-2: a category 40% of units carry none of; 3-4: one code seen beside "no
    code"; 5-6: both codes seen, every unit carrying one."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((count, 7), dtype=bool)
    rows = np.arange(count)
    coded = rng.random(count) >= 0.4
    labels[rows[coded], rng.integers(0, 3, count)[coded]] = True
    labels[rows, 3] = rng.random(count) < 0.3
    labels[rows, rng.integers(5, 7, count)] = True
    return labels


def test_joint_equals_per_code_with_no_code_as_a_class() -> None:
    exclusive = [np.array([0, 1, 2]), np.array([3, 4]), np.array([5, 6])]
    joint, per_code, exemplars = _states(_some_uncoded(400), exclusive)
    for state in (joint, per_code):
        models = sorted((list(m.columns), m.none) for m in state.multinomials)
        assert models == [([0, 1, 2], True), ([5, 6], False)]
        assert np.isnan(state.constant[3])  # one code beside "no code": one-vs-rest
        assert state.constant[4] == 0.0
    scores = _scores(joint, exemplars)
    np.testing.assert_allclose(scores, _scores(per_code, exemplars), atol=1e-3)
    assert (scores[:, :3].sum(axis=1) < 1.0).all()  # the rest is "no code"'s


def test_warm_start_carries_the_no_code_class() -> None:
    exclusive = [np.array([0, 1, 2]), np.array([3, 4]), np.array([5, 6])]
    labels = _some_uncoded(400)
    exemplars = _exemplars(labels)
    head = LinearSuggester(tol=TIGHT, max_iter=5000)
    cold = head._fit_state(exemplars, labels, exclusive)
    # started at the optimum, "no code"'s weights included, two iterations stay there
    warm = LinearSuggester(tol=TIGHT, max_iter=2)._fit_state(exemplars, labels, exclusive, cold)
    np.testing.assert_allclose(_scores(warm, exemplars), _scores(cold, exemplars), atol=1e-4)
