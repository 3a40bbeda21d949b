"""A batch run's codes as a REFI-QDA project, the machine as a coder of its own.

Only transcript files can be written: a REFI-QDA source is running text with selections in
it, and a table of units has no running text. The transcripts are read again (the same reader
and splitter as the run, so the same sentences), one project holds all of them in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from codebook.coded import CodedUnit, coded_frame
from codebook.errors import InputError
from codebook.model import Codebook
from codebook.refi import MachineCodings, machine_user_name, project_from_parts, write_qdpx
from codebook.transcripts import Segmenter, read_transcript
from service.app.batch_inputs import InputSource
from service.app.batch_output import MERGED_CSV


def write_batch_refi(
    output: Path,
    sources: Sequence[InputSource],
    codebook: Codebook,
    model_id: str,
    method: str,
    path: Path,
) -> int:
    """Write the .qdpx of the coded transcript files; returns the machine codings written."""
    files = [source for source in sources if source.kind == "transcript"]
    if not files:
        raise InputError(
            "--refi needs transcript files: tables of units have no running text to select in"
        )
    rows = _coded_rows(output)
    segmenter = Segmenter()
    transcripts, sentences = [], {}
    coded_ids = set(rows["transcript_id"])
    for source in files:
        if source.name not in coded_ids:
            continue  # unreadable, or not coded by this run
        transcript = read_transcript(source.path, transcript_id=source.name)
        transcripts.append(transcript)
        sentences[transcript.id] = segmenter.split(transcript)
    user = machine_user_name(model_id, method)
    machine = _machine_frame(rows[rows["transcript_id"].isin(sentences)], user)
    empty = coded_frame([])
    project = project_from_parts(path.stem, codebook, transcripts, empty, sentences=sentences)
    content = write_qdpx(project, machine=MachineCodings(user_name=user, coded=machine))
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)
    return len(machine)


def _coded_rows(output: Path) -> pd.DataFrame:
    columns = ["transcript_id", "sentence", "turn", "speaker", "text", "codes"]
    if output.is_dir():
        rows = pd.read_parquet(output, columns=columns)
        rows["codes"] = [list(codes) for codes in rows["codes"]]
        return rows
    if output.name != MERGED_CSV:
        raise InputError(f"{output} is not a batch run's output")
    rows = pd.read_csv(output, usecols=columns, dtype=str, keep_default_na=False)
    rows["codes"] = [[code for code in cell.split(";") if code] for cell in rows["codes"]]
    return rows


def _machine_frame(rows: pd.DataFrame, user: str) -> pd.DataFrame:
    records = [
        CodedUnit(
            transcript_id=str(transcript_id),
            unit_id=str(int(sentence)),
            turn_index=int(turn),
            text=str(text),
            codes=frozenset(codes),
            speaker=str(speaker),
            coder=user,
        )
        for transcript_id, sentence, turn, speaker, text, codes in zip(
            rows["transcript_id"],
            rows["sentence"],
            rows["turn"],
            rows["speaker"],
            rows["text"],
            rows["codes"],
            strict=True,
        )
        if len(codes)
    ]
    return coded_frame(records)
