"""Training stopped and continued from its checkpoints reaches the same model as a run never
stopped; a checkpoint of other inputs is refused; a stop before any step keeps nothing.

The quick tests train a tiny randomly initialised BERT (3 layers of width 32, MiniLM's
tokenizer) through the same ``fine_tune`` as the real model; the slow one trains MiniLM through
``train_project_model``, as ``intercoder train`` does.
"""

from __future__ import annotations

import copy
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from codebook.loader import load_codebook
from models.errors import CheckpointMismatchError, ModelIntegrityError
from models.finetune import FineTuned, TrainConfig, TrainControl, fine_tune, label_layout
from models.train_checkpoint import (
    STATE_FILE,
    CheckpointPlan,
    TrainingInterrupted,
    checkpoint_folder,
    checkpoints_in,
    load_checkpoint,
)
from models.train_progress import CACHING, TRAINING, TrainProgress

CLIENT = load_codebook("annomi-client")
TEXTS = [
    ("I really want to quit smoking this year.", "change"),
    ("I'm ready to cut down on drinking.", "change"),
    ("I like smoking, it calms me down.", "sustain"),
    ("I don't see a problem with my drinking.", "sustain"),
    ("I work at the bank on Mondays.", "neutral"),
    ("My sister lives in Leeds.", "neutral"),
]
INPUTS = [f"client: {text} [SEP] How are things?" for text, _ in TEXTS] * 2
LABELS = np.array([[code == c for c in CLIENT.codable_ids] for _, code in TEXTS * 2])
GROUPS = [f"t{i % 3}" for i in range(12)]  # one transcript held out, 8 units to fit
# 4 steps an epoch, a check every 2 steps, dropout on (so torch's random state matters too).
# The tiny model has 3 layers: train 2 of them (the default, 4, is for MiniLM's 6).
TINY = TrainConfig(
    epochs=3, batch_size=2, max_steps=12, checks_per_epoch=2, seed=3, trained_layers=2
)


@pytest.fixture(scope="module")
def tiny_bert() -> tuple[Any, Any]:
    from transformers import AutoTokenizer, BertConfig, BertModel

    from models.encoder import bundled_model_dir

    tokenizer = AutoTokenizer.from_pretrained(str(bundled_model_dir()))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    return BertModel(config), tokenizer


def _plan(models: Path, digest: str = "a" * 64) -> CheckpointPlan:
    return CheckpointPlan(checkpoint_folder(models, digest), digest, every=3, note="tiny")


def _control(
    plan: CheckpointPlan | None, stop_at: int | None, phase: str = TRAINING
) -> TrainControl:
    stop = threading.Event()

    def report(progress: TrainProgress) -> None:
        if progress.phase == phase and progress.done == stop_at:
            stop.set()  # as the signal handler does: the run stops after this step

    return TrainControl(report=report, stop=stop, checkpoint=plan)


def _tune(
    tiny_bert: tuple[Any, Any], control: TrainControl, config: TrainConfig = TINY
) -> tuple[Any, FineTuned]:
    transformer = copy.deepcopy(tiny_bert[0])
    rows = np.arange(12, dtype=np.intp)
    layout = label_layout(CLIENT, LABELS)
    args = (INPUTS, rows, LABELS, GROUPS, layout, config, control)
    return transformer, fine_tune(transformer, tiny_bert[1], *args)


def _stopped(tiny_bert: tuple[Any, Any], plan: CheckpointPlan, step: int) -> TrainingInterrupted:
    with pytest.raises(TrainingInterrupted) as stopped:
        _tune(tiny_bert, _control(plan, step))
    return stopped.value


@pytest.fixture(scope="module")
def uninterrupted(tiny_bert: tuple[Any, Any]) -> tuple[Any, FineTuned]:
    return _tune(tiny_bert, TrainControl())


def _same_run(run: tuple[Any, FineTuned], expected: tuple[Any, FineTuned]) -> None:
    (model, tuned), (expected_model, expected_tuned) = run, expected
    assert tuned.result.steps == expected_tuned.result.steps
    assert tuned.result.validation_losses == expected_tuned.result.validation_losses
    assert tuned.result.best_check == expected_tuned.result.best_check
    weights = expected_model.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, weights[name]), name
    assert np.array_equal(tuned.embeddings, expected_tuned.embeddings)


def test_stopped_twice_and_continued_equals_a_run_never_stopped(
    tiny_bert: tuple[Any, Any], uninterrupted: tuple[Any, FineTuned], tmp_path: Path
) -> None:
    plan = _plan(tmp_path)
    first = _stopped(tiny_bert, plan, 5)  # mid-epoch, between periodic checkpoints
    assert (first.step, first.total, first.folder) == (5, 12, plan.folder)
    assert load_checkpoint(plan).loop.step == 5  # type: ignore[union-attr]
    assert _stopped(tiny_bert, plan, 8).step == 8  # the end of an epoch
    resumed = _tune(tiny_bert, _control(plan, None))
    assert resumed[1].result.resumed_at == 8
    _same_run(resumed, uninterrupted)
    assert uninterrupted[1].result.validation_losses  # early stopping had checks to compare


def test_every_layer_trained_without_checks_continues_the_same(
    tiny_bert: tuple[Any, Any], tmp_path: Path
) -> None:
    """Another corner of the settings: no frozen layer to cache, no held-out split."""
    config = TrainConfig(
        epochs=2, batch_size=3, max_steps=5, trained_layers=3, validation_share=0.0, seed=5
    )
    plan = _plan(tmp_path)
    for step in (2, 4):
        with pytest.raises(TrainingInterrupted):
            _tune(tiny_bert, _control(plan, step), config)
    resumed = _tune(tiny_bert, _control(plan, None), config)
    assert resumed[1].result.resumed_at == 4
    _same_run(resumed, _tune(tiny_bert, TrainControl(), config))


def test_a_checkpoint_at_the_last_step_skips_training(
    tiny_bert: tuple[Any, Any], uninterrupted: tuple[Any, FineTuned], tmp_path: Path
) -> None:
    plan = _plan(tmp_path)
    assert _stopped(tiny_bert, plan, 12).step == 12  # stopped before the embedding
    again = _tune(tiny_bert, _control(plan, None))
    assert again[1].result.resumed_at == 12
    _same_run(again, uninterrupted)


def test_a_checkpoint_of_other_inputs_is_refused(
    tiny_bert: tuple[Any, Any], tmp_path: Path
) -> None:
    plan = _plan(tmp_path)
    _stopped(tiny_bert, plan, 3)
    other = _plan(tmp_path, "b" * 64)
    shutil.copytree(plan.folder, other.folder)  # moved by hand into another run's place
    with pytest.raises(CheckpointMismatchError, match="written for other training inputs"):
        load_checkpoint(other)
    with pytest.raises(CheckpointMismatchError):
        _tune(tiny_bert, _control(other, None))
    assert [(about.step, about.note) for about in checkpoints_in(tmp_path)] == [(3, "tiny")] * 2
    (plan.folder / STATE_FILE).write_bytes(b"not a checkpoint")
    with pytest.raises(ModelIntegrityError, match=f"delete {plan.folder}"):
        load_checkpoint(plan)


def test_a_stop_while_caching_keeps_no_checkpoint(
    tiny_bert: tuple[Any, Any], tmp_path: Path
) -> None:
    plan = _plan(tmp_path)
    with pytest.raises(TrainingInterrupted) as stopped:
        _tune(tiny_bert, _control(plan, 0, phase=CACHING))
    assert (stopped.value.step, stopped.value.folder) == (0, None)
    assert not plan.folder.exists()


@pytest.mark.slow
def test_minilm_stopped_and_continued_saves_the_same_weights(tmp_path: Path) -> None:
    from models.model_card import read_card
    from models.project_model import (
        frame_training_hash,
        save_project_model,
        train_project_model,
    )
    from tests.test_project_model import _frame

    config = TrainConfig(epochs=2, batch_size=4, max_steps=6, seed=1, trained_layers=2)
    digest = frame_training_hash(_frame(), CLIENT, config)
    plan = _plan(tmp_path / "models", digest)
    with pytest.raises(TrainingInterrupted):
        train_project_model(_frame(), CLIENT, config, _control(plan, 3))
    resumed = train_project_model(_frame(), CLIENT, config, _control(plan, None))
    never_stopped = train_project_model(_frame(), CLIENT, config)
    assert resumed.result.resumed_at == 3
    folders = [
        save_project_model(trained, tmp_path / name)
        for name, trained in (("resumed", resumed), ("plain", never_stopped))
    ]
    resumed_card, plain_card = (read_card(folder) for folder in folders)
    assert resumed_card is not None
    assert plain_card is not None
    assert resumed_card.weights_sha256 == plain_card.weights_sha256  # the same bytes saved
    assert resumed_card.validation_losses == plain_card.validation_losses
