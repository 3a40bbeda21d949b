"""The active-learning simulation (eval.active_learning) on tiny synthetic data with the
deterministic encoder: both orders measured at each reachable checkpoint over the seeds, the
suggested order finding rare codes sooner than a random one, the same figures from the same
seeds, bad options refused before any work, and the section in the report and its page."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from codebook.coded import CodedUnit, coded_frame
from codebook.errors import InputError
from eval.active_learning import (
    SimulationOptions,
    equivalent_units,
    parse_checkpoints,
    simulate,
    units_to_reach,
)
from eval.crossval import EvalData, prepare
from eval.harness import EvalOptions, evaluate
from eval.html_report import render_html
from eval.inputs import EvalInput
from eval.methods import SuggesterMethod
from eval.report_model import ActiveLearning, ActiveLearningCurve, ActiveLearningPoint
from models.testing import HashingEncoder
from tests.test_harness import SINGLE, WORDS

# Rare codes: a random draw of a few units mostly misses "sad" and "calm"; a spread-out one
# does not, because their sentences share words the common code's do not.
MIX = ["happy"] * 8 + ["sad", "calm"]
OPTIONS = SimulationOptions(checkpoints=(4, 8, 16, 10_000), batch=4, seeds=3, folds=3)


def imbalanced_data(transcripts: int = 9) -> EvalData:
    rows = [
        CodedUnit(
            transcript_id=f"t{t}",
            unit_id=str(u),
            turn_index=u,
            text=f"{WORDS[label]} unit{u}",
            codes=frozenset({label}),
            coder="ref",
        )
        for t in range(transcripts)
        for u, label in enumerate(MIX)
    ]
    return prepare(coded_frame(rows), SINGLE, HashingEncoder())


@pytest.fixture(scope="module")
def simulated() -> ActiveLearning:
    return simulate(imbalanced_data(), "single-label", OPTIONS)


def test_both_orders_are_measured_at_each_reachable_checkpoint(simulated: ActiveLearning) -> None:
    result = simulated
    assert [curve.order for curve in result.curves] == ["suggested", "random"]
    for curve in result.curves:
        assert [point.n_coded for point in curve.points] == [4, 8, 16]  # 10,000: beyond the pool
        for point in curve.points:
            assert point.kappa is not None
            assert point.kappa_min is not None
            assert point.kappa_max is not None
            assert point.kappa_min <= point.kappa <= point.kappa_max
        assert curve.points[-1].kappa is not None
        assert curve.points[0].kappa is not None
        assert curve.points[-1].kappa >= curve.points[0].kappa
    assert result.seeds == 3
    assert result.folds_used == 3
    assert result.full_data_kappa is not None
    assert result.full_data_kappa > 0.9
    assert result.mean_pool_units == pytest.approx(60)


def test_the_suggested_order_finds_the_rare_codes_sooner(simulated: ActiveLearning) -> None:
    suggested, random = simulated.curves
    first_suggested, first_random = suggested.points[0].kappa, random.points[0].kappa
    assert first_suggested is not None
    assert first_random is not None
    assert first_suggested > first_random
    reached = suggested.units_to_full_kappa
    assert reached is not None
    assert random.units_to_full_kappa is None or reached <= random.units_to_full_kappa


def test_the_same_seeds_give_the_same_curves() -> None:
    options = dataclasses.replace(OPTIONS, seeds=1, max_folds=1)
    first = simulate(imbalanced_data(), "single-label", options)
    again = simulate(imbalanced_data(), "single-label", options)
    assert first.curves == again.curves
    assert first.folds_used == 1
    other = simulate(imbalanced_data(), "single-label", dataclasses.replace(options, seeds=2))
    assert other.curves != first.curves


def test_units_to_reach_interpolates_between_checkpoints() -> None:
    points = [
        ActiveLearningPoint(n_coded=n, kappa=k, kappa_min=k, kappa_max=k)
        for n, k in ((100, 0.4), (200, 0.5), (500, 0.8))
    ]
    assert units_to_reach(points, 0.35) == 100
    assert units_to_reach(points, 0.6) == pytest.approx(300)
    assert units_to_reach(points, 0.9) is None
    assert units_to_reach(points, None) is None


def _points(*measured: tuple[int, float]) -> list[ActiveLearningPoint]:
    return [ActiveLearningPoint(n_coded=n, kappa=k, kappa_min=k, kappa_max=k) for n, k in measured]


def test_each_suggested_point_is_priced_in_random_order_units() -> None:
    suggested = ActiveLearningCurve(
        order="suggested",
        points=_points((100, 0.5), (200, 0.6), (500, 0.9)),
        units_to_full_kappa=None,
        units_to_95_percent=None,
    )
    random = suggested.model_copy(
        update={"order": "random", "points": _points((100, 0.4), (200, 0.5), (500, 0.8))}
    )
    priced = equivalent_units(suggested, random)
    assert [point.n_coded for point in priced] == [100, 200, 500]
    assert [point.random_units for point in priced] == [200, pytest.approx(300), None]


@pytest.mark.parametrize(
    "options",
    [
        SimulationOptions(checkpoints=()),
        SimulationOptions(checkpoints=(0, 10)),
        SimulationOptions(batch=0),
        SimulationOptions(seeds=0),
        SimulationOptions(max_folds=0),
    ],
)
def test_options_no_simulation_can_run_with_are_refused(options: SimulationOptions) -> None:
    with pytest.raises(InputError):
        simulate(imbalanced_data(3), "single-label", options)


def test_checkpoints_are_parsed_or_refused() -> None:
    assert parse_checkpoints("100,200,500") == (100, 200, 500)
    for bad in ("100,,200", "a hundred", "0,5", ""):
        with pytest.raises(InputError, match="checkpoints"):
            parse_checkpoints(bad)


def test_the_report_carries_the_section_and_its_page_draws_both_curves() -> None:
    data = imbalanced_data()
    source = EvalInput("imbalanced", SINGLE, pd.DataFrame(data.frame), None, None)
    options = EvalOptions(
        n_folds=3,
        learning_method=None,
        active_learning=dataclasses.replace(OPTIONS, seeds=1),
    )
    report = evaluate(source, data, [SuggesterMethod("linear")], options)
    assert report.active_learning is not None
    assert {curve.order for curve in report.active_learning.curves} == {"suggested", "random"}
    assert [point.n_coded for point in report.active_learning.equivalents] == [4, 8, 16]
    page = render_html(report)
    assert "Code these next: suggested versus random order" in page
    assert "random order needs, for the suggested kappa" in page
    assert 'alt="Held-out kappa against units coded, suggested and random order"' in page
    plain = evaluate(source, data, [SuggesterMethod("linear")], EvalOptions(n_folds=3))
    assert plain.active_learning is None
    assert "suggested versus random order" not in render_html(plain)
