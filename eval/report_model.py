"""The evaluation report: every figure the harness measured, and what it was measured on.

Written as ``report.json`` and rendered as ``report.html``. A reviewer can reproduce any figure
from the fields here: codebook version, model id, dataset hash, folds, seed, package versions.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SchemeKind = Literal["single-label", "multi-label"]
TrustKind = Literal[
    "machine_alone", "suggest_only", "code_by_hand", "too_few_examples", "not_evaluated"
]
"""A code's trust verdict (the rule and its wording: ``eval.trust``)."""
Order = Literal["suggested", "random"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Interval(_Frozen):
    """A 95% percentile interval from a bootstrap over transcripts (None: undefined)."""

    low: float | None
    high: float | None
    n_resamples: int


class TrustVerdict(_Frozen):
    """What a researcher may do with the machine's codings of one code, said plainly."""

    kind: TrustKind
    says: str = Field(description="the verdict in plain words, with the thresholds it used")
    more_needed: int | None = Field(
        default=None,
        description="too_few_examples: how many more human-coded units of the code a verdict "
        "needs; null otherwise",
    )


class CodeRow(_Frozen):
    """One code's machine-vs-human agreement on presence/absence per unit; "no code" (an
    empty code set) has a row of its own, code ``(no code)``, where any unit carries none."""

    code: str
    name: str
    prevalence: float = Field(description="share of units the humans gave this code")
    n_true: int
    n_predicted: int
    kappa: float | None
    kappa_ci: Interval | None
    trust: TrustVerdict | None = Field(
        default=None,
        description="the trust verdict (eval.trust) when the report was made; null in reports "
        "written before verdicts were kept",
    )


class Confusion(_Frozen):
    labels: list[str]
    matrix: list[list[int]] = Field(description="rows: human label; columns: machine label")


class CoveragePoint(_Frozen):
    coverage: float = Field(description="share of units the machine codes (most confident first)")
    n_units: int
    kappa: float | None


class HumanComparison(_Frozen):
    """Machine against the humans on exactly the units several humans coded."""

    n_units: int
    vs_majority: float | None
    vs_each_coder: dict[str, float | None]
    vs_each_coder_mean: float | None


class MethodResult(_Frozen):
    method: str
    description: str
    kappa: float | None = Field(
        description="headline: Cohen's kappa over labels (single-label) or pooled kappa "
        "over unit x code decisions (multi-label)"
    )
    kappa_ci: Interval | None
    accuracy: float | None = None
    macro_f1: float | None = Field(
        default=None,
        description="mean F1 over the labels (single-label) or the codes (multi-label) used, "
        '"no code" one of them',
    )
    mean_kappa: float | None = None
    alpha_masi: float | None = None
    per_code: list[CodeRow]
    confusion: Confusion | None = None
    coverage_curve: list[CoveragePoint]
    coverage_at_human_level: float | None = Field(
        description="largest coverage at which machine kappa reaches the human reference"
    )
    vs_humans: HumanComparison | None = None
    seconds: float


class CoderPair(_Frozen):
    coder_a: str
    coder_b: str
    n_units: int
    kappa: float | None


class HumanAgreement(_Frozen):
    """Agreement among the human coders on units several of them coded."""

    n_units: int
    n_coders: int
    fleiss_kappa: float | None
    pairwise_mean: float | None
    pairwise_min: float | None
    pairwise_max: float | None
    pairs: list[CoderPair]


class HumanReference(_Frozen):
    """The kappa a machine is measured against, and where the figure comes from."""

    kappa: float
    source: str


class LearningPoint(_Frozen):
    share: float = Field(description="share of each fold's training transcripts used")
    n_transcripts: float = Field(description="mean number of training transcripts per fold")
    kappa: float | None = Field(description="headline kappa over all test folds")


class LearningCurve(_Frozen):
    method: str
    points: list[LearningPoint]


class ActiveLearningPoint(_Frozen):
    n_coded: int = Field(description="units the simulated coder has coded")
    kappa: float | None = Field(
        description="headline kappa on the held-out transcripts, mean of the seeds"
    )
    kappa_min: float | None = Field(description="the lowest seed's kappa")
    kappa_max: float | None = Field(description="the highest seed's kappa")


class ActiveLearningCurve(_Frozen):
    order: Order = Field(description="suggested: intercoder next's ranking; random: a random draw")
    points: list[ActiveLearningPoint]
    units_to_full_kappa: float | None = Field(
        description="units coded when the mean curve reaches the full-data kappa "
        "(interpolated between points; None: not within the points)"
    )
    units_to_95_percent: float | None = Field(description="the same for 95% of the full-data kappa")


class EquivalentUnits(_Frozen):
    """What a point of the suggested order is worth in random order."""

    n_coded: int = Field(description="units coded in the suggested order")
    kappa: float | None = Field(description="its held-out kappa, mean of the seeds")
    random_units: float | None = Field(
        description="units random order needs for the same kappa (interpolated between its "
        "points; None: not within them)"
    )


class ActiveLearning(_Frozen):
    """Coding in the suggested order versus random order (``eval.active_learning``)."""

    method: str
    batch: int = Field(description="units coded a round")
    seeds: int
    folds: int
    folds_used: int = Field(description="folds run per seed, their test decisions pooled")
    mean_pool_units: float = Field(description="mean training-fold units (the uncoded pool)")
    full_data_kappa: float | None = Field(
        description="the head trained on every training unit, mean of the seeds"
    )
    curves: list[ActiveLearningCurve]
    equivalents: list[EquivalentUnits] = Field(
        default=[], description="each suggested-order point against the random-order curve"
    )
    seconds: float


class DatasetInfo(_Frozen):
    name: str
    sha256: str = Field(description="hash of the coded units the report was computed on")
    n_units: int
    n_transcripts: int
    n_groups: int
    subsample: str | None = Field(description="how the data was subsampled, if it was")


class FoldInfo(_Frozen):
    k: int
    grouping: str
    seed: int
    leave_one_group_out: bool


class Report(_Frozen):
    created: str
    intercoder_version: str
    codebook_name: str
    codebook_version: str
    model_id: str
    kind: SchemeKind
    dataset: DatasetInfo
    folds: FoldInfo
    package_versions: dict[str, str]
    human_agreement: HumanAgreement | None
    human_reference: HumanReference | None
    methods: list[MethodResult]
    learning_curve: LearningCurve | None
    notes: list[str]
    active_learning: ActiveLearning | None = None
