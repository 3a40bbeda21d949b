"""Use case: fine-tune the encoder on coded units into a project model (``intercoder train``).

The coded units come from a file, a REFI-QDA project, a public dataset, or a project of the
local store. The model folder is then used through the same coder as every other model
(``intercoder suggest --model``, ``INTERCODER_MODEL_PATH``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from codebook.errors import InputError
from codebook.model import Codebook
from eval.inputs import load_eval_input
from service.app.evaluating import subsample_transcripts, tuning_config
from service.settings import Settings
from service.store.database import Store
from service.store.exemplars import all_exemplars, coded_units
from service.store.projects import current_codebook


@dataclass(frozen=True)
class TrainingPlan:
    """Where the coded units come from and how to train; checked before any training."""

    data: str | None = None
    project: str | None = None
    codebook: str | None = None
    out: Path | None = None
    max_transcripts: int | None = None
    seed: int = 0
    shared_dir: Path | None = None
    trained_layers: int | None = None


@dataclass(frozen=True)
class TrainingOutcome:
    folder: Path
    units: int
    steps: int
    seconds: float
    validation_losses: tuple[float, ...]


def train_model(
    plan: TrainingPlan, settings: Settings, progress: Callable[[str], None]
) -> TrainingOutcome:
    """Train, save the model folder (named after the hash of its inputs) and say where."""
    from models.finetune import TrainConfig  # torch: only once training is asked for
    from models.project_model import save_project_model, train_project_model

    if (plan.data is None) == (plan.project is None):
        raise InputError(
            "give either --data (coded units, a .qdpx or a dataset) or --project (a project of "
            "the local store), not both and not neither"
        )
    if plan.project is not None:
        book, coded = project_training_data(settings, plan.project)
    else:
        source = load_eval_input(str(plan.data), plan.codebook, plan.shared_dir)
        book, coded = source.codebook, source.reference
    frame, note = subsample_transcripts(coded, plan.max_transcripts, plan.seed)
    if note:
        progress(f"training on a {note}")
    progress(
        f"training on {len(frame)} units of {frame['transcript_id'].nunique()} transcripts "
        f"({book.name}, {len(book.codable_ids)} codes)"
    )
    config = dataclasses.replace(
        tuning_config(plan.trained_layers) or TrainConfig(), seed=plan.seed
    )
    trained = train_project_model(frame, book, config, progress=progress)
    folder = save_project_model(trained, plan.out or settings.data_dir / "models")
    return TrainingOutcome(
        folder=folder,
        units=trained.card.n_units,
        steps=trained.result.steps,
        seconds=trained.card.train_seconds,
        validation_losses=tuple(trained.card.validation_losses),
    )


def project_training_data(settings: Settings, project_id: str) -> tuple[Codebook, pd.DataFrame]:
    """A stored project's codebook and its exemplars as a coded-units table."""
    store = Store(settings.database_path)
    try:
        with store.read() as connection:
            book = current_codebook(connection, project_id)
            rows = all_exemplars(connection, project_id)
    finally:
        store.close()
    return book, coded_units(rows)
