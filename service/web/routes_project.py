"""One project's pages: its overview (codebook, transcripts, uploads), the agreement report
with the trust verdicts, and the exports (coded CSV, REFI-QDA)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from codebook.errors import IntercoderError
from codebook.loader import SHIPPED_CODEBOOKS
from service.app.codebooks import shipped_codebook
from service.app.evaluating import evaluate_stored_project
from service.app.exports import codings_csv
from service.app.page_projects import (
    AGREEMENT_METHOD,
    add_coded_csv,
    codebook_from_file,
    last_agreement,
    project_overview,
)
from service.app.projects import replace_project_codebook
from service.app.transcripts import add_transcript, plain_filename, transcript_id_from
from service.refi.exporting import export_project
from service.refi.formats import Include, RefiFormat
from service.web.rendering import back_to, render
from service.web.security import Opened, OpenedForChange, ProjectPath, workspace_of

router = APIRouter(prefix="/page/projects/{project_id}", include_in_schema=False)
EVALUATION_FOLDS = 3


@router.get("")
def overview(request: Request, project_id: ProjectPath, session: Opened) -> HTMLResponse:
    found = project_overview(workspace_of(request), project_id)
    return render(
        request,
        "project.html",
        session,
        overview=found,
        project=found.project,
        codebook=found.codebook,
        shipped=SHIPPED_CODEBOOKS,
    )


@router.post("/codebook")
def replace_codebook(
    request: Request,
    project_id: ProjectPath,
    session: OpenedForChange,
    shipped: Annotated[str, Form(max_length=100)] = "",
    codebook_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    here = f"/page/projects/{project_id}"
    try:
        if codebook_file is not None and codebook_file.filename:
            codebook = codebook_from_file(codebook_file.file.read(), codebook_file.filename)
        else:
            codebook = shipped_codebook(shipped)
        replace_project_codebook(workspace_of(request), project_id, codebook)
    except IntercoderError as error:
        return back_to(here, session, f"the codebook was not changed: {error}")
    return back_to(here, session, f"the project now codes with {codebook.name!r}")


@router.post("/transcripts")
def upload_transcripts(
    request: Request,
    project_id: ProjectPath,
    session: OpenedForChange,
    files: Annotated[list[UploadFile], File()],
) -> Response:
    """Each file stored as a transcript (any format intercoder reads); one notice each."""
    here = f"/page/projects/{project_id}"
    for upload in files:
        try:
            filename = plain_filename(upload.filename)
            row = add_transcript(
                workspace_of(request),
                project_id,
                upload.file.read(),
                None,
                transcript_id_from(filename),
                filename,
            )
        except IntercoderError as error:
            session.notices.append(f"{upload.filename or 'a file'} was not stored: {error}")
            continue
        session.notices.append(f"{row.filename}: {row.sentence_count} sentences stored")
    return back_to(here, session)


@router.post("/coded")
def upload_coded(
    request: Request,
    project_id: ProjectPath,
    session: OpenedForChange,
    file: Annotated[UploadFile, File()],
) -> Response:
    here = f"/page/projects/{project_id}"
    try:
        added = add_coded_csv(workspace_of(request), project_id, file.file.read(), session.coder)
    except IntercoderError as error:
        return back_to(here, session, f"the coded data was not added: {error}")
    return back_to(
        here, session, f"{len(added.ids)} coded sentences added ({added.count} exemplars now)"
    )


@router.get("/agreement")
def agreement(request: Request, project_id: ProjectPath, session: Opened) -> HTMLResponse:
    found = project_overview(workspace_of(request), project_id)
    return render(
        request,
        "agreement.html",
        session,
        project=found.project,
        agreement=last_agreement(workspace_of(request), project_id),
        method=AGREEMENT_METHOD,
    )


@router.post("/agreement")
def evaluate(request: Request, project_id: ProjectPath, session: OpenedForChange) -> Response:
    """Cross-validate the page's method on the project's codings (held out by transcript)."""
    here = f"/page/projects/{project_id}/agreement"
    try:
        evaluate_stored_project(
            workspace_of(request),
            project_id,
            [AGREEMENT_METHOD],
            folds=EVALUATION_FOLDS,
            seed=0,
            max_train_units=None,
        )
    except IntercoderError as error:
        return back_to(here, session, f"no agreement report: {error}")
    return back_to(here, session, "the agreement report is up to date")


@router.get("/export.csv")
def export_csv(request: Request, project_id: ProjectPath, session: Opened) -> Response:
    return Response(
        codings_csv(workspace_of(request), project_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{project_id}-codings.csv"'},
    )


@router.get("/export.qdpx")
def export_qdpx(request: Request, project_id: ProjectPath, session: Opened) -> Response:
    workspace = workspace_of(request)
    content = export_project(
        workspace.store, project_id, RefiFormat.qdpx, Include.accepted, service=workspace
    )
    return Response(
        content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{project_id}.qdpx"'},
    )
