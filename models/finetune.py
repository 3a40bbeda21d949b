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
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from codebook.model import Codebook

Progress = Callable[[str], None]
_INFERENCE_BATCH = 64


@dataclass(frozen=True)
class TrainConfig:
    """Fixed once for every dataset (never tuned on a test fold); see eval/RESULTS.md."""

    epochs: int = 3
    learning_rate: float = 1e-4
    head_learning_rate: float = 2e-3
    batch_size: int = 32
    max_length: int = 96
    trained_layers: int = 2
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


class _TopLayers:
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
            states = _run_layer(layer, states, mask)
        return states

    def pooled(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean of the top layer's token states over real tokens, as sentence-transformers."""
        for layer in self.top:
            states = _run_layer(layer, states, mask)
        weights = mask.unsqueeze(-1).to(states.dtype)
        return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)

    def logits(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooled(states, mask))  # type: ignore[no-any-return]

    def parameters(self) -> list[torch.nn.Parameter]:
        return [*self.top.parameters(), *self.head.parameters()]


def _run_layer(layer: Any, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # An additive float mask (0 keep, most negative float for padding) works for the eager and
    # the SDPA attention alike; the model's own forward builds the same one.
    additive = (1.0 - mask[:, None, None, :].to(states.dtype)) * torch.finfo(states.dtype).min
    out = layer(states, additive)
    return out[0] if isinstance(out, tuple) else out  # type: ignore[no-any-return]


class _Cache:
    """Each unit's token ids and lower-layer states, padded per batch on demand."""

    def __init__(self, model: _TopLayers, encoded: dict[str, list[list[int]]]) -> None:
        self.ids = [torch.tensor(row) for row in encoded["input_ids"]]
        self.types = [torch.tensor(row) for row in encoded["token_type_ids"]]
        self.lengths = np.array([len(row) for row in self.ids], dtype=np.intp)
        self.states: list[torch.Tensor] = [torch.empty(0)] * len(self.ids)
        by_length = np.argsort(self.lengths, kind="stable")
        for start in range(0, len(by_length), _INFERENCE_BATCH):
            rows = by_length[start : start + _INFERENCE_BATCH]
            ids, types, mask = self._padded(rows)
            states = model.lower_states(ids, types, mask)
            for position, row in enumerate(rows):
                self.states[row] = states[position, : self.lengths[row]].clone()

    def _padded(self, rows: NDArray[np.intp]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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


def fine_tune(
    transformer: Any,
    tokenizer: Any,
    inputs: Sequence[str],
    train_rows: NDArray[np.intp],
    labels: NDArray[np.bool_],
    groups: Sequence[str],
    layout: LabelLayout,
    config: TrainConfig,
    progress: Progress = lambda _: None,
) -> FineTuned:
    """Train the top layers of ``transformer`` (a Hugging Face BERT-like model) in place.

    ``inputs`` are every unit to embed; the model learns from ``train_rows`` of them, whose
    ``labels`` and ``groups`` are given row for row. The other units are only embedded, with
    the tuned model, from the same cache of lower-layer states (no second encoding pass).
    """
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    model = _TopLayers(transformer, config.trained_layers, labels.shape[1])
    transformer.eval()
    cache = _Cache(model, tokenizer(list(inputs), truncation=True, max_length=config.max_length))
    progress(f"lower layers for {len(inputs)} units: {time.perf_counter() - started:.0f} s")
    result = _train(
        model,
        cache,
        np.asarray(train_rows, dtype=np.intp),
        labels,
        groups,
        layout,
        config,
        progress,
    )
    embeddings = _embed(model, cache)
    seconds = time.perf_counter() - started
    return FineTuned(dataclasses.replace(result, seconds=seconds), embeddings)


def _train(
    model: _TopLayers,
    cache: _Cache,
    train_rows: NDArray[np.intp],
    labels: NDArray[np.bool_],
    groups: Sequence[str],
    layout: LabelLayout,
    config: TrainConfig,
    progress: Progress,
) -> TrainResult:
    rng = np.random.default_rng(config.seed)
    targets = torch.zeros((len(cache.lengths), labels.shape[1]))
    targets[torch.from_numpy(train_rows)] = torch.from_numpy(labels.astype(np.float32))
    fit_positions, held_positions = inner_split(groups, config.validation_share, config.seed)
    fit_rows, held_rows = train_rows[fit_positions], train_rows[held_positions]
    steps_per_epoch = int(np.ceil(len(fit_rows) / config.batch_size))
    total = max(1, min(steps_per_epoch * config.epochs, config.max_steps))
    optimizer = torch.optim.AdamW(
        [
            {"params": list(model.top.parameters()), "lr": config.learning_rate},
            {"params": list(model.head.parameters()), "lr": config.head_learning_rate},
        ],
        weight_decay=0.01,
    )
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, (total - step) / (total - warmup + 1))
    )
    check_every = max(1, min(steps_per_epoch, total) // max(1, config.checks_per_epoch))
    losses: list[float] = []
    best: dict[str, torch.Tensor] | None = None
    step = 0
    while step < total:
        for rows in length_batches(cache.lengths, fit_rows, config.batch_size, rng):
            model.top.train()
            states, mask = cache.batch(rows)
            loss = classification_loss(model.logits(states, mask), targets[rows], layout)
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            if len(held_rows) and (step % check_every == 0 or step == total):
                losses.append(_held_loss(model, cache, held_rows, targets, layout))
                if losses[-1] <= min(losses):
                    best = copy.deepcopy(model.top.state_dict())
                progress(f"step {step}/{total}: held-out loss {losses[-1]:.3f}")
            if step == total:
                break
    if best is not None:
        model.top.load_state_dict(best)
    model.top.eval()
    best_check = int(np.argmin(losses)) if losses else -1
    return TrainResult(0.0, step, tuple(losses), best_check)


@torch.no_grad()
def _embed(model: _TopLayers, cache: _Cache) -> NDArray[np.float32]:
    """Mean-pooled, L2-normalised top-layer states of every cached unit, in input order."""
    model.top.eval()
    out = torch.zeros((len(cache.lengths), model.head.in_features))
    by_length = np.argsort(cache.lengths, kind="stable")
    for start in range(0, len(by_length), _INFERENCE_BATCH):
        rows = by_length[start : start + _INFERENCE_BATCH]
        states, mask = cache.batch(rows)
        out[torch.from_numpy(rows)] = model.pooled(states, mask)
    return torch.nn.functional.normalize(out, dim=1).numpy().astype(np.float32)


@torch.no_grad()
def _held_loss(
    model: _TopLayers,
    cache: _Cache,
    rows: NDArray[np.intp],
    targets: torch.Tensor,
    layout: LabelLayout,
) -> float:
    model.top.eval()
    total = 0.0
    ordered = rows[np.argsort(cache.lengths[rows], kind="stable")]
    for start in range(0, len(ordered), _INFERENCE_BATCH):
        chunk = ordered[start : start + _INFERENCE_BATCH]
        states, mask = cache.batch(chunk)
        loss = classification_loss(model.logits(states, mask), targets[chunk], layout)
        total += float(loss) * len(chunk)
    return total / len(rows)
