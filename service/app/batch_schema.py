"""The Arrow types of a batch run's units and output rows, shared by both engines.

Written with a fixed schema, every part has the same types whatever its rows hold: a part
whose units are all skipped would otherwise get lists of nulls, and a folder mixing such parts
with others could not be read as one table.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from service.app.batch_inputs import UNIT_COLUMNS
from service.app.batch_rows import OUTPUT_COLUMNS

# Text as pandas writes a str column (large_string under pandas 3): the local engine's type.
_TEXT = pa.Schema.from_pandas(pd.DataFrame({"text": pd.Series(["x"], dtype=str)})).field(0).type
_TYPES: dict[str, pa.DataType] = {
    "transcript_id": _TEXT, "source": _TEXT, "sentence": pa.int64(), "turn": pa.int64(),
    "speaker": _TEXT, "start": pa.int64(), "end": pa.int64(), "text": _TEXT,
    "previous_text": _TEXT, "codes": pa.list_(pa.string()),
    "top_codes": pa.list_(pa.string()), "top_scores": pa.list_(pa.float64()),
    "confidence": pa.float64(), "no_code": pa.bool_(), "abstained": pa.bool_(),
    "skipped": pa.bool_(), "evidence_ids": pa.list_(pa.int64()),
}  # fmt: skip
# Built from the column lists, so a column added there without a type here fails at import.
UNIT_SCHEMA = pa.schema(
    [(name, _TYPES[name]) for name in (*UNIT_COLUMNS, "previous_text", "source")]
)
OUTPUT_SCHEMA = pa.schema([(name, _TYPES[name]) for name in OUTPUT_COLUMNS])


def output_table(rows: pd.DataFrame) -> pa.Table:
    """Output rows as an Arrow table of :data:`OUTPUT_SCHEMA`."""
    return pa.Table.from_pandas(rows, schema=OUTPUT_SCHEMA, preserve_index=False)
