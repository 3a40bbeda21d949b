"""The ``attention`` model of :mod:`eval.context_window`: one transformer layer over turn vectors.

The window's frozen turn vectors get a speaker-role embedding (the unit itself, the same speaker,
the other speaker) and a position embedding; one self-attention layer reads them, and the
unit's own vector beside the layer's output for it feeds a softmax over the scheme's codes.
Settings are fixed in advance (not tuned on any fold): 4 heads, dropout 0.1, AdamW at 1e-3,
batches of 64, at most 20 epochs, early stopping after 3 epochs without a lower loss on a tenth
of the training transcripts (the fine-tuning's inner split).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import NDArray

from models.finetune import inner_split

if TYPE_CHECKING:
    from eval.context_window import Dialogue

EPOCHS, PATIENCE, BATCH, LEARNING_RATE, SEED = 20, 3, 64, 1e-3, 0


class WindowAttention(torch.nn.Module):
    def __init__(self, dim: int, window: int, classes: int) -> None:
        super().__init__()
        self.roles = torch.nn.Embedding(3, dim)
        self.positions = torch.nn.Embedding(window + 1, dim)
        self.layer = torch.nn.TransformerEncoderLayer(
            dim, nhead=4, dim_feedforward=dim, dropout=0.1, batch_first=True
        )
        self.head = torch.nn.Linear(2 * dim, classes)

    def forward(
        self, turns: torch.Tensor, roles: torch.Tensor, missing: torch.Tensor
    ) -> torch.Tensor:
        positions = torch.arange(turns.shape[1]).expand(turns.shape[0], -1)
        states = turns + self.roles(roles) + self.positions(positions)
        read = self.layer(states, src_key_padding_mask=missing)[:, 0]
        return self.head(torch.cat([turns[:, 0], read], dim=1))  # type: ignore[no-any-return]


def _window_tensors(
    vectors: NDArray[np.float32],
    speakers: NDArray[np.str_],
    rows: NDArray[np.intp],
    before: NDArray[np.intp],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Turn vectors (units, 1 + window, dim), roles (0 unit, 1 same, 2 other), missing mask."""
    sequence = np.hstack([rows[:, None], before])
    missing = sequence < 0
    safe = np.maximum(sequence, 0)
    same = speakers[safe] == speakers[rows][:, None]
    roles = np.where(same, 1, 2)
    roles[:, 0] = 0
    turns = np.where(missing[..., None], 0.0, vectors[safe]).astype(np.float32)
    return torch.from_numpy(turns), torch.from_numpy(roles), torch.from_numpy(missing)


def attention_predict(
    vectors: NDArray[np.float32],
    speakers: NDArray[np.str_],
    rows: NDArray[np.intp],
    before: NDArray[np.intp],
    dialogue: Dialogue,
    train: NDArray[np.intp],
    test: NDArray[np.intp],
) -> NDArray[np.str_]:
    torch.manual_seed(SEED)
    classes, targets = np.unique(dialogue.labels[train], return_inverse=True)
    fit, held = inner_split([dialogue.groups[i] for i in train], 0.1, SEED)
    model = WindowAttention(vectors.shape[1], before.shape[1], len(classes))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    train_tensors = _window_tensors(vectors, speakers, rows[train], before[train])
    y = torch.from_numpy(targets.astype(np.int64))
    rng = np.random.default_rng(SEED)
    best_loss, best_state, waited = float("inf"), copy.deepcopy(model.state_dict()), 0
    for _ in range(EPOCHS):
        model.train()
        order = torch.from_numpy(rng.permutation(fit))
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            logits = model(*(part[chosen] for part in train_tensors))
            loss = torch.nn.functional.cross_entropy(logits, y[chosen])
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
        if not len(held):  # under 3 training transcripts: no early stopping
            best_state = copy.deepcopy(model.state_dict())
            continue
        held_loss = _loss(model, train_tensors, y, torch.from_numpy(held))
        if held_loss < best_loss:
            best_loss, best_state, waited = held_loss, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= PATIENCE:
                break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        logits = model(*_window_tensors(vectors, speakers, rows[test], before[test]))
    return np.asarray(classes[logits.argmax(dim=1).numpy()])


@torch.no_grad()
def _loss(
    model: WindowAttention,
    tensors: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    y: torch.Tensor,
    rows: torch.Tensor,
) -> float:
    model.eval()
    logits = model(*(part[rows] for part in tensors))
    return float(torch.nn.functional.cross_entropy(logits, y[rows]))
