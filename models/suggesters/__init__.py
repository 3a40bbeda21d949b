"""Suggesters: fit on coded exemplars (embeddings and code sets), suggest codes with evidence.

``from models.suggesters import LinearSuggester`` (the default), ``KnnSuggester``,
``PrototypeSuggester`` (also the cold start from a codebook alone) and ``BlendSuggester``;
:func:`make_suggester` builds one by method name for the CLI, the harness and the service.
"""

from __future__ import annotations

from codebook.errors import UnknownNameError
from models.methods import DEFAULT_METHOD, Method
from models.suggesters.base import BaseSuggester, Decisions
from models.suggesters.blend import BlendSuggester
from models.suggesters.knn import KnnSuggester
from models.suggesters.linear import LinearSuggester
from models.suggesters.prototype import PrototypeSuggester

METHODS: dict[str, type[BaseSuggester]] = {
    "knn": KnnSuggester,
    "prototype": PrototypeSuggester,
    "linear": LinearSuggester,
    "blend": BlendSuggester,
}


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
