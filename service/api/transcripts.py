"""``/v1/projects/{id}/transcripts``: upload a transcript file, read it back, list them.

An upload is parsed by the same readers as the CLI (``.txt``/``.md``, ``.vtt``, ``.srt``,
``.docx`` with its zip-size checks, ``.csv``) and split into sentences with offsets, speaker and
turn, which are stored; the file itself is never written to disk, and its name is only a label
(one with a folder in it is refused all the same: no client has a reason to send one).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Response, UploadFile

from codebook.transcripts import TRANSCRIPT_FORMATS
from service.api.deps import Limit, ProjectId, State, TranscriptCursor, next_cursor
from service.api.problems import problem_responses
from service.api.schemas import (
    SentenceOut,
    TranscriptDetail,
    TranscriptOut,
    TranscriptPage,
)
from service.app.transcripts import add_transcript, plain_filename, transcript_id_from
from service.store.ids import TRANSCRIPT_ID_PATTERN
from service.store.transcripts import (
    get_transcript,
    list_transcripts,
    sentences,
    transcript_text,
)

router = APIRouter(prefix="/v1/projects/{project_id}/transcripts", tags=["transcripts"])
TranscriptId = Annotated[
    str, Path(pattern=TRANSCRIPT_ID_PATTERN, description="The transcript's id in the project.")
]


@router.post(
    "",
    status_code=201,
    summary="Upload a transcript file; it is split into sentences and stored",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
def upload_transcript(
    project_id: ProjectId,
    state: State,
    response: Response,
    file: Annotated[UploadFile, File(description="a .txt, .md, .vtt, .srt, .docx or .csv file")],
    transcript_id: Annotated[
        str | None,
        Form(pattern=TRANSCRIPT_ID_PATTERN, description="default: from the file name"),
    ] = None,
    format: Annotated[
        str | None,
        Form(description=f"one of {', '.join(TRANSCRIPT_FORMATS)}; default: from the extension"),
    ] = None,
) -> TranscriptOut:
    if not file.filename and format is not None:
        filename = "upload"  # the format is given, so the name is only a label
    else:
        filename = plain_filename(file.filename)
    chosen_id = transcript_id or transcript_id_from(filename)
    row = add_transcript(state, project_id, file.file.read(), format, chosen_id, filename)
    response.headers["Location"] = f"/v1/projects/{project_id}/transcripts/{row.id}"
    return TranscriptOut.model_validate(row, from_attributes=True)


@router.get("", summary="List transcripts", responses=problem_responses(401, 403, 404))
def list_project_transcripts(
    project_id: ProjectId, state: State, limit: Limit = 50, cursor: TranscriptCursor = None
) -> TranscriptPage:
    with state.store.read() as connection:
        rows = list_transcripts(connection, project_id, after=cursor or "", limit=limit)
    return TranscriptPage(
        items=[TranscriptOut.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor(rows[-1].id if rows else None, len(rows), limit),
    )


@router.get(
    "/{transcript_id}",
    summary="Read a transcript: its text and sentences",
    responses=problem_responses(401, 403, 404),
)
def read_transcript(
    project_id: ProjectId, transcript_id: TranscriptId, state: State
) -> TranscriptDetail:
    with state.store.read() as connection:
        row = get_transcript(connection, project_id, transcript_id)
        text = transcript_text(connection, project_id, transcript_id)
        found = sentences(connection, project_id, transcript_id)
    return TranscriptDetail(
        **TranscriptOut.model_validate(row, from_attributes=True).model_dump(),
        text=text,
        sentences=[SentenceOut.model_validate(s, from_attributes=True) for s in found],
    )
