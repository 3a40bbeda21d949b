"""Reviewing a transcript: the sentence list with filters and progress, one sentence's
suggestions with their evidence, and the coder's decisions (each saved at once) and undo.

The decision routes answer htmx with the sentence to show next and, out of band, the decided
sentence's new row; ``HX-Trigger: decided`` then has the progress counts refresh themselves.
Without JavaScript the same forms post and come back to the list.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from codebook.errors import InputError, IntercoderError
from service.app.page_sessions import PageSession
from service.app.reviewing import (
    ReviewFilter,
    SentenceDecision,
    Status,
    decide_sentence,
    review_sentence,
    review_transcript,
    toggled,
    transcript_progress,
    undo_decision,
)
from service.errors import NotFoundError
from service.store.ids import TRANSCRIPT_ID_PATTERN
from service.web.rendering import back_to, render
from service.web.security import Opened, OpenedForChange, ProjectPath, workspace_of

router = APIRouter(
    prefix="/page/projects/{project_id}/transcripts/{transcript_id}", include_in_schema=False
)
TranscriptPath = Annotated[str, Path(pattern=TRANSCRIPT_ID_PATTERN)]
IndexPath = Annotated[int, Path(ge=0, le=10_000_000)]
STATUSES: tuple[Status, ...] = ("coded", "to review", "left", "skipped")


def _score(text: str) -> float | None:
    """A score bound from the filter form ("" for none); InputError unless within [0, 1]."""
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise InputError(f"a score bound is a number from 0 to 1, not {text[:20]!r}")
    return value


def _status(text: str) -> Status | None:
    if not text:
        return None
    for status in STATUSES:
        if text == status:
            return status
    raise InputError(f"status {text[:20]!r} is none of {', '.join(STATUSES)}")


@router.get("")
def review(
    request: Request,
    project_id: ProjectPath,
    transcript_id: TranscriptPath,
    session: Opened,
    code: Annotated[str, Query(max_length=200)] = "",
    min_score: Annotated[str, Query(max_length=20)] = "",
    max_score: Annotated[str, Query(max_length=20)] = "",
    disagreement: bool = False,
    status: Annotated[str, Query(max_length=20)] = "",
    at: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    """The filter form sends every field, empty ones as "" (meaning: any)."""
    chosen = ReviewFilter(
        code or None, _score(min_score), _score(max_score), disagreement, _status(status)
    )
    workspace = workspace_of(request)
    found = review_transcript(workspace, project_id, transcript_id, chosen)
    first = found.sentences[0].index if found.sentences else None
    focus = at if at is not None and at < found.total else first
    detail = (
        review_sentence(workspace, project_id, transcript_id, focus) if focus is not None else None
    )
    return render(
        request,
        "review.html",
        session,
        project_id=project_id,
        transcript_id=transcript_id,
        review=found,
        detail=detail,
        chosen=chosen,
        statuses=STATUSES,
        codebook=found.codebook,
    )


@router.get("/progress")
def progress(
    request: Request, project_id: ProjectPath, transcript_id: TranscriptPath, session: Opened
) -> HTMLResponse:
    counted = transcript_progress(workspace_of(request), project_id, transcript_id)
    return render(request, "_progress.html", session, project_id=project_id, progress=counted)


@router.get("/sentences/{index}")
def sentence(
    request: Request,
    project_id: ProjectPath,
    transcript_id: TranscriptPath,
    index: IndexPath,
    session: Opened,
) -> HTMLResponse:
    detail = review_sentence(workspace_of(request), project_id, transcript_id, index)
    return render(
        request,
        "_detail.html",
        session,
        project_id=project_id,
        transcript_id=transcript_id,
        detail=detail,
    )


@router.post("/sentences/{index}/decision")
def decide(
    request: Request,
    project_id: ProjectPath,
    transcript_id: TranscriptPath,
    index: IndexPath,
    session: OpenedForChange,
    action: Annotated[Literal["accept", "reject", "toggle"], Form()],
    code: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[int | None, Form(ge=0)] = None,
) -> Response:
    """Accept the machine's codes, reject them, or toggle one code; saved at once."""
    workspace = workspace_of(request)
    try:
        before = review_sentence(workspace, project_id, transcript_id, index, evidence=False)
        suggested = before.view.suggested
        chosen = SentenceDecision(
            action="change" if action == "toggle" else action,
            coder=session.coder,
            suggested=suggested,
            codes=toggled(before.view, code) if action == "toggle" else None,
            method=before.method,
            agent=before.agent,
        )
        session.remember(decide_sentence(workspace, project_id, transcript_id, index, chosen))
    except IntercoderError as error:
        return _refused(request, session, project_id, transcript_id, index, str(error))
    shown = index if action == "toggle" or next is None else next
    return _after_change(request, session, project_id, transcript_id, index, shown)


@router.post("/undo")
def undo(
    request: Request,
    project_id: ProjectPath,
    transcript_id: TranscriptPath,
    session: OpenedForChange,
) -> Response:
    """Take back this session's last decision on this transcript."""
    step = session.last_step(project_id, transcript_id)
    if step is None:
        return _refused(request, session, project_id, transcript_id, None, "nothing to undo")
    try:
        undone = undo_decision(workspace_of(request), project_id, step, session.coder)
    except IntercoderError as error:
        return _refused(
            request, session, project_id, transcript_id, step.sentence_index, str(error)
        )
    if not undone:
        session.notices.append(
            "a rejection stays in the decision log; accept or change the codes instead"
        )
    index = step.sentence_index
    return _after_change(request, session, project_id, transcript_id, index, index)


def _after_change(
    request: Request,
    session: PageSession,
    project_id: str,
    transcript_id: str,
    changed: int,
    shown: int,
) -> Response:
    if "hx-request" not in request.headers:
        return back_to(
            f"/page/projects/{project_id}/transcripts/{transcript_id}?at={shown}", session
        )
    workspace = workspace_of(request)
    row = review_sentence(workspace, project_id, transcript_id, changed, evidence=shown == changed)
    detail = row
    if shown != changed:
        # past the last sentence, the decided one stays in view
        try:
            detail = review_sentence(workspace, project_id, transcript_id, shown)
        except NotFoundError:
            detail = review_sentence(workspace, project_id, transcript_id, changed)
    response = render(
        request,
        "_decided.html",
        session,
        project_id=project_id,
        transcript_id=transcript_id,
        detail=detail,
        row=row.view,
    )
    response.headers["HX-Trigger"] = "decided"
    return response


def _refused(
    request: Request,
    session: PageSession,
    project_id: str,
    transcript_id: str,
    index: int | None,
    message: str,
) -> Response:
    """Why a change was not made: into the page's notices (htmx), or on the list."""
    if "hx-request" not in request.headers:
        at = "" if index is None else f"?at={index}"
        return back_to(
            f"/page/projects/{project_id}/transcripts/{transcript_id}{at}", session, message
        )
    response = render(request, "_notices.html", session, notices=[message])
    response.headers["HX-Retarget"] = "#notices"
    response.headers["HX-Reswap"] = "innerHTML"
    return response
