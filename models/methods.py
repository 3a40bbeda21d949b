"""The one registry of suggestion methods, their defaults, and per-call options.

Every interface takes its method names, help texts and defaults from here: the command line,
the HTTP schemas, the harness and the exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Method = Literal["linear", "knn", "prototype", "blend"]
METHOD_NAMES: tuple[str, ...] = get_args(Method)
DEFAULT_METHOD: Method = "linear"
"""The best head measured on every dataset (eval/RESULTS.md), over a project model when one
is trained (``intercoder train``), else over the bundled encoder."""
COLD_START_METHOD: Method = "prototype"
"""What a project with no coded exemplars gets, whatever method was asked for."""

METHOD_HELP: dict[str, str] = {
    "linear": "logistic regression per code (one multinomial model per exclusive category, "
    "'no code' one of its classes); the default: the best measured on every dataset",
    "knn": "similarity-weighted vote of the k nearest exemplars",
    "prototype": "cosine similarity to each code's centroid; the cold start from the codebook",
    "blend": "linear and knn averaged",
}
USES_K = frozenset({"knn", "blend"})

DEFAULT_TOP = 5
DEFAULT_EVIDENCE = 3
DEFAULT_K = 10
DEFAULT_NEXT = 20
"""How many uncoded units "code these next" ranks by default (``models.next_units``)."""
MAX_NEXT = 500
"""The most one ranking returns: its k-means runs over ten times as many units."""


@dataclass(frozen=True)
class SuggestOptions:
    """Per-call options of a suggestion: how many codes to rank, how many exemplars to show
    for and against each, when to leave a unit to a human, an optional single threshold for
    every code instead of the calibrated ones, and whose units are coded: only ``speakers``'
    or all but ``skip_speakers``' (either replaces the codebook's ``speakers.skip``; see
    :func:`codebook.speakers.select_sentences`)."""

    top: int = DEFAULT_TOP
    evidence: int = DEFAULT_EVIDENCE
    abstain_below: float = 0.0
    threshold: float | None = None
    speakers: tuple[str, ...] | None = None
    skip_speakers: tuple[str, ...] | None = None


def method_params(method: str, *, k: int = DEFAULT_K) -> dict[str, object]:
    """The constructor parameters a method takes beyond the common ones."""
    return {"k": k} if method in USES_K else {}


def methods_help() -> str:
    return "; ".join(f"{name}: {text}" for name, text in METHOD_HELP.items())
