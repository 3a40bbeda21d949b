"""The time ``intercoder train`` says it expects: rates measured on a sample (here with a fake
clock, so the arithmetic is checked, not this machine's speed), the work ahead, the line; and
the phases' progress as a terminal shows it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch

from models.finetune import TrainConfig, training_schedule
from models.finetune_layers import TopLayers, UnitCache
from models.train_measure import measure_rates, workload
from models.train_progress import (
    CACHING,
    EMBEDDING,
    TRAINING,
    Estimate,
    Rates,
    TrainProgress,
    Workload,
    duration,
    estimate,
    is_check_step,
)
from service.cli import progress
from tests.test_train_resume import INPUTS, tiny_bert  # noqa: F401 (a fixture)


def test_each_phase_is_its_tokens_times_its_rate() -> None:
    work = Workload(tokens=1000, steps=10, tokens_per_step=320, checks=2, tokens_per_check=500)
    rates = Rates(lower=0.001, forward=0.0005, step=0.002)
    expected = estimate(work, rates)
    assert expected.caching == pytest.approx(1.0)  # 1000 tokens x 0.001
    assert expected.training == pytest.approx(10 * 320 * 0.002 + 2 * 500 * 0.0005)
    assert expected.embedding == pytest.approx(0.5)
    assert expected.total == pytest.approx(1.0 + 6.9 + 0.5)


def test_the_line_rounds_to_what_a_person_plans_with() -> None:
    line = Estimate(caching=65, training=7 * 60 + 10, embedding=40, steps=400).line()
    assert line.startswith("expected time: about 9 min (")
    assert "caching lower layers 65 s, 400 training steps 7 min, embedding 40 s" in line
    assert [duration(s) for s in (0.2, 89, 90, 3569, 3599, 3900)] == [
        "1 s", "89 s", "2 min", "59 min", "1 h", "1 h 5 min",
    ]  # fmt: skip


def test_checks_ahead_are_those_the_loop_will_run() -> None:
    lengths = np.array([10, 20, 30, 40, 50, 60], dtype=np.intp)
    config = TrainConfig(epochs=4, batch_size=2, max_steps=100, checks_per_epoch=2)
    schedule = training_schedule(np.arange(6, dtype=np.intp), list("aabbcc"), config)
    assert (schedule.total, schedule.check_every) == (8, 1)  # 4 fitting rows, 2 steps an epoch
    work = workload(lengths, schedule, steps_done=5, config=config)
    assert work.steps == 3
    assert work.checks == sum(is_check_step(s, 8, 1) for s in (6, 7, 8)) == 3
    # Every batch costs its size times its longest unit: inference runs the 6 units as one
    # batch; training pairs the 4 fitting units by length; the checks read the 2 held out.
    assert work.tokens == 6 * 60
    fit = np.sort(lengths[schedule.fit_rows])
    assert work.tokens_per_step == pytest.approx((2 * fit[1] + 2 * fit[3]) / 2)
    assert work.tokens_per_check == 2 * lengths[schedule.held_rows].max()


def test_settings_that_leave_nothing_to_train_on_are_refused() -> None:
    from codebook.errors import InputError

    every_group_held = TrainConfig(validation_share=1.0)
    with pytest.raises(InputError, match="holds out every training transcript"):
        training_schedule(np.arange(6, dtype=np.intp), list("aabbcc"), every_group_held)


def _fake_clock(times: list[float]) -> Iterator[float]:
    yield from times


def test_rates_are_seconds_per_sampled_token_and_leave_the_run_untouched(
    tiny_bert: tuple[Any, Any],  # noqa: F811
) -> None:
    transformer, tokenizer = tiny_bert
    config = TrainConfig(batch_size=8, epochs=1)  # two batches' worth: all 12 units sampled
    torch.manual_seed(0)
    model = TopLayers(transformer, 2, 3)
    cache = UnitCache(tokenizer(INPUTS, truncation=True, max_length=config.max_length))
    rows = np.arange(len(INPUTS), dtype=np.intp)
    weights = {name: p.detach().clone() for name, p in transformer.named_parameters()}
    random_state = torch.get_rng_state()
    # lower layers 2 s, forward 3 s, an untimed warm-up step 4 s, then two steps 6 s
    ticks = _fake_clock([100.0, 102.0, 105.0, 109.0, 115.0])
    rates = measure_rates(model, cache, rows, config, clock=lambda: next(ticks))
    by_length = np.sort(cache.lengths)
    tokens = 6 * by_length[5] + 6 * by_length[11]  # two halves by length, each padded
    assert rates == Rates(lower=2.0 / tokens, forward=3.0 / tokens, step=6.0 / tokens)
    assert all(torch.equal(p, weights[name]) for name, p in transformer.named_parameters())
    assert torch.equal(torch.get_rng_state(), random_state)  # dropout's draws were forked

    schedule = training_schedule(rows, [f"t{i % 3}" for i in range(12)], config)
    expected = estimate(workload(cache.lengths, schedule, 0, config), rates)
    inference_tokens = 12 * by_length[11]  # every unit in one inference batch
    assert expected.caching == pytest.approx(2.0 * inference_tokens / tokens)
    assert expected.embedding == pytest.approx(3.0 * inference_tokens / tokens)
    step_tokens = 8 * cache.lengths[schedule.fit_rows].max()  # 1 step: 8 fitting units
    check_tokens = 4 * cache.lengths[schedule.held_rows].max()  # 1 check: the last step
    assert expected.training == pytest.approx((6.0 * step_tokens + 3.0 * check_tokens) / tokens)


def test_phases_show_bars_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress, "shows_progress", lambda quiet: not quiet)
    with progress.training_progress(quiet=False) as (say, report):
        say("expected time: about 9 min [measured]")
        report(TrainProgress(CACHING, 64, 100))
        report(TrainProgress(TRAINING, 3, 12, held_out_loss=0.4321))
        report(TrainProgress(EMBEDDING, 100, 100))
    shown = capsys.readouterr()
    assert shown.out == ""
    assert "expected time: about 9 min [measured]" in shown.err  # text, not rich markup
    for phase in (CACHING, TRAINING, EMBEDDING):
        assert phase in shown.err
    assert "3/12" in shown.err
    assert "held-out loss 0.432" in shown.err
    assert "ETA" in shown.err


def test_in_a_pipe_the_lines_and_each_phases_time_show_and_quiet_shows_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for quiet in (False, True):  # under pytest, stderr is no terminal
        with progress.training_progress(quiet=quiet) as (say, report):
            say("expected time: about 1 min")
            report(TrainProgress(TRAINING, 3, 12))
            report(TrainProgress(TRAINING, 12, 12))
            report(TrainProgress(TRAINING, 12, 12))  # said once
    assert capsys.readouterr() == (
        "",
        "expected time: about 1 min\ntraining: 12 done in 0 s\n",
    )
