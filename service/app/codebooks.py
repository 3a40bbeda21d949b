"""Use case: a codebook shipped with intercoder, by name; for every interface that offers them
(the API's ``shipped_codebook``, the review page's list)."""

from __future__ import annotations

from importlib import resources

from codebook.errors import UnknownNameError
from codebook.loader import SHIPPED_CODEBOOKS, parse_codebook_yaml
from codebook.model import Codebook


def shipped_codebook(name: str) -> Codebook:
    """A codebook shipped with intercoder, by name (never a path: a client names it)."""
    if name not in SHIPPED_CODEBOOKS:
        raise UnknownNameError(
            f"there is no shipped codebook {name!r}; expected one of "
            f"{', '.join(SHIPPED_CODEBOOKS)}: name one of them, or give a codebook of your own"
        )
    text = resources.files("codebook").joinpath("data", f"{name}.yaml").read_text("utf-8")
    return parse_codebook_yaml(text, f"{name}.yaml")
