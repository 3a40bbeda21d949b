"""What fine-tuning reports while it runs, and how long it expects to take (no torch here).

Training has three phases: the frozen lower layers are run once over every unit (caching), the
top layers are trained for a number of steps (with a held-out loss check now and then), and the
tuned model embeds every unit. :class:`TrainProgress` is one report of a phase's progress; the
command line draws it as a bar with an ETA. Before the long work, :func:`estimate` turns rates
measured on a sample of the units on this machine (:class:`Rates`) and the work ahead
(:class:`Workload`) into seconds per phase: the line ``intercoder train`` prints first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CACHING = "caching lower layers"
TRAINING = "training"
EMBEDDING = "embedding"
PHASES = (CACHING, TRAINING, EMBEDDING)


@dataclass(frozen=True)
class TrainProgress:
    """``done`` of ``total`` in ``phase`` (units while caching and embedding, else steps)."""

    phase: str
    done: int
    total: int
    held_out_loss: float | None = None  # the latest check's loss, while training


Report = Callable[[TrainProgress], None]


def is_check_step(step: int, total: int, check_every: int) -> bool:
    """Whether the held-out loss is computed after training step ``step`` (1-based)."""
    return step % check_every == 0 or step == total


@dataclass(frozen=True)
class Rates:
    """Seconds per token on this machine, measured on a sample of the units."""

    lower: float  # the embeddings and frozen lower layers, no gradients (caching)
    forward: float  # the trained layers without gradients (held-out checks, embedding)
    step: float  # the trained layers forward and backward, and the optimizer's update


@dataclass(frozen=True)
class Workload:
    """The tokens each phase will read; ``steps`` and ``checks`` are those still to run."""

    tokens: int  # every unit's tokens: cached once and embedded once
    steps: int
    tokens_per_step: float  # a training batch's tokens (batches group similar lengths)
    checks: int
    tokens_per_check: int  # the held-out units' tokens


@dataclass(frozen=True)
class Estimate:
    """Expected seconds of each phase."""

    caching: float
    training: float
    embedding: float
    steps: int

    @property
    def total(self) -> float:
        return self.caching + self.training + self.embedding

    def line(self) -> str:
        """One line saying what to expect, said before the long work starts."""
        return (
            f"expected time: about {duration(self.total)} ({CACHING} {duration(self.caching)}, "
            f"{self.steps} training steps {duration(self.training)}, {EMBEDDING} "
            f"{duration(self.embedding)}; measured on a sample of the units on this machine)"
        )


def estimate(work: Workload, rates: Rates) -> Estimate:
    """Seconds per phase: each phase's tokens times its measured seconds per token."""
    training = work.steps * work.tokens_per_step * rates.step
    checking = work.checks * work.tokens_per_check * rates.forward
    return Estimate(
        caching=work.tokens * rates.lower,
        training=training + checking,
        embedding=work.tokens * rates.forward,
        steps=work.steps,
    )


def duration(seconds: float) -> str:
    """A rough, readable duration: '40 s', '7 min', '1 h 5 min'."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
