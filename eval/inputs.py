"""What an evaluation runs on: the reference coding, the multi-coder units, the human level.

Data is named (``annomi:therapist``, ``annomi:client``, ``swda``), given as a coded CSV, or as a
REFI-QDA project (``.qdpx`` from ATLAS.ti, NVivo, MAXQDA, QualCoder), whose codebook comes along
and whose coders' selections become sentence codings by the overlap rule. The reference coding
has one code set per unit (the majority where several people coded a unit); units that several
people coded also feed the human-human comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from codebook.coded import check_codes, majority_labels
from codebook.coded_csv import read_coded_csv
from codebook.datasets import load_dataset
from codebook.errors import CodedDataError, UnknownNameError
from codebook.loader import load_codebook
from codebook.model import Codebook
from eval.report_model import HumanReference

NAMED_DATA = {
    "annomi:therapist": "annomi-full:therapist",
    "annomi:client": "annomi-full:client",
    "swda": None,
    "swda-nocode": None,
    "chatterbot": None,
}
REFI_SUFFIXES = (".qdpx", ".qdc")
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
    data: str,
    codebook: str | None = None,
    shared_root: Path | None = None,
    *,
    min_share: float = 0.5,
) -> EvalInput:
    """A named dataset (its own codebook unless one is given), a coded CSV, or a .qdpx project.

    ``min_share`` is the overlap rule for a .qdpx: a sentence takes a coder's code when that
    coder's selections cover at least this share of it.
    """
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
            f"--data {data!r} is neither a file nor a known dataset; give a coded CSV, a "
            f"REFI-QDA project (.qdpx) or one of: {', '.join(NAMED_DATA)}"
        )
    if path.suffix.lower() in REFI_SUFFIXES:
        book, coded = _refi_input(path, codebook, min_share)
    elif codebook is None:
        raise UnknownNameError(
            "a coded CSV needs --codebook (a .yaml file or a shipped codebook name)"
        )
    else:
        book = load_codebook(codebook)
        coded = read_coded_csv(path, book)
    multi = _units_coded_by_several(coded)
    reference = coded if multi is None else one_coding_per_unit(coded)
    return EvalInput(path.name, book, reference, multi, None)


def _refi_input(
    path: Path, codebook: str | None, min_share: float
) -> tuple[Codebook, pd.DataFrame]:
    """The project's codebook (or the one given, checked against the codings) and codings."""
    from codebook.refi import OverlapRule, read_refi_file

    if path.suffix.lower() == ".qdc":
        raise CodedDataError(
            f"{path.name} is a REFI-QDA codebook (.qdc) without codings; evaluation needs coded "
            "sentences: export the project as .qdpx, or give a coded CSV"
        )
    project = read_refi_file(path, rule=OverlapRule(min_share=min_share))
    if not project.selections or project.coded.empty:
        raise CodedDataError(
            f"{path.name} has no coded text (found {len(project.sources)} text source(s) and "
            f"{len(project.selections)} coded selection(s)); code some text in the QDA tool "
            "and export the project again"
        )
    if codebook is None:
        return project.codebook, project.coded
    book = load_codebook(codebook)
    check_codes(project.coded, book)
    return book, project.coded


def _units_coded_by_several(frame: pd.DataFrame) -> pd.DataFrame | None:
    coder_counts = frame.groupby(["transcript_id", "unit_id"])["coder"].transform("nunique")
    several = frame.loc[coder_counts >= 2]
    return several.reset_index(drop=True) if len(several) else None


def one_coding_per_unit(frame: pd.DataFrame) -> pd.DataFrame:
    """Strict-majority codes where several coded a unit; the one coding elsewhere."""
    counts = frame.groupby(["transcript_id", "unit_id"])["coder"].transform("nunique")
    single = frame.loc[counts == 1]
    merged = majority_labels(frame.loc[counts >= 2])
    return pd.concat([single, merged], ignore_index=True)
