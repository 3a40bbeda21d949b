"""Checkpoints of a fine-tuning run: stop it (Ctrl-C, SIGTERM) and continue it later.

A checkpoint holds everything the training loop needs to go on as if it had never stopped:
the trained modules' weights, the optimizer's and the learning-rate schedule's state, the step,
the random generators (numpy's as it was when the current epoch's batches were drawn, torch's
for dropout) and the early-stopping record (every held-out loss and the best weights so far).
Continued from it, a run reaches the same weights as one that was never interrupted.

It is one file written to a temporary name and renamed over the last one, so a kill leaves
either the old checkpoint or the new one, never half of one. Its folder is named after the
training hash (the data, codebook and settings, :func:`models.project_model.training_hash`),
and the file records the hash too: a checkpoint written for other inputs is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from models.errors import CheckpointMismatchError, ModelIntegrityError

CHECKPOINTS_DIR = ".checkpoints"
STATE_FILE = "checkpoint.pt"
ABOUT_FILE = "checkpoint.json"  # what the checkpoint is of, readable without loading it
_FORMAT = 1


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on request; a Ctrl-C, so whatever does not catch it ends as one."""

    def __init__(self, step: int, total: int, folder: Path | None) -> None:
        super().__init__(f"training stopped at step {step} of {total}")
        self.step = step
        self.total = total
        self.folder = folder  # the checkpoint to continue from, None when nothing was saved


@dataclass(frozen=True)
class CheckpointPlan:
    """Where a run keeps its checkpoint, for which inputs, and how often it writes one."""

    folder: Path
    training_sha256: str
    every: int = 25  # training steps between checkpoints (one is written on stop, too)
    note: str = ""  # how the run was asked for, said when another run meets this checkpoint


@dataclass
class LoopState:
    """The training loop's own state, beside the modules' and the optimizer's."""

    step: int
    epoch_first_step: int  # the step the current epoch started at
    epoch_rng: dict[str, Any]  # numpy's generator before it drew this epoch's batches
    losses: list[float]
    best: dict[str, torch.Tensor] | None  # the trained layers at the best held-out loss


@dataclass(frozen=True)
class Checkpoint:
    loop: LoopState
    total: int
    torch_rng: torch.Tensor
    modules: dict[str, dict[str, torch.Tensor]]
    optimizer: dict[str, Any]
    schedule: dict[str, Any]


@dataclass(frozen=True)
class CheckpointAbout:
    """A checkpoint's summary, read from its small JSON file."""

    folder: Path
    training_sha256: str
    step: int
    total: int
    note: str


def checkpoint_folder(models_dir: Path, training_sha256: str) -> Path:
    """Where a run with these inputs keeps its checkpoint (beside the models it makes)."""
    return models_dir / CHECKPOINTS_DIR / f"intercoder-tuned-{training_sha256[:16]}"


def save_checkpoint(plan: CheckpointPlan, checkpoint: Checkpoint) -> None:
    """Write the checkpoint atomically: the old one stays whole until the new one is."""
    plan.folder.mkdir(parents=True, exist_ok=True)
    state = {
        "format": _FORMAT,
        "training_sha256": plan.training_sha256,
        "total": checkpoint.total,
        "loop": vars(checkpoint.loop),
        "torch_rng": checkpoint.torch_rng,
        "modules": checkpoint.modules,
        "optimizer": checkpoint.optimizer,
        "schedule": checkpoint.schedule,
    }
    _replace(plan.folder / STATE_FILE, lambda path: torch.save(state, path))
    about = {
        "training_sha256": plan.training_sha256,
        "step": checkpoint.loop.step,
        "total": checkpoint.total,
        "note": plan.note,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(about, indent=2) + "\n"
    _replace(plan.folder / ABOUT_FILE, lambda path: path.write_text(text, encoding="utf-8"))


def load_checkpoint(plan: CheckpointPlan) -> Checkpoint | None:
    """The plan's checkpoint, None if there is none; refused if written for other inputs."""
    path = plan.folder / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        found, loop = state["training_sha256"], LoopState(**state["loop"])
    except Exception as error:  # torch raises many kinds for a damaged file
        raise ModelIntegrityError(
            f"the training checkpoint {path} cannot be read ({error}); delete {plan.folder} "
            "to train from the start"
        ) from error
    if found != plan.training_sha256:
        raise CheckpointMismatchError(
            f"the checkpoint in {plan.folder} was written for other training inputs (training "
            f"sha256 {found[:16]}...), not these ({plan.training_sha256[:16]}...); delete that "
            "folder or train with the inputs and options it was written for"
        )
    return Checkpoint(
        loop=loop,
        total=int(state["total"]),
        torch_rng=state["torch_rng"],
        modules=state["modules"],
        optimizer=state["optimizer"],
        schedule=state["schedule"],
    )


def snapshot(
    modules: dict[str, torch.nn.Module],
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    loop: LoopState,
    total: int,
) -> Checkpoint:
    """The run's state now: what :func:`save_checkpoint` writes."""
    return Checkpoint(
        loop=loop,
        total=total,
        torch_rng=torch.get_rng_state(),
        modules={name: module.state_dict() for name, module in modules.items()},
        optimizer=optimizer.state_dict(),
        schedule=schedule.state_dict(),
    )


def restore(
    checkpoint: Checkpoint,
    total: int,
    modules: dict[str, torch.nn.Module],
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
) -> LoopState:
    """Put the checkpoint's weights, optimizer, schedule and random state back in place."""
    try:
        if checkpoint.total != total:
            raise ValueError(f"{checkpoint.total} steps planned, not {total}")
        for name, module in modules.items():
            module.load_state_dict(checkpoint.modules[name])
        optimizer.load_state_dict(checkpoint.optimizer)
        schedule.load_state_dict(checkpoint.schedule)
    except (KeyError, ValueError, RuntimeError) as error:
        raise CheckpointMismatchError(
            f"the training checkpoint does not fit this training ({error}): it was written by "
            "another version of intercoder; delete its folder to train from the start"
        ) from error
    torch.set_rng_state(checkpoint.torch_rng)
    return dataclasses.replace(checkpoint.loop, losses=list(checkpoint.loop.losses))


def checkpoints_in(models_dir: Path) -> list[CheckpointAbout]:
    """The checkpoints kept in a models folder, oldest name first; unreadable ones skipped."""
    found = []
    for about in sorted((models_dir / CHECKPOINTS_DIR).glob(f"*/{ABOUT_FILE}")):
        try:
            fields = json.loads(about.read_text(encoding="utf-8"))
            found.append(
                CheckpointAbout(
                    folder=about.parent,
                    training_sha256=str(fields["training_sha256"]),
                    step=int(fields["step"]),
                    total=int(fields["total"]),
                    note=str(fields.get("note", "")),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a summary is a courtesy; the state file itself is what is checked
    return found


def remove_checkpoint(plan: CheckpointPlan) -> None:
    """Delete the checkpoint once the model it leads to is saved (and the checkpoints folder
    with it when no other run's is left there)."""
    shutil.rmtree(plan.folder, ignore_errors=True)
    with contextlib.suppress(OSError):  # another run's checkpoint is still there
        plan.folder.parent.rmdir()


def _replace(target: Path, write: Any) -> None:
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(staging)
        with open(staging, "rb") as written:
            os.fsync(written.fileno())
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
