"""Suggesters: fit on coded exemplars (embeddings and code sets), suggest codes with evidence.

``from models.suggesters import LinearSuggester`` (the default), ``KnnSuggester``,
``PrototypeSuggester`` (also the cold start from a codebook alone) and ``BlendSuggester``;
:func:`make_suggester` builds one by method name for the CLI, the harness and the service.
"""

from __future__ import annotations

from typing import Literal

from codebook.errors import UnknownNameError
from models.suggesters.base import BaseSuggester, Decisions
from models.suggesters.blend import BlendSuggester
from models.suggesters.knn import KnnSuggester
from models.suggesters.linear import LinearSuggester
from models.suggesters.prototype import PrototypeSuggester

Method = Literal["knn", "prototype", "linear", "blend"]
METHODS: dict[str, type[BaseSuggester]] = {
    "knn": KnnSuggester,
    "prototype": PrototypeSuggester,
    "linear": LinearSuggester,
    "blend": BlendSuggester,
}
# The best head measured on every dataset (eval/RESULTS.md), over a project model when one
# is trained (`intercoder train`), else over the bundled encoder.
DEFAULT_METHOD: Method = "linear"


def make_suggester(method: str = DEFAULT_METHOD, **params: object) -> BaseSuggester:
    """A new, unfitted suggester of this method with these parameters."""
    try:
        suggester_class = METHODS[method]
    except KeyError:
        raise UnknownNameError(
            f"unknown method {method!r}; expected one of: {', '.join(METHODS)}"
        ) from None
    return suggester_class(**params)  # type: ignore[arg-type]


__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "BaseSuggester",
    "BlendSuggester",
    "Decisions",
    "KnnSuggester",
    "LinearSuggester",
    "Method",
    "PrototypeSuggester",
    "make_suggester",
]
