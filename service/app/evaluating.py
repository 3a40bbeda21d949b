"""Use cases: evaluate coded data (a file, a REFI-QDA project or a public dataset), or a stored
project, machine against the human coders.

Both run the evaluation harness (``eval.harness``): grouped cross-validation, every method on
the same folds, each fold's coder built as the command line and the service build theirs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from codebook.errors import InputError
from codebook.model import Codebook
from eval.active_learning import SimulationOptions
from eval.crossval import EvalData, prepare
from eval.harness import EvalOptions, evaluate
from eval.inputs import EvalInput, load_eval_input
from eval.method_names import DEFAULT_METHODS
from eval.methods import method_by_name
from eval.report_model import Report, TrustVerdict
from eval.trust import verdicts_for
from models.encoder import Encoder
from service.app.workspace import Workspace
from service.store.evaluations import last_evaluation, save_evaluation
from service.store.exemplars import all_exemplars, coded_units, exemplar_vectors
from service.store.projects import current_codebook, get_project

if TYPE_CHECKING:
    from models.finetune import TrainConfig


@dataclass(frozen=True)
class EvaluationPlan:
    """What to cross-validate, checked before any long work starts."""

    data: str
    codebook: str | None = None
    methods: tuple[str, ...] = DEFAULT_METHODS
    folds: int | None = 5
    """None: leave one group out."""
    group_by: str = "group"
    seed: int = 0
    max_transcripts: int | None = None
    max_train_units: int | None = None
    learning_method: str | None = "linear"
    shared_dir: Path | None = None
    min_share: float = 0.5
    trained_layers: int | None = None
    active_learning: SimulationOptions | None = None
    """Also simulate coding in the suggested order versus random order (its folds: ``folds``)."""


def evaluate_coded(
    plan: EvaluationPlan,
    encoder: Callable[[], Encoder],
    progress: Callable[[str], None],
    notify: Callable[[str], None] | None = None,
) -> Report:
    """Cross-validate the plan's methods on its coded data; ``encoder`` is built only once the
    inputs are known to be good. ``notify`` hears what was changed from the plan, and why."""
    train_config = tuning_config(plan.trained_layers)
    if plan.active_learning is not None:
        plan.active_learning.check()
        if plan.folds is None:
            raise InputError(
                "the active-learning simulation holds out grouped folds; leave out "
                "--leave-one-out, or run it in a separate evaluation"
            )
    chosen = [method_by_name(name, train_config) for name in plan.methods]
    if plan.learning_method is not None:
        method_by_name(plan.learning_method)  # an unknown name fails now, not after the folds
    source = load_eval_input(plan.data, plan.codebook, plan.shared_dir, min_share=plan.min_share)
    frame, note = subsample_transcripts(source.reference, plan.max_transcripts, plan.seed)
    if plan.group_by == "transcript":
        frame = frame.assign(group=frame["transcript_id"])
    folds, fold_note = fold_count(plan.folds, frame["group"].nunique())
    if fold_note is not None and notify is not None:
        notify(fold_note)
    progress("loading the model")
    model = encoder()
    progress(f"embedding {len(frame):,} units")
    data = prepare(frame, source.codebook, model)
    options = EvalOptions(
        n_folds=folds,
        seed=plan.seed,
        max_train_units=plan.max_train_units,
        learning_method=plan.learning_method,
        grouping="video (AnnoMI video_url)" if _grouped_by_video(frame) else plan.group_by,
        subsample_note=note,
        notes=(*_notes(plan.max_train_units, plan.trained_layers), *filter(None, [fold_note])),
        train_config=train_config,
        active_learning=_simulation(plan.active_learning, folds),
    )
    return evaluate(source, data, chosen, options, progress=progress)


def _simulation(chosen: SimulationOptions | None, folds: int | None) -> SimulationOptions | None:
    """The simulation on the evaluation's folds (fewer when the data has fewer groups)."""
    if chosen is None or folds is None:
        return chosen
    return dataclasses.replace(chosen, folds=folds)


def fold_count(folds: int | None, groups: int) -> tuple[int | None, str | None]:
    """The folds the data allows, and a note when that is fewer than asked (None: leave one
    group out, which any 2 groups allow). Each fold holds out whole groups, so there can be
    no more folds than groups; small data gets as many folds as it has groups."""
    if groups < 2:
        raise InputError(
            f"an evaluation holds out whole transcripts (groups), so it needs coded units from "
            f"at least 2 of them; the data has {groups}; code more transcripts"
        )
    if folds is None or folds <= groups:
        return folds, None
    return groups, (
        f"{folds} folds asked but the data has {groups} transcripts (groups); evaluating "
        f"with {groups} folds, one group held out in each"
    )


def subsample_transcripts(
    frame: pd.DataFrame, max_transcripts: int | None, seed: int
) -> tuple[pd.DataFrame, str | None]:
    """A random sample of whole transcripts, and a note saying so (None: all of them)."""
    transcripts = sorted(frame["transcript_id"].unique())
    if max_transcripts is None or max_transcripts >= len(transcripts):
        return frame, None
    chosen = set(np.random.default_rng(seed).choice(transcripts, max_transcripts, replace=False))
    note = f"random sample of {max_transcripts} of {len(transcripts)} transcripts (seed {seed})"
    return frame.loc[frame["transcript_id"].isin(chosen)].reset_index(drop=True), note


def tuning_config(trained_layers: int | None) -> TrainConfig | None:
    """The fine-tuning settings with the caller's change; None keeps the defaults (and spares
    loading torch when no tuned method runs)."""
    if trained_layers is None:
        return None
    from models.finetune import TrainConfig

    return dataclasses.replace(TrainConfig(), trained_layers=trained_layers)


def _grouped_by_video(frame: pd.DataFrame) -> bool:
    return bool(frame["group"].astype(str).str.startswith("http").any())


def _notes(max_train_units: int | None, trained_layers: int | None) -> tuple[str, ...]:
    notes = []
    if max_train_units is not None:
        notes.append(f"each fold trained on a random sample of at most {max_train_units} units")
    if trained_layers is not None:
        notes.append(f"tuned methods fine-tuned the top {trained_layers} of MiniLM's 6 layers")
    return tuple(notes)


def evaluate_stored_project(
    workspace: Workspace,
    project_id: str,
    methods: Sequence[str],
    *,
    folds: int,
    seed: int,
    max_train_units: int | None,
) -> Report:
    """Cross-validate ``methods`` on the project's exemplars, holding out whole groups; the
    report is kept as the project's last evaluation (see :func:`code_trust`)."""
    with workspace.store.read() as connection:
        codebook = current_codebook(connection, project_id)
        rows = all_exemplars(connection, project_id)
        _, vectors = exemplar_vectors(connection, project_id, workspace.encoder.dim)
    groups = tuple(row.group for row in rows)
    distinct = len(set(groups))
    if distinct < 2:
        raise InputError(
            f"an evaluation holds out whole transcripts (groups), so it needs exemplars from at "
            f"least 2 of them; project {project_id!r} has {distinct}; code more transcripts"
        )
    frame = coded_units(rows)
    data = EvalData(
        codebook=codebook, frame=frame, vectors=vectors, encoder=workspace.encoder, groups=groups
    )
    chosen = min(folds, distinct)
    options = EvalOptions(
        n_folds=chosen,
        seed=seed,
        max_train_units=max_train_units,
        learning_method=None,
        grouping="group",
        notes=(f"evaluated by the service on project {project_id!r} with {chosen} folds",),
    )
    source = EvalInput(f"project {project_id}", codebook, frame, None, None)
    report = evaluate(
        source, data, [method_by_name(name) for name in dict.fromkeys(methods)], options
    )
    with workspace.store.write() as transaction:
        get_project(transaction.connection, project_id)  # deleted meanwhile: 404, not a crash
        save_evaluation(transaction.connection, project_id, report.model_dump_json())
    return report


def code_trust(
    workspace: Workspace, project_id: str, method: str, code_ids: Sequence[str]
) -> dict[str, TrustVerdict]:
    """Each of ``code_ids``' trust verdict (``eval.trust``) from the project's last evaluation
    of ``method``: ``not_evaluated`` for every code when the project was never evaluated, or
    not with this method, and for a code the evaluation did not cover."""
    with workspace.store.read() as connection:
        stored = last_evaluation(connection, project_id)
    report = None if stored is None else _parsed_report(stored)
    return verdicts_for(report, method, code_ids)


@functools.lru_cache(maxsize=8)
def _parsed_report(stored: str) -> Report:
    """A stored report, parsed once: every suggestion reads its project's verdicts, and a
    report with its curves is worth parsing once, not per request (it is frozen, so shared)."""
    return Report.model_validate_json(stored)


def trust_from_report_file(path: Path, codebook: Codebook, method: str) -> dict[str, TrustVerdict]:
    """Each codable code's verdict from a ``report.json`` of ``intercoder evaluate``, checked
    to be such a report on the same codebook (a report on another one would say nothing)."""
    try:
        report = Report.model_validate_json(path.read_bytes())
    except (OSError, ValueError) as error:
        raise InputError(
            f"{path} is not an evaluation report: expected the report.json that `intercoder "
            f"evaluate` writes, found {_first_line(error)}; give that file, or leave the "
            "option out"
        ) from error
    if report.codebook_name != codebook.name:
        raise InputError(
            f"{path} evaluates codebook {report.codebook_name!r}, not {codebook.name!r}; give "
            "a report of this codebook's evaluation"
        )
    return verdicts_for(report, method, codebook.codable_ids)


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
