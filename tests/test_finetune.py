"""Fine-tuning: the label layout, the loss, inner split, batches, and the real model's top layers
trained over cached lower layers, whose embeddings equal the saved model's own encoding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from codebook.loader import load_codebook
from models.encoder import bundled_model_dir, load_sentence_transformer
from models.finetune import (
    LabelLayout,
    TrainConfig,
    classification_loss,
    fine_tune,
    inner_split,
    label_layout,
)
from models.finetune_layers import length_batches

CLIENT = load_codebook("annomi-client")  # one exclusive category: change, neutral, sustain
INTERVIEW = load_codebook("interview")  # 75 codes, none exclusive


def _labels(rows: list[list[bool]]) -> np.ndarray:
    return np.array(rows, dtype=bool)


def test_a_single_label_category_is_one_softmax_group() -> None:
    labels = _labels([[True, False, False], [False, False, True]])
    assert label_layout(CLIENT, labels) == LabelLayout(((0, 1, 2),), ())


def test_a_category_some_units_leave_empty_falls_back_to_sigmoids() -> None:
    labels = _labels([[True, False, False], [False, False, False]])
    assert label_layout(CLIENT, labels) == LabelLayout((), (0, 1, 2))


def test_multi_label_codebook_is_all_sigmoids() -> None:
    labels = np.zeros((2, len(INTERVIEW.codable_ids)), dtype=bool)
    layout = label_layout(INTERVIEW, labels)
    assert layout.softmax_groups == ()
    assert layout.sigmoid_columns == tuple(range(len(INTERVIEW.codable_ids)))


def test_loss_is_cross_entropy_for_softmax_groups_and_bce_for_the_rest() -> None:
    logits = torch.tensor([[2.0, 0.5, -1.0, 0.3], [0.1, 0.2, 3.0, -0.4]])
    targets = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]])
    layout = LabelLayout(((0, 1, 2),), (3,))
    softmax = torch.nn.functional.cross_entropy(logits[:, :3], torch.tensor([0, 2]))
    sigmoid = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 3], targets[:, 3])
    assert float(classification_loss(logits, targets, layout)) == pytest.approx(
        float(softmax + sigmoid)
    )


@given(st.lists(st.sampled_from("abcdefghij"), min_size=1, max_size=60), st.integers(0, 5))
def test_inner_split_holds_out_whole_groups(groups: list[str], seed: int) -> None:
    kept, held = inner_split(groups, 0.1, seed)
    assert sorted([*kept, *held]) == list(range(len(groups)))
    assert not {groups[i] for i in kept} & {groups[i] for i in held}
    if len(set(groups)) >= 3:
        assert len(held) > 0


@given(st.lists(st.integers(1, 96), min_size=1, max_size=300), st.integers(1, 40))
def test_length_batches_use_every_row_once(lengths: list[int], size: int) -> None:
    rows = np.arange(len(lengths), dtype=np.intp)
    batches = length_batches(np.array(lengths), rows, size, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == rows.tolist()
    assert all(1 <= len(batch) <= size for batch in batches)


TEXTS = [
    ("I really want to quit smoking this year.", "change"),
    ("I'm ready to cut down on drinking.", "change"),
    ("I think I can stop if I try.", "change"),
    ("I like smoking, it calms me down.", "sustain"),
    ("I don't see a problem with my drinking.", "sustain"),
    ("Quitting is not for me right now.", "sustain"),
    ("I work at the bank on Mondays.", "neutral"),
    ("My sister lives in Leeds.", "neutral"),
    ("We had pasta for dinner.", "neutral"),
]


@pytest.fixture(scope="module")
def tuned() -> Any:
    model = load_sentence_transformer(bundled_model_dir(), "cpu")
    before = {name: p.detach().clone() for name, p in model[0].auto_model.named_parameters()}
    inputs = [f"client: {text} [SEP] How are things?" for text, _ in TEXTS] * 2
    codes = [code for _, code in TEXTS] * 2
    labels = np.array([[code == c for c in CLIENT.codable_ids] for code in codes])
    train_rows = np.arange(12, dtype=np.intp)  # the last 6 units are only embedded
    groups = [f"t{i % 4}" for i in range(12)]
    config = TrainConfig(epochs=2, batch_size=4, max_steps=6, trained_layers=2)
    result = fine_tune(
        model[0].auto_model,
        model.tokenizer,
        inputs,
        train_rows,
        labels[train_rows],
        groups,
        label_layout(CLIENT, labels),
        config,
    )
    return model, before, inputs, result


def test_only_the_top_layers_change(tuned: Any) -> None:
    model, before, _, _ = tuned
    changed = {
        name
        for name, p in model[0].auto_model.named_parameters()
        if not torch.equal(p, before[name])
    }
    assert changed, "training changed nothing"
    assert all(name.startswith(("encoder.layer.4.", "encoder.layer.5.")) for name in changed)


def test_embeddings_from_the_cache_equal_the_tuned_models_own_encoding(
    tuned: Any,
) -> None:
    model, _, inputs, result = tuned
    model.max_seq_length = TrainConfig().max_length
    encoded = model.encode(inputs, normalize_embeddings=True, convert_to_numpy=True)
    assert result.embeddings.shape == (len(inputs), 384)
    assert np.allclose(result.embeddings, encoded, atol=1e-5)
    assert result.result.steps == 6
    assert len(result.result.validation_losses) >= 1
