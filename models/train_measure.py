"""How fast fine-tuning runs on this machine, measured on a sample before the long work.

A sample of the training units (two batches' worth) goes once through the lower layers, once
through the trained layers without gradients, and through training steps on a copy of the
trained layers: seconds per padded token for each kind of work
(:class:`models.train_progress.Rates`), which :func:`workload`'s padded tokens of each phase
turn into seconds. The copy, torch's forked random state and generators of their own leave the
run exactly as it would be unmeasured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import NDArray

from models.finetune_layers import (
    TopLayers,
    UnitCache,
    by_length_batches,
    length_batches,
    padded_tokens,
)
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
    """Seconds per padded token of caching, of a forward pass and of a training step.

    The sample runs as the run's batches do: the lower layers and the forward pass over it in
    batches by length, the steps over two halves of it by length, after one untimed step (the
    first backward pass also sets up what later ones reuse).
    """
    size = min(len(rows), 2 * config.batch_size)
    sample = np.random.default_rng(_SAMPLE_SEED).choice(rows, size=size, replace=False)
    sample = sample[np.argsort(cache.lengths[sample], kind="stable")]
    halves = np.array_split(sample, 2 if size > 1 else 1)
    trial = model.trial_copy()
    with torch.random.fork_rng():  # dropout in the trial steps draws from a forked generator
        started = clock()
        for half in halves:
            states = model.lower_states(*cache.padded(half))
            cache.states_of(half, states)
        lowered = clock()
        with torch.no_grad():
            trial.top.eval()
            for half in halves:
                trial.pooled(*cache.batch(half))
        forwarded = clock()
        optimizer = torch.optim.AdamW(trial.parameters(), lr=config.learning_rate)
        _trial_step(trial, optimizer, cache, halves[0])
        warmed = clock()
        for half in halves:
            _trial_step(trial, optimizer, cache, half)
        stepped = clock()
    cache.forget(sample)
    tokens = max(1, padded_tokens(cache.lengths, halves))
    return Rates(
        lower=(lowered - started) / tokens,
        forward=(forwarded - lowered) / tokens,
        step=(stepped - warmed) / tokens,
    )


def _trial_step(
    trial: TopLayers, optimizer: torch.optim.Optimizer, cache: UnitCache, rows: NDArray[np.intp]
) -> None:
    trial.top.train()
    logits = trial.logits(*cache.batch(rows))
    loss = logits.square().mean()  # any loss costs the same backward pass
    optimizer.zero_grad()
    loss.backward()  # type: ignore[no-untyped-call]
    torch.nn.utils.clip_grad_norm_(trial.parameters(), 1.0)
    optimizer.step()


def workload(
    lengths: NDArray[np.intp], schedule: TrainSchedule, steps_done: int, config: TrainConfig
) -> Workload:
    """The padded tokens each phase reads from ``steps_done`` on (0 unless continuing)."""
    checks = (
        sum(
            is_check_step(step, schedule.total, schedule.check_every)
            for step in range(steps_done + 1, schedule.total + 1)
        )
        if len(schedule.held_rows)
        else 0
    )
    # An epoch's batches as the run draws them (from a generator of its own: the run's is
    # untouched), for the padded tokens of an average step.
    epoch = length_batches(
        lengths, schedule.fit_rows, config.batch_size, np.random.default_rng(_SAMPLE_SEED)
    )
    every_unit = np.arange(len(lengths), dtype=np.intp)
    return Workload(
        tokens=padded_tokens(lengths, by_length_batches(lengths, every_unit)),
        steps=schedule.total - steps_done,
        tokens_per_step=padded_tokens(lengths, epoch) / max(1, len(epoch)),
        checks=checks,
        tokens_per_check=padded_tokens(lengths, by_length_batches(lengths, schedule.held_rows)),
    )
