"""The evaluation harness: how far can the machine be trusted, code by code?

``evaluate`` cross-validates every method on the same grouped folds over embeddings computed
once, scores machine against human the way a methods section reports intercoder reliability,
puts the humans' own agreement beside it on the same units, and returns a :class:`Report`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from eval.active_learning import SimulationOptions, simulate
from eval.agreement import exclusive_agreement, multilabel_agreement
from eval.crossval import EvalData, dataset_hash, make_folds, subsample_groups
from eval.humans import human_agreement, machine_vs_humans
from eval.inputs import EvalInput
from eval.methods import EvalMethod, method_by_name
from eval.report_model import (
    DatasetInfo,
    FoldInfo,
    HumanAgreement,
    HumanReference,
    LearningCurve,
    LearningPoint,
    MethodResult,
    Report,
    SchemeKind,
)
from eval.scoring import (
    as_label,
    confusion_of,
    coverage_at,
    coverage_curve,
    decided_sets,
    headline_interval,
    headline_kappa,
    per_code_rows,
    scheme_kind,
)
from eval.trust import with_verdicts
from eval.versions import intercoder_version, package_versions

if TYPE_CHECKING:
    from models.finetune import TrainConfig

Progress = Callable[[str], None]
LEARNING_SHARES = (0.1, 0.25, 0.5, 1.0)


@dataclass(frozen=True)
class EvalOptions:
    n_folds: int | None = 5  # None: leave one group out
    seed: int = 0
    max_train_units: int | None = None
    learning_method: str | None = "linear"
    grouping: str = "transcript"
    subsample_note: str | None = None
    notes: tuple[str, ...] = field(default=())
    train_config: TrainConfig | None = None  # the tuned methods' fine-tuning; None: defaults
    active_learning: SimulationOptions | None = None  # suggested vs random order; None: not run


@dataclass(frozen=True)
class CrossValidated:
    decided: NDArray[np.bool_]
    confidence: NDArray[np.float64]
    seconds: float


def evaluate(
    source: EvalInput,
    data: EvalData,
    methods: Sequence[EvalMethod],
    options: EvalOptions,
    progress: Progress = lambda _: None,
) -> Report:
    folds = make_folds(data.groups, options.n_folds, options.seed)
    kind = scheme_kind(data.codebook, data.code_sets)
    humans = None
    if source.multi_coded is not None:
        humans = human_agreement(source.multi_coded, kind, data.codebook)
    reference = _human_reference(humans, source.published_reference)
    results = []
    for method in methods:
        progress(f"{method.name}: {len(folds)} folds")
        predicted = cross_validate(data, method, folds, options)
        results.append(_method_result(source, data, method, predicted, kind, reference))
    curve = None
    if options.learning_method is not None:
        progress(f"learning curve ({options.learning_method})")
        curve_method = method_by_name(options.learning_method, options.train_config)
        curve = learning_curve(data, curve_method, folds, options, kind)
    active = None
    if options.active_learning is not None:
        active = simulate(data, kind, options.active_learning, progress)
    return Report(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        intercoder_version=intercoder_version(),
        codebook_name=data.codebook.name,
        codebook_version=data.codebook.version,
        model_id=data.model_id,
        kind=kind,
        dataset=DatasetInfo(
            name=source.name,
            sha256=dataset_hash(data.frame),
            n_units=len(data.frame),
            n_transcripts=int(data.frame["transcript_id"].nunique()),
            n_groups=len(set(data.groups)),
            subsample=options.subsample_note,
        ),
        folds=FoldInfo(
            k=len(folds),
            grouping=options.grouping,
            seed=options.seed,
            leave_one_group_out=options.n_folds is None,
        ),
        package_versions=package_versions(),
        human_agreement=humans,
        human_reference=reference,
        methods=results,
        learning_curve=curve,
        notes=list(options.notes),
        active_learning=active,
    )


def cross_validate(
    data: EvalData,
    method: EvalMethod,
    folds: list[tuple[NDArray[np.intp], NDArray[np.intp]]],
    options: EvalOptions,
    share: float = 1.0,
) -> CrossValidated:
    """Every unit's decision from the fold that held it out."""
    started = time.perf_counter()
    decided = np.zeros((len(data.frame), len(data.codebook.codable_ids)), dtype=bool)
    confidence = np.zeros(len(data.frame))
    for number, (train, test) in enumerate(folds):
        rows = _training_rows(train, data, options, share, seed=options.seed + number)
        prediction = method.fit_predict(data, rows, test)
        decided[test] = prediction.decided
        confidence[test] = prediction.confidence
    return CrossValidated(decided, confidence, time.perf_counter() - started)


def _training_rows(
    train: NDArray[np.intp], data: EvalData, options: EvalOptions, share: float, seed: int
) -> NDArray[np.intp]:
    rows = train if share >= 1.0 else subsample_groups(train, data.groups, share, seed)
    limit = options.max_train_units
    if limit is not None and len(rows) > limit:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))
    return rows


def learning_curve(
    data: EvalData,
    method: EvalMethod,
    folds: list[tuple[NDArray[np.intp], NDArray[np.intp]]],
    options: EvalOptions,
    kind: SchemeKind,
) -> LearningCurve:
    truth = data.code_sets
    kappa = headline_kappa(kind, data.codebook.codable_ids)
    points = []
    for share in LEARNING_SHARES:
        predicted = cross_validate(data, method, folds, options, share)
        sizes = [
            len({data.groups[i] for i in subsample_groups(train, data.groups, share, seed)})
            for seed, (train, _) in enumerate(folds, start=options.seed)
        ]
        value = kappa(truth, decided_sets(predicted.decided, data.codebook.codable_ids))
        points.append(LearningPoint(share=share, n_transcripts=float(np.mean(sizes)), kappa=value))
    return LearningCurve(method=method.name, points=points)


def _method_result(
    source: EvalInput,
    data: EvalData,
    method: EvalMethod,
    predicted: CrossValidated,
    kind: SchemeKind,
    reference: HumanReference | None,
) -> MethodResult:
    code_ids = data.codebook.codable_ids
    truth = data.code_sets
    machine = decided_sets(predicted.decided, code_ids)
    kappa = headline_kappa(kind, code_ids)
    curve = coverage_curve(kappa, truth, machine, predicted.confidence)
    extra = _scheme_figures(kind, truth, machine, code_ids)
    return MethodResult(
        method=method.name,
        description=method.description,
        kappa=kappa(truth, machine),
        kappa_ci=headline_interval(kind, code_ids, truth, machine, data.groups),
        per_code=with_verdicts(
            per_code_rows(data.codebook, truth, machine, data.groups), reference
        ),
        coverage_curve=curve,
        coverage_at_human_level=coverage_at(curve, reference.kappa if reference else None),
        vs_humans=machine_vs_humans(source.multi_coded, data.frame, machine, kind, code_ids),
        seconds=round(predicted.seconds, 2),
        **extra,
    )


def _scheme_figures(
    kind: SchemeKind,
    truth: list[frozenset[str]],
    machine: list[frozenset[str]],
    code_ids: tuple[str, ...],
) -> dict[str, object]:
    if kind == "single-label":
        labels = exclusive_agreement([as_label(c) for c in truth], [as_label(c) for c in machine])
        return {
            "accuracy": labels.accuracy,
            "macro_f1": labels.macro_f1,
            "confusion": confusion_of(truth, machine, code_ids),
        }
    sets = multilabel_agreement(truth, machine, code_ids)
    return {"mean_kappa": sets.mean_kappa, "alpha_masi": sets.alpha_masi, "macro_f1": sets.macro_f1}


def _human_reference(
    humans: HumanAgreement | None, published: HumanReference | None
) -> HumanReference | None:
    if humans is not None and humans.pairwise_mean is not None:
        return HumanReference(
            kappa=humans.pairwise_mean,
            source=f"mean pairwise Cohen's kappa of {humans.n_coders} human coders on the "
            f"{humans.n_units} units they all coded in this dataset",
        )
    return published
