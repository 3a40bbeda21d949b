"""Fine-tune the sentence encoder on a project's own coded units, read with their context.

The encoder is trained end to end as a classifier of the units' codes: mean-pooled token states
feed a linear head, with one softmax per exclusive category whose every training unit carries
one of its codes and a sigmoid for every other code. The head is thrown away afterwards: what
the project keeps is the tuned encoder, whose embeddings fill the exemplar index, so evidence is
still "the nearest human-coded units", now in a space where units close together share codes.

On a 2-core CPU the cost is the forward and backward passes. The embeddings and lower layers
stay frozen, so their output is computed once per unit and cached; each epoch then runs only
the top layers. Batches group units of similar length (little padding), and the best state by
the loss on an inner split of the training transcripts (a held-out tenth of the groups, never
the caller's test fold) is what is kept: early stopping without a second pass.

A caller watches and steers a run through :class:`TrainControl`: progress of each phase
(:mod:`models.train_progress`), an estimate of the time measured on this machine first
(:mod:`models.train_measure`), checkpoints to stop and continue from, and a stop request
(:mod:`models.train_checkpoint`). There is one training loop, with or without them.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from codebook.errors import InputError
from codebook.model import Codebook
from models.finetune_layers import TopLayers, UnitCache, by_length_batches, length_batches
from models.train_checkpoint import (
    STATE_FILE,
    Checkpoint,
    CheckpointPlan,
    LoopState,
    TrainingInterrupted,
    load_checkpoint,
    restore,
    save_checkpoint,
    snapshot,
)
from models.train_measure import measure_rates, workload
from models.train_progress import (
    EMBEDDING,
    TRAINING,
    Report,
    TrainProgress,
    estimate,
    is_check_step,
)


@dataclass(frozen=True)
class TrainConfig:
    """Fixed once for every dataset (never tuned on a test fold); see eval/RESULTS.md.

    ``trained_layers`` is 4 since issue 15: issue 7 left it at 2 until 4 layers were measured
    on SwDA as well, and 4 then held on all three datasets (AnnoMI therapist 0.696 against
    0.648, client 0.290 against 0.278, SwDA 0.686 against 0.659), within the training-time
    budget."""

    epochs: int = 3
    learning_rate: float = 1e-4
    head_learning_rate: float = 2e-3
    batch_size: int = 32
    max_length: int = 96
    trained_layers: int = 4
    validation_share: float = 0.1
    checks_per_epoch: int = 2
    max_steps: int = 400
    seed: int = 0


@dataclass(frozen=True)
class TrainResult:
    """How training went: seconds, steps, and the inner validation loss at each check."""

    seconds: float
    steps: int
    validation_losses: tuple[float, ...]
    best_check: int
    resumed_at: int = 0  # the step a checkpoint had reached, 0 for a run from the start


@dataclass(frozen=True)
class FineTuned:
    """The training record and the tuned encoder's embeddings of every unit it was given."""

    result: TrainResult
    embeddings: NDArray[np.float32]


@dataclass(frozen=True)
class LabelLayout:
    """Which label columns form softmax groups; every other column is an independent sigmoid."""

    softmax_groups: tuple[tuple[int, ...], ...]
    sigmoid_columns: tuple[int, ...]


def label_layout(codebook: Codebook, labels: NDArray[np.bool_]) -> LabelLayout:
    """Softmax for an exclusive category that every unit uses exactly once, else sigmoids."""
    column = {code: j for j, code in enumerate(codebook.codable_ids)}
    groups: list[tuple[int, ...]] = []
    for members in codebook.exclusive_groups.values():
        columns = tuple(column[code] for code in members)
        if columns and bool(np.all(labels[:, list(columns)].sum(axis=1) == 1)):
            groups.append(columns)
    in_groups = {j for group in groups for j in group}
    sigmoids = tuple(j for j in range(labels.shape[1]) if j not in in_groups)
    return LabelLayout(tuple(groups), sigmoids)


def classification_loss(
    logits: torch.Tensor, targets: torch.Tensor, layout: LabelLayout
) -> torch.Tensor:
    """Mean over units of the softmax groups' cross-entropy plus the sigmoid columns' BCE."""
    parts: list[torch.Tensor] = []
    for group in layout.softmax_groups:
        columns = list(group)
        truth = targets[:, columns].argmax(dim=1)
        parts.append(torch.nn.functional.cross_entropy(logits[:, columns], truth, reduction="sum"))
    if layout.sigmoid_columns:
        columns = list(layout.sigmoid_columns)
        parts.append(
            torch.nn.functional.binary_cross_entropy_with_logits(
                logits[:, columns], targets[:, columns], reduction="sum"
            )
        )
    return torch.stack(parts).sum() / len(logits)


def inner_split(
    groups: Sequence[str], share: float, seed: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows of the training groups and of a held-out ``share`` of them (none under 3 groups)."""
    names = sorted(set(groups))
    if len(names) < 3 or share <= 0:
        return np.arange(len(groups), dtype=np.intp), np.zeros(0, dtype=np.intp)
    count = max(1, round(share * len(names)))
    held = set(np.random.default_rng(seed).choice(names, size=count, replace=False))
    held_mask = np.array([group in held for group in groups])
    return np.flatnonzero(~held_mask).astype(np.intp), np.flatnonzero(held_mask).astype(np.intp)


@dataclass(frozen=True)
class TrainSchedule:
    """The inner split and the step plan, fixed by the data and the config before training."""

    fit_rows: NDArray[np.intp]
    held_rows: NDArray[np.intp]
    steps_per_epoch: int
    total: int
    check_every: int


def training_schedule(
    train_rows: NDArray[np.intp], groups: Sequence[str], config: TrainConfig
) -> TrainSchedule:
    fit_positions, held_positions = inner_split(groups, config.validation_share, config.seed)
    if len(fit_positions) == 0:  # else the loop would wait forever for a batch
        raise InputError(
            f"validation_share {config.validation_share} holds out every training transcript; "
            "lower it so that some are left to train on"
        )
    steps_per_epoch = int(np.ceil(len(fit_positions) / config.batch_size))
    total = max(1, min(steps_per_epoch * config.epochs, config.max_steps))
    check_every = max(1, min(steps_per_epoch, total) // max(1, config.checks_per_epoch))
    return TrainSchedule(
        train_rows[fit_positions], train_rows[held_positions], steps_per_epoch, total, check_every
    )


def _ignore(_: object) -> None:
    return None


@dataclass(frozen=True)
class TrainControl:
    """How a caller watches and steers a run; nothing here changes the weights it reaches."""

    report: Report = _ignore  # each phase's progress, for a bar
    say: Callable[[str], None] = _ignore  # lines for a person: the estimate, a resumption
    estimate: bool = False  # measure this machine and say how long the run should take
    stop: threading.Event | None = None  # set (by a signal handler) to stop at the next step
    checkpoint: CheckpointPlan | None = None  # where to keep checkpoints and resume from


UNWATCHED = TrainControl()  # no progress, no estimate, no checkpoints: what the harness uses


def fine_tune(
    transformer: Any,
    tokenizer: Any,
    inputs: Sequence[str],
    train_rows: NDArray[np.intp],
    labels: NDArray[np.bool_],
    groups: Sequence[str],
    layout: LabelLayout,
    config: TrainConfig,
    control: TrainControl = UNWATCHED,
) -> FineTuned:
    """Train the top layers of ``transformer`` (a Hugging Face BERT-like model) in place.

    ``inputs`` are every unit to embed; the model learns from ``train_rows`` of them, whose
    ``labels`` and ``groups`` are given row for row. The other units are only embedded, with
    the tuned model, from the same cache of lower-layer states (no second encoding pass).
    With a checkpoint plan, a run continues from the plan's checkpoint when there is one.
    """
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    model = TopLayers(transformer, config.trained_layers, labels.shape[1])
    transformer.eval()
    cache = UnitCache(tokenizer(list(inputs), truncation=True, max_length=config.max_length))
    rows = np.asarray(train_rows, dtype=np.intp)
    schedule = training_schedule(rows, groups, config)
    resumed = load_checkpoint(control.checkpoint) if control.checkpoint is not None else None
    first_step = resumed.loop.step if resumed is not None else 0
    if resumed is not None and control.checkpoint is not None:
        control.say(
            f"continuing from the checkpoint at step {first_step} of {resumed.total} "
            f"in {control.checkpoint.folder}"
        )
    if control.estimate:
        rates = measure_rates(model, cache, rows, config)
        work = workload(cache.lengths, schedule, first_step, config)
        control.say(estimate(work, rates).line())
    cache.fill(model, control.report, lambda: _halt_if_asked(control, first_step, schedule.total))
    result = _train(model, cache, rows, labels, layout, config, schedule, control, resumed)
    embeddings = _embed(model, cache, control, schedule.total)
    seconds = time.perf_counter() - started
    return FineTuned(dataclasses.replace(result, seconds=seconds), embeddings)


def _train(
    model: TopLayers,
    cache: UnitCache,
    train_rows: NDArray[np.intp],
    labels: NDArray[np.bool_],
    layout: LabelLayout,
    config: TrainConfig,
    schedule: TrainSchedule,
    control: TrainControl,
    resumed: Checkpoint | None,
) -> TrainResult:
    targets = torch.zeros((len(cache.lengths), labels.shape[1]))
    targets[torch.from_numpy(train_rows)] = torch.from_numpy(labels.astype(np.float32))
    total, held_rows = schedule.total, schedule.held_rows
    optimizer = torch.optim.AdamW(
        [
            {"params": list(model.top.parameters()), "lr": config.learning_rate},
            {"params": list(model.head.parameters()), "lr": config.head_learning_rate},
        ],
        weight_decay=0.01,
    )
    warmup = max(1, total // 10)
    rate = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, (total - step) / (total - warmup + 1))
    )
    rng = np.random.default_rng(config.seed)
    loop = LoopState(0, 0, dict(rng.bit_generator.state), [], None)
    if resumed is not None:
        loop = restore(resumed, total, model.trained_modules(), optimizer, rate)
    resumed_at = loop.step
    control.report(TrainProgress(TRAINING, loop.step, total))
    while loop.step < total:
        # An epoch's batches are drawn again from the generator as it was when they were first
        # drawn; a continued run skips those its checkpoint had already trained on.
        rng.bit_generator.state = loop.epoch_rng
        batches = length_batches(cache.lengths, schedule.fit_rows, config.batch_size, rng)
        for rows in batches[loop.step - loop.epoch_first_step :]:
            _step(model, cache, rows, targets, layout, optimizer)
            rate.step()
            loop.step += 1
            if len(held_rows) and is_check_step(loop.step, total, schedule.check_every):
                loop.losses.append(_held_loss(model, cache, held_rows, targets, layout))
                if loop.losses[-1] <= min(loop.losses):
                    loop.best = copy.deepcopy(model.top.state_dict())
            latest = loop.losses[-1] if loop.losses else None
            control.report(TrainProgress(TRAINING, loop.step, total, latest))
            _keep(control, model, optimizer, rate, loop, total)
            if loop.step == total:
                break
        else:
            loop.epoch_rng, loop.epoch_first_step = dict(rng.bit_generator.state), loop.step
    if loop.best is not None:
        model.top.load_state_dict(loop.best)
    model.top.eval()
    best_check = int(np.argmin(loop.losses)) if loop.losses else -1
    return TrainResult(0.0, loop.step, tuple(loop.losses), best_check, resumed_at)


def _step(
    model: TopLayers,
    cache: UnitCache,
    rows: NDArray[np.intp],
    targets: torch.Tensor,
    layout: LabelLayout,
    optimizer: torch.optim.Optimizer,
) -> None:
    model.top.train()
    states, mask = cache.batch(rows)
    loss = classification_loss(model.logits(states, mask), targets[rows], layout)
    optimizer.zero_grad()
    loss.backward()  # type: ignore[no-untyped-call]
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def _keep(
    control: TrainControl,
    model: TopLayers,
    optimizer: torch.optim.Optimizer,
    rate: torch.optim.lr_scheduler.LRScheduler,
    loop: LoopState,
    total: int,
) -> None:
    """Write a checkpoint when one is due (every N steps, the last step, a stop request);
    then stop if asked to."""
    plan = control.checkpoint
    stopping = control.stop is not None and control.stop.is_set()
    if plan is not None and (stopping or loop.step % plan.every == 0 or loop.step == total):
        save_checkpoint(plan, snapshot(model.trained_modules(), optimizer, rate, loop, total))
    _halt_if_asked(control, loop.step, total)


def _halt_if_asked(control: TrainControl, step: int, total: int) -> None:
    if control.stop is None or not control.stop.is_set():
        return
    plan = control.checkpoint
    kept = plan is not None and (plan.folder / STATE_FILE).is_file()
    raise TrainingInterrupted(step, total, plan.folder if kept and plan else None)


@torch.no_grad()
def _embed(
    model: TopLayers, cache: UnitCache, control: TrainControl, steps: int
) -> NDArray[np.float32]:
    """Mean-pooled, L2-normalised top-layer states of every cached unit, in input order."""
    model.top.eval()
    done, total = 0, len(cache.lengths)
    out = torch.zeros((total, model.head.in_features))
    for rows in by_length_batches(cache.lengths, np.arange(total, dtype=np.intp)):
        _halt_if_asked(control, steps, steps)
        states, mask = cache.batch(rows)
        out[torch.from_numpy(rows)] = model.pooled(states, mask)
        done += len(rows)
        control.report(TrainProgress(EMBEDDING, done, total))
    return torch.nn.functional.normalize(out, dim=1).numpy().astype(np.float32)


@torch.no_grad()
def _held_loss(
    model: TopLayers,
    cache: UnitCache,
    rows: NDArray[np.intp],
    targets: torch.Tensor,
    layout: LabelLayout,
) -> float:
    model.top.eval()
    total = 0.0
    for chunk in by_length_batches(cache.lengths, rows):
        states, mask = cache.batch(chunk)
        loss = classification_loss(model.logits(states, mask), targets[chunk], layout)
        total += float(loss) * len(chunk)
    return total / len(rows)
