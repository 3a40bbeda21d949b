"""The card of a project model: what it was trained from and how, stored beside its weights.

Kept apart from training so that loading a model (:mod:`models.encoder`) needs no torch training
code, only this file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from models.errors import ModelIntegrityError

CARD_FILE = "intercoder-model.json"


class ProjectModelCard(BaseModel):
    """What a project model was trained from and how; stored beside its weights."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    base_model: str
    base_weights_sha256: str
    weights_sha256: str
    training_sha256: str
    codebook_name: str
    codebook_version: str
    context_turns: int
    max_length: int
    train_config: dict[str, float | int]
    n_units: int
    n_groups: int
    train_seconds: float
    validation_losses: list[float]
    created: str


def read_card(folder: Path) -> ProjectModelCard | None:
    """The folder's project-model card, or None for a plain sentence-transformers folder."""
    path = folder / CARD_FILE
    if not path.is_file():
        return None
    try:
        return ProjectModelCard.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ModelIntegrityError(
            f"{path} is not a valid intercoder model card ({error}); retrain with "
            "`intercoder train` or remove the file"
        ) from None
