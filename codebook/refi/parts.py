"""A REFI-QDA project from intercoder's own data: transcripts, their sentences, coded rows.

This is how intercoder exports what it holds (a service project, a coded CSV) for a QDA
program: every coded row (one sentence, one coder) with codes becomes a selection spanning that
sentence, with a coding per code under a user named by the row's ``coder``. A row without codes
writes nothing, since REFI-QDA cannot say "looked at, no code applies"; reading the file back
gives each coder a row for every sentence of each source they coded anything in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from codebook.coded import check_codes, coded_frame
from codebook.errors import CodedDataError, Problem, TranscriptError
from codebook.model import Codebook
from codebook.refi.model import RefiProject, RefiSelection, RefiSource
from codebook.refi.overlap import DEFAULT_RULE, OverlapRule, coded_table
from codebook.refi.xmltools import derived_guid
from codebook.transcripts.model import Sentence, Transcript
from codebook.transcripts.segment import Segmenter, split_sentences


def project_from_parts(
    name: str,
    codebook: Codebook,
    transcripts: Sequence[Transcript],
    coded: pd.DataFrame,
    *,
    sentences: Mapping[str, Sequence[Sentence]] | None = None,
    segmenter: Segmenter | None = None,
    rule: OverlapRule = DEFAULT_RULE,
) -> RefiProject:
    """The project ``name`` with these transcripts and the human codes in ``coded``.

    ``coded`` has :data:`~codebook.coded.CODED_COLUMNS`; its rows name sentences by
    ``transcript_id`` (a transcript's id) and ``unit_id`` (the sentence's index, as text), and
    its ``coder`` column names the user of each coding. A transcript's sentences are
    ``sentences[transcript.id]`` when given (e.g. as stored by the service), else the
    ``segmenter``'s split (the default rule-based one when None); read the file back with the
    same segmenter to get the same sentences. Each source is named ``<transcript id>.txt``, so
    reading it back gives the same transcript id. Raises CodedDataError for rows naming a
    sentence that does not exist, a code the codebook lacks, or one sentence twice per coder.
    """
    frame = coded_frame(coded)
    check_codes(frame, codebook)
    sources = _sources(name, transcripts, sentences or {}, segmenter)
    selections = _selections(sources, frame, codebook)
    coders = tuple(dict.fromkeys(selection.coder for selection in selections))
    table = coded_table(sources, selections, coders, codebook, rule)
    return RefiProject(name, codebook, sources, selections, table, coders)


def _sources(
    name: str,
    transcripts: Sequence[Transcript],
    given: Mapping[str, Sequence[Sentence]],
    segmenter: Segmenter | None,
) -> tuple[RefiSource, ...]:
    ids = [transcript.id for transcript in transcripts]
    repeated = sorted({tid for tid in ids if ids.count(tid) > 1})
    if repeated:
        raise TranscriptError(
            f"transcript ids must be unique within a project, found {', '.join(repeated)} "
            "more than once; give each transcript its own id"
        )
    split = segmenter.split if segmenter is not None else split_sentences
    return tuple(
        RefiSource(
            guid=derived_guid("source", name, transcript.id),
            name=f"{transcript.id}.txt",
            transcript=transcript,
            sentences=tuple(given[transcript.id] if transcript.id in given else split(transcript)),
        )
        for transcript in transcripts
    )


def _selections(
    sources: Sequence[RefiSource], frame: pd.DataFrame, codebook: Codebook
) -> tuple[RefiSelection, ...]:
    """One selection per coded row with codes, grouped by source in the sources' order."""
    where = {
        (source.transcript.id, str(sentence.index)): (position, source, sentence)
        for position, source in enumerate(sources)
        for sentence in source.sentences
    }
    order = {code_id: position for position, code_id in enumerate(codebook.by_id)}
    found: list[tuple[int, RefiSelection]] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()
    rows = zip(
        frame["transcript_id"], frame["unit_id"], frame["coder"], frame["codes"], strict=True
    )
    for number, (transcript_id, unit_id, coder, codes) in enumerate(rows, start=1):
        location = f"row {number} (transcript {transcript_id}, unit {unit_id})"
        if (transcript_id, unit_id) not in where:
            problems.append(Problem(location, "no such sentence among the transcripts given"))
        elif (transcript_id, unit_id, coder) in seen:
            problems.append(Problem(location, f"coded twice by {coder}"))
        seen.add((transcript_id, unit_id, coder))
        if problems or not codes:
            continue
        position, source, sentence = where[(transcript_id, unit_id)]
        guid = derived_guid("selection", source.guid, coder, unit_id)
        for code_id in sorted(codes, key=order.__getitem__):
            selection = RefiSelection(
                source.guid, sentence.start, sentence.end, code_id, coder, guid
            )
            found.append((position, selection))
    if problems:
        raise CodedDataError(
            "coded rows must name each transcript's sentences (unit_id = sentence index), "
            "once per coder; correct the table or give the sentences it was coded on",
            problems,
        )
    return tuple(selection for _, selection in sorted(found, key=lambda item: item[0]))
