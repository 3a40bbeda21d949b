"""Does "code these next" save coding? A simulated coder codes in the suggested order and in
random order, and the coder's kappa on held-out transcripts is measured as the coding goes.

For each seed, the data is split into grouped folds (``eval.crossval.make_folds``, as every
evaluation is); in each fold used, the training fold's units are the uncoded pool and the held-
out transcripts the test. The simulated coder starts with nothing coded and codes ``batch``
units a round, each round's units being the pool's best ranked by the project's coder
(``ProjectCoder.rank_for_coding``, the same ranking as ``intercoder next``) or a random draw;
the coder learns from each round as the service does (``ProjectCoder.learn``: a warm-started
refit). At each checkpoint (units coded) a coder is fitted afresh on the units coded so far, the
same way for both orders, and scored on the held-out transcripts; the test decisions of the
folds used are pooled into one kappa per seed, as the harness pools its folds. The target is
the same head trained on every training unit (the full-data kappa).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from codebook.errors import InputError
from eval.crossval import EvalData, Fold, make_folds
from eval.methods import exemplars_of
from eval.report_model import (
    ActiveLearning,
    ActiveLearningCurve,
    ActiveLearningPoint,
    EquivalentUnits,
    Order,
    SchemeKind,
)
from eval.scoring import decided_sets, headline_kappa
from models.methods import DEFAULT_METHOD
from models.project_coder import ProjectCoder

Progress = Callable[[str], None]
DEFAULT_CHECKPOINTS = (100, 200, 500, 1_000, 2_000)
ORDERS: tuple[Order, ...] = ("suggested", "random")


@dataclass(frozen=True)
class SimulationOptions:
    """``checkpoints``: units coded when the held-out kappa is measured; ``batch``: units
    coded a round; ``seeds``: how many seeds (0, 1, ...), each its own folds and draws;
    ``max_folds``: how many of each seed's folds to run (None: all)."""

    checkpoints: tuple[int, ...] = DEFAULT_CHECKPOINTS
    batch: int = 50
    seeds: int = 3
    folds: int = 5
    max_folds: int | None = None
    method: str = DEFAULT_METHOD

    def check(self) -> None:
        """InputError for options no simulation can run with (before any work)."""
        if not self.checkpoints or min(self.checkpoints) < 1:
            raise InputError(
                f"expected checkpoints of at least 1 coded unit, got {list(self.checkpoints)}; "
                "give e.g. 100,200,500,1000,2000"
            )
        if self.batch < 1 or self.seeds < 1 or (self.max_folds is not None and self.max_folds < 1):
            raise InputError(
                f"the batch, the seeds and the folds used must be at least 1, got batch "
                f"{self.batch}, {self.seeds} seed(s), max folds {self.max_folds}"
            )


def parse_checkpoints(text: str) -> tuple[int, ...]:
    """ "100,200,500" as checkpoints (InputError for anything else)."""
    try:
        checkpoints = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InputError(
            f"expected checkpoints as whole numbers separated by commas (100,200,500), got {text!r}"
        ) from None
    SimulationOptions(checkpoints=checkpoints).check()
    return checkpoints


@dataclass(frozen=True)
class _Run:
    """One seed's pooled test decisions: per order and checkpoint, and on all training data."""

    decided: dict[tuple[Order, int], NDArray[np.bool_]]
    full: NDArray[np.bool_]


def simulate(
    data: EvalData,
    kind: SchemeKind,
    options: SimulationOptions,
    progress: Progress = lambda _: None,
) -> ActiveLearning:
    """Both orders' learning curves over ``options.seeds`` seeds (see the module)."""
    options.check()
    started = time.perf_counter()
    kappa = headline_kappa(kind, data.codebook.codable_ids)
    truth = data.code_sets
    runs, tests, pools = [], [], []
    used = 0
    for seed in range(options.seeds):
        folds = make_folds(data.groups, options.folds, seed)[: options.max_folds]
        used = len(folds)
        pools += [len(train) for train, _ in folds]
        checkpoints = _reachable(options.checkpoints, min(len(train) for train, _ in folds))
        progress(f"active learning: seed {seed}, {len(folds)} fold(s), {len(checkpoints)} points")
        runs.append(_run_seed(data, folds, checkpoints, options, seed))
        tests.append(np.concatenate([test for _, test in folds]))

    def seed_kappas(key: tuple[Order, int] | None) -> list[float | None]:
        """One kappa per seed over its pooled test folds (None: the full-data head's)."""
        return [
            kappa(
                [truth[i] for i in test],
                decided_sets(
                    run.full if key is None else run.decided[key], data.codebook.codable_ids
                ),
            )
            for run, test in zip(runs, tests, strict=True)
        ]

    full = _mean(seed_kappas(None))
    checkpoints = _reachable(options.checkpoints, min(pools))
    curves = [
        _curve(order, [(n, seed_kappas((order, n))) for n in checkpoints], full) for order in ORDERS
    ]
    return ActiveLearning(
        method=options.method,
        batch=options.batch,
        seeds=options.seeds,
        folds=options.folds,
        folds_used=used,
        mean_pool_units=float(np.mean(pools)),
        full_data_kappa=full,
        curves=curves,
        equivalents=equivalent_units(curves[0], curves[1]),
        seconds=round(time.perf_counter() - started, 1),
    )


def _run_seed(
    data: EvalData,
    folds: list[Fold],
    checkpoints: tuple[int, ...],
    options: SimulationOptions,
    seed: int,
) -> _Run:
    codes = len(data.codebook.codable_ids)
    decided = {
        (order, n): np.zeros((0, codes), dtype=bool) for order in ORDERS for n in checkpoints
    }
    full = []
    for number, (train, test) in enumerate(folds):
        full.append(_fitted(data, train, options.method).decide_vectors(data.vectors[test]).decided)
        for order in ORDERS:
            found = _code_in_order(data, train, test, order, checkpoints, options, seed + number)
            for n, rows in found.items():
                decided[order, n] = np.vstack([decided[order, n], rows])
    return _Run(decided, np.vstack(full))


def _code_in_order(
    data: EvalData,
    train: NDArray[np.intp],
    test: NDArray[np.intp],
    order: Order,
    checkpoints: tuple[int, ...],
    options: SimulationOptions,
    seed: int,
) -> dict[int, NDArray[np.bool_]]:
    """The test decisions at each checkpoint, coding the pool in this order."""
    shuffled = np.random.default_rng(seed).permutation(train)
    coded: list[int] = []
    uncoded = train.copy()
    learner = ProjectCoder(data.encoder, options.method, index_kind="exact").fit(
        None, data.codebook
    )
    found = {}
    for target in checkpoints:
        while len(coded) < target:
            take = min(options.batch, target - len(coded))
            if order == "random":
                chosen = shuffled[len(coded) : len(coded) + take]
            else:
                ranked = learner.rank_for_coding(
                    data.vectors[uncoded], take, seed=seed + len(coded)
                )
                chosen = uncoded[[unit.position for unit in ranked]]
            coded += chosen.tolist()
            uncoded = np.setdiff1d(uncoded, chosen, assume_unique=True)
            if order == "suggested":  # the next round's ranking learns from this one
                learner = learner.learn(exemplars_of(data, np.array(coded)), data.codebook)
        coder = _fitted(data, np.array(coded), options.method)
        found[target] = coder.decide_vectors(data.vectors[test]).decided
    return found


def _fitted(data: EvalData, rows: NDArray[np.intp], method: str) -> ProjectCoder:
    coder = ProjectCoder(data.encoder, method, index_kind="exact")
    return coder.fit(exemplars_of(data, rows), data.codebook)


def _reachable(checkpoints: tuple[int, ...], pool: int) -> tuple[int, ...]:
    """The checkpoints every fold's pool can reach, in order."""
    return tuple(sorted(n for n in set(checkpoints) if n <= pool))


def _curve(
    order: Order, measured: list[tuple[int, list[float | None]]], full: float | None
) -> ActiveLearningCurve:
    points = [
        ActiveLearningPoint(
            n_coded=n,
            kappa=_mean(values),
            kappa_min=_bound(values, min),
            kappa_max=_bound(values, max),
        )
        for n, values in measured
    ]
    return ActiveLearningCurve(
        order=order,
        points=points,
        units_to_full_kappa=units_to_reach(points, full),
        units_to_95_percent=units_to_reach(points, None if full is None else 0.95 * full),
    )


def equivalent_units(
    suggested: ActiveLearningCurve, random: ActiveLearningCurve
) -> list[EquivalentUnits]:
    """For each point of the suggested order, the units random order needs for its kappa."""
    return [
        EquivalentUnits(
            n_coded=point.n_coded,
            kappa=point.kappa,
            random_units=units_to_reach(random.points, point.kappa),
        )
        for point in suggested.points
    ]


def units_to_reach(points: list[ActiveLearningPoint], target: float | None) -> float | None:
    """Coded units at which the mean curve first reaches ``target``, interpolated linearly
    between the checkpoints around it; None when it does not within the checkpoints."""
    if target is None:
        return None
    before: ActiveLearningPoint | None = None
    for point in points:
        if point.kappa is not None and point.kappa >= target:
            if before is None or before.kappa is None:
                return float(point.n_coded)
            share = (target - before.kappa) / (point.kappa - before.kappa)
            return round(before.n_coded + share * (point.n_coded - before.n_coded), 1)
        before = point
    return None


def _mean(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return float(np.mean(known)) if known else None


def _bound(values: list[float | None], pick: Callable[[list[float]], float]) -> float | None:
    known = [value for value in values if value is not None]
    return pick(known) if known else None
