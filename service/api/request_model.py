"""The base of every JSON request body: unknown fields refused, and text that is Unicode.

JSON may spell a lone UTF-16 surrogate (``"\\ud800"``), which Python decodes into a ``str``
that no UTF-8 encoder, tokenizer, cache or database file can hold. The rule, at the edge and for
every text a request carries (sentences, exemplars, decisions, codebooks, options): text must be
made of Unicode scalar values; a request with a lone surrogate anywhere in its body, keys
included, gets a 422 problem naming the field. Uploaded files and form fields need no check:
they arrive as bytes; files are decoded strictly (a surrogate is invalid UTF-8) and Starlette
decodes a form field that is not UTF-8 as Latin-1, so neither can hold a surrogate.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

SOME_TEXT = r"[^\s\x1c-\x1f]"
"""A pattern for "some text, not only white space", the same in Python's re (which counts
U+001C..U+001F as white space) and in pydantic's Rust regex (which does not)."""


def first_surrogate(text: str) -> int | None:
    """The position of the first lone surrogate in ``text``, or None when it has none."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return error.start
    return None


def _find_surrogate(value: object, path: str) -> tuple[str, str, int] | None:
    """(where, the text, position) of the first lone surrogate in a JSON value, depth first."""
    if isinstance(value, str):
        position = first_surrogate(value)
        return None if position is None else (path, value, position)
    if isinstance(value, dict):
        for key, item in value.items():
            plain_key = isinstance(key, str) and first_surrogate(key) is None
            inner = f"{path}.{key}" if plain_key else path
            found = _find_surrogate(key, f"{path} (a key)") or _find_surrogate(item, inner)
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if found := _find_surrogate(item, f"{path}.{index}"):
                return found
    return None


class RequestModel(BaseModel):
    """A request body: extra fields are refused, every text must be valid Unicode, and values
    are taken strictly as the schema types them (``false`` is not the integer 0, ``"3"`` is not
    3), so that what the schema refuses, the service refuses too."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _text_is_unicode(cls, data: Any) -> Any:
        found = _find_surrogate(data, "body")
        if found is not None:
            where, text, position = found
            raise PydanticCustomError(
                "invalid_unicode",
                "{where}: text must be valid Unicode, but character {position} is a lone "
                "surrogate U+{code} (a JSON \\u escape between d800 and dfff without its "
                "pair); send the text as UTF-8, or escape a character beyond U+FFFF as a "
                "surrogate pair",
                {"where": where, "position": position, "code": f"{ord(text[position]):04X}"},
            )
        return data


def given_and_absent(present: dict[str, dict[str, Any]], absent: list[str]) -> dict[str, Any]:
    """A JSON Schema branch for "these fields given (each not null, with its schema), those
    left out": the schema's words for a rule between fields, so that generated requests (and
    readers of the schema) know it. A field set to null counts as left out, as the models
    treat it."""
    properties: dict[str, Any] = {field: {"type": "null"} for field in absent}
    properties.update(present)
    return {"required": list(present), "properties": properties}
