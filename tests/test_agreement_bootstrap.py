"""The cluster bootstrap: whole groups resampled, undefined resamples dropped, speed."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from codebook.errors import InputError
from eval.agreement import bootstrap_ci, cohen_kappa_statistic


def test_bootstrap_resamples_whole_groups() -> None:
    groups = ["t1"] * 3 + ["t2"] * 2 + ["t3"] * 4
    seen: list[np.ndarray] = []

    def record(rows: np.ndarray) -> float:
        seen.append(np.sort(rows))
        return float(len(rows))

    bootstrap_ci(record, groups, n_resamples=50)
    members = {"t1": {0, 1, 2}, "t2": {3, 4}, "t3": {5, 6, 7, 8}}
    for rows in seen[:-1]:
        counts = {name: sum(int(r) in idx for r in rows) for name, idx in members.items()}
        draws = {name: counts[name] // len(idx) for name, idx in members.items()}
        assert all(counts[name] % len(idx) == 0 for name, idx in members.items())
        assert sum(draws.values()) == 3
    assert list(seen[-1]) == list(range(9))


def test_bootstrap_drops_and_counts_undefined_resamples() -> None:
    groups = [f"t{i}" for i in range(6) for _ in range(2)]
    undefined = 0

    def needs_first_group(rows: np.ndarray) -> float | None:
        nonlocal undefined
        if 0 in rows:
            return float(len(rows))
        undefined += 1
        return None if undefined % 2 else math.nan

    interval = bootstrap_ci(needs_first_group, groups, n_resamples=200, seed=3)
    assert interval.n_dropped == undefined
    assert 0 < undefined < 200
    assert interval.estimate == 12.0
    assert interval.n_resamples == 200
    never = bootstrap_ci(lambda rows: math.nan, groups, n_resamples=20)
    assert (never.low, never.high, never.estimate, never.n_dropped) == (None, None, None, 20)


def test_bootstrap_argument_checks() -> None:
    with pytest.raises(InputError, match="at least two groups"):
        bootstrap_ci(lambda rows: 0.0, ["t1", "t1"])
    with pytest.raises(InputError, match="n_resamples"):
        bootstrap_ci(lambda rows: 0.0, ["t1", "t2"], n_resamples=0)
    with pytest.raises(InputError, match="confidence"):
        bootstrap_ci(lambda rows: 0.0, ["t1", "t2"], confidence=1.0)


@settings(deadline=None, max_examples=50)
@given(
    group_means=st.lists(st.floats(0, 1), min_size=3, max_size=8),
    rows_per_group=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_bootstrap_interval_contains_estimate_and_is_reproducible(
    group_means: list[float], rows_per_group: int, seed: int
) -> None:
    values = np.repeat(group_means, rows_per_group) + np.tile(
        np.linspace(0, 0.1, rows_per_group), len(group_means)
    )
    groups = [f"t{i}" for i in range(len(group_means)) for _ in range(rows_per_group)]

    def mean(rows: np.ndarray) -> float:
        return float(values[rows].mean())

    interval = bootstrap_ci(mean, groups, n_resamples=200, seed=seed)
    assert interval.estimate is not None
    assert interval.estimate == pytest.approx(float(values.mean()))
    assert interval.low is not None
    assert interval.high is not None
    assert interval.low - 1e-9 <= interval.estimate <= interval.high + 1e-9
    assert bootstrap_ci(mean, groups, n_resamples=200, seed=seed) == interval


def test_bootstrap_kappa_1000_resamples_of_5000_rows_is_fast() -> None:
    generator = np.random.default_rng(0)
    truth = [str(x) for x in generator.integers(0, 6, 5000)]
    predicted = [t if generator.random() < 0.7 else str(generator.integers(0, 6)) for t in truth]
    groups = [f"t{i // 100}" for i in range(5000)]
    started = time.perf_counter()
    interval = bootstrap_ci(cohen_kappa_statistic(truth, predicted), groups, seed=1)
    elapsed = time.perf_counter() - started
    # Generous bound (about 20x what a laptop takes) so only a real slowdown fails it.
    assert elapsed < 10.0
    expected = cohen_kappa_score(truth, predicted)
    assert interval.estimate == pytest.approx(expected, abs=1e-12)
    assert interval.low is not None
    assert interval.high is not None
    assert interval.low < expected < interval.high
    assert interval.high - interval.low < 0.1
    other_seed = bootstrap_ci(cohen_kappa_statistic(truth, predicted), groups, seed=2)
    assert (other_seed.low, other_seed.high) != (interval.low, interval.high)
