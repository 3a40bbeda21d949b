"""What an evaluation runs on: the reference coding, the multi-coder units, the human level.

Data is named (``annomi:therapist``, ``annomi:client``, ``swda``) or given as a coded CSV. The
reference coding has one code set per unit (the majority where several people coded a unit);
units that several people coded also feed the human-human comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from codebook.coded import check_codes, majority_labels, read_coded_csv
from codebook.datasets import load_dataset
from codebook.errors import UnknownNameError
from codebook.loader import load_codebook
from codebook.model import Codebook
from eval.report_model import HumanReference

NAMED_DATA = {
    "annomi:therapist": "annomi-full:therapist",
    "annomi:client": "annomi-full:client",
    "swda": None,
}
PUBLISHED_HUMAN_KAPPA = {
    "swda": HumanReference(
        kappa=0.80,
        source="published inter-annotator kappa for SWBD-DAMSL (Jurafsky, Shriberg & Biasca "
        "1997); not measured on these units",
    ),
}


@dataclass(frozen=True)
class EvalInput:
    name: str
    codebook: Codebook
    reference: pd.DataFrame
    multi_coded: pd.DataFrame | None  # every coder's rows, only for units several coded
    published_reference: HumanReference | None


def load_eval_input(
    data: str, codebook: str | None = None, shared_root: Path | None = None
) -> EvalInput:
    """A named dataset (its own codebook unless one is given) or a coded CSV file."""
    if data in NAMED_DATA:
        book, reference = load_dataset(data, shared_root)
        if codebook is not None:
            book = load_codebook(codebook)
            check_codes(reference, book)
        full_name = NAMED_DATA[data]
        multi = None
        if full_name is not None:
            _, everyone = load_dataset(full_name, shared_root)
            multi = _units_coded_by_several(everyone)
        return EvalInput(data, book, reference, multi, PUBLISHED_HUMAN_KAPPA.get(data))
    path = Path(data)
    if not path.is_file():
        raise UnknownNameError(
            f"--data {data!r} is neither a file nor a known dataset; give a coded CSV or one "
            f"of: {', '.join(NAMED_DATA)}"
        )
    if codebook is None:
        raise UnknownNameError(
            "a coded CSV needs --codebook (a .yaml file or a shipped codebook name)"
        )
    book = load_codebook(codebook)
    coded = read_coded_csv(path, book)
    multi = _units_coded_by_several(coded)
    reference = coded if multi is None else _one_coding_per_unit(coded)
    return EvalInput(path.name, book, reference, multi, None)


def _units_coded_by_several(frame: pd.DataFrame) -> pd.DataFrame | None:
    coder_counts = frame.groupby(["transcript_id", "unit_id"])["coder"].transform("nunique")
    several = frame.loc[coder_counts >= 2]
    return several.reset_index(drop=True) if len(several) else None


def _one_coding_per_unit(frame: pd.DataFrame) -> pd.DataFrame:
    """Strict-majority codes where several coded a unit; the one coding elsewhere."""
    counts = frame.groupby(["transcript_id", "unit_id"])["coder"].transform("nunique")
    single = frame.loc[counts == 1]
    merged = majority_labels(frame.loc[counts >= 2])
    return pd.concat([single, merged], ignore_index=True)
