"""How fast fine-tuning runs on this machine, measured on a sample before the long work.

A sample of the training units (two batches' worth) goes once through the lower layers, once
through the trained layers without gradients, and through two training steps on a copy of the
trained layers: seconds per token for each kind of work (:class:`models.train_progress.Rates`).
The copy and torch's forked random state leave the run itself exactly as it would be unmeasured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import NDArray

from models.finetune_layers import TopLayers, UnitCache
from models.train_progress import Rates, Workload, is_check_step

if TYPE_CHECKING:
    from models.finetune import TrainConfig, TrainSchedule

Clock = Callable[[], float]
_SAMPLE_SEED = 7919  # its own generator: sampling must not move the training's


def measure_rates(
    model: TopLayers,
    cache: UnitCache,
    rows: NDArray[np.intp],
    config: TrainConfig,
    clock: Clock = time.perf_counter,
) -> Rates:
    """Seconds per token of caching, of a forward pass and of a training step, on a sample."""
    size = min(len(rows), 2 * config.batch_size)
    sample = np.random.default_rng(_SAMPLE_SEED).choice(rows, size=size, replace=False)
    sample = sample[np.argsort(cache.lengths[sample], kind="stable")]  # batches of like length
    tokens = max(1, int(cache.lengths[sample].sum()))
    trial = model.trial_copy()
    with torch.random.fork_rng():  # dropout in the trial steps draws from a forked generator
        started = clock()
        states = model.lower_states(*cache.padded(sample))
        lowered = clock()
        _, _, mask = cache.padded(sample)
        with torch.no_grad():
            trial.top.eval()
            trial.pooled(states, mask)
        forwarded = clock()
        _trial_steps(trial, states, mask, cache.lengths[sample], config)
        stepped = clock()
    return Rates(
        lower=(lowered - started) / tokens,
        forward=(forwarded - lowered) / tokens,
        step=(stepped - forwarded) / tokens,
    )


def _trial_steps(
    trial: TopLayers,
    states: torch.Tensor,
    mask: torch.Tensor,
    lengths: NDArray[np.intp],
    config: TrainConfig,
) -> None:
    """Two optimizer steps, each on half the sample, cut to that half's longest unit."""
    optimizer = torch.optim.AdamW(trial.parameters(), lr=config.learning_rate)
    trial.top.train()
    half = (len(lengths) + 1) // 2
    for start in range(0, len(lengths), half):
        end = min(start + half, len(lengths))
        longest = int(lengths[start:end].max())
        logits = trial.logits(states[start:end, :longest], mask[start:end, :longest])
        loss = logits.square().mean()  # any loss costs the same backward pass
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(trial.parameters(), 1.0)
        optimizer.step()


def workload(
    lengths: NDArray[np.intp], schedule: TrainSchedule, steps_done: int, batch_size: int
) -> Workload:
    """The tokens each phase reads from ``steps_done`` on (0 unless continuing a checkpoint)."""
    checks = (
        sum(
            is_check_step(step, schedule.total, schedule.check_every)
            for step in range(steps_done + 1, schedule.total + 1)
        )
        if len(schedule.held_rows)
        else 0
    )
    fit_lengths = lengths[schedule.fit_rows]
    return Workload(
        tokens=int(lengths.sum()),
        steps=schedule.total - steps_done,
        tokens_per_step=float(fit_lengths.mean()) * min(batch_size, len(fit_lengths)),
        checks=checks,
        tokens_per_check=int(lengths[schedule.held_rows].sum()),
    )
