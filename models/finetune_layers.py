"""The pieces fine-tuning runs on: the trainable top of the encoder, the cache of its frozen
lower layers' output for every unit (computed once, read by every epoch), and the batches.

Each batch is padded to its longest unit, so the work a batch costs is its padded tokens
(:func:`padded_tokens`): what the time estimate counts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from models.train_progress import CACHING, Report, TrainProgress

INFERENCE_BATCH = 64


class TopLayers:
    """The trainable top of a BERT-like encoder over cached lower-layer token states."""

    def __init__(self, transformer: Any, trained_layers: int, n_labels: int) -> None:
        layers = list(transformer.encoder.layer)
        if not 1 <= trained_layers <= len(layers):
            raise ValueError(f"trained_layers must be 1..{len(layers)}, got {trained_layers}")
        self.transformer = transformer
        self.lower = layers[: len(layers) - trained_layers]
        self.top = torch.nn.ModuleList(layers[len(layers) - trained_layers :])
        self.head = torch.nn.Linear(int(transformer.config.hidden_size), n_labels)

    @torch.no_grad()
    def lower_states(self, ids: torch.Tensor, types: torch.Tensor, mask: torch.Tensor) -> Any:
        states = self.transformer.embeddings(input_ids=ids, token_type_ids=types)
        for layer in self.lower:
            states = run_layer(layer, states, mask)
        return states

    def pooled(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean of the top layer's token states over real tokens, as sentence-transformers."""
        for layer in self.top:
            states = run_layer(layer, states, mask)
        weights = mask.unsqueeze(-1).to(states.dtype)
        return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)

    def logits(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooled(states, mask))  # type: ignore[no-any-return]

    def parameters(self) -> list[torch.nn.Parameter]:
        return [*self.top.parameters(), *self.head.parameters()]

    def trained_modules(self) -> dict[str, torch.nn.Module]:
        """Every module training changes, by name: what a checkpoint keeps."""
        return {"top": self.top, "head": self.head}

    def trial_copy(self) -> TopLayers:
        """A copy whose trained modules can be stepped without touching this one's."""
        trial = copy.copy(self)
        trial.top = copy.deepcopy(self.top)
        trial.head = copy.deepcopy(self.head)
        return trial


def run_layer(layer: Any, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # An additive float mask (0 keep, most negative float for padding) works for the eager and
    # the SDPA attention alike; the model's own forward builds the same one.
    additive = (1.0 - mask[:, None, None, :].to(states.dtype)) * torch.finfo(states.dtype).min
    out = layer(states, additive)
    return out[0] if isinstance(out, tuple) else out  # type: ignore[no-any-return]


class UnitCache:
    """Each unit's token ids and lower-layer states, padded per batch on demand."""

    def __init__(self, encoded: dict[str, list[list[int]]]) -> None:
        self.ids = [torch.tensor(row) for row in encoded["input_ids"]]
        self.types = [torch.tensor(row) for row in encoded["token_type_ids"]]
        self.lengths = np.array([len(row) for row in self.ids], dtype=np.intp)
        self.states: list[torch.Tensor] = [torch.empty(0)] * len(self.ids)

    def fill(self, model: TopLayers, report: Report, halt: Callable[[], None]) -> None:
        """Run the lower layers once over every unit, shortest first (little padding)."""
        done, total = 0, len(self.lengths)
        report(TrainProgress(CACHING, done, total))
        for rows in by_length_batches(self.lengths, np.arange(total, dtype=np.intp)):
            halt()
            self.states_of(rows, model.lower_states(*self.padded(rows)))
            done += len(rows)
            report(TrainProgress(CACHING, done, total))

    def states_of(self, rows: NDArray[np.intp], states: torch.Tensor) -> None:
        """Keep the lower-layer states of ``rows`` (padded, in their order)."""
        for position, row in enumerate(rows):
            self.states[row] = states[position, : self.lengths[row]].clone()

    def forget(self, rows: NDArray[np.intp]) -> None:
        for row in rows:
            self.states[row] = torch.empty(0)

    def padded(self, rows: NDArray[np.intp]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Token ids, token types and attention mask of ``rows``, padded to the longest."""
        pad = torch.nn.utils.rnn.pad_sequence
        ids = pad([self.ids[i] for i in rows], batch_first=True)
        types = pad([self.types[i] for i in rows], batch_first=True)
        mask = pad([torch.ones(self.lengths[i], dtype=torch.long) for i in rows], batch_first=True)
        return ids, types, mask

    def batch(self, rows: NDArray[np.intp]) -> tuple[torch.Tensor, torch.Tensor]:
        states = torch.nn.utils.rnn.pad_sequence([self.states[i] for i in rows], batch_first=True)
        mask = torch.nn.utils.rnn.pad_sequence(
            [torch.ones(self.lengths[i], dtype=torch.long) for i in rows], batch_first=True
        )
        return states, mask


def length_batches(
    lengths: NDArray[np.intp], rows: NDArray[np.intp], size: int, rng: np.random.Generator
) -> list[NDArray[np.intp]]:
    """Shuffled batches of rows of similar length: sorted within pools of 50 batches."""
    order = rng.permutation(rows)
    pool = size * 50
    batches: list[NDArray[np.intp]] = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def padded_tokens(lengths: NDArray[np.intp], batches: list[NDArray[np.intp]]) -> int:
    """The tokens the batches cost once each is padded to its longest unit."""
    return sum(len(batch) * int(lengths[batch].max()) for batch in batches if len(batch))


def by_length_batches(lengths: NDArray[np.intp], rows: NDArray[np.intp]) -> list[NDArray[np.intp]]:
    """``rows`` shortest first in batches of :data:`INFERENCE_BATCH`: how inference runs."""
    ordered = rows[np.argsort(lengths[rows], kind="stable")]
    return [ordered[i : i + INFERENCE_BATCH] for i in range(0, len(ordered), INFERENCE_BATCH)]
