"""Use cases the review page needs besides reviewing: the projects a caller may open, one
project's overview, codebooks from an uploaded file, coded data from an uploaded CSV, and the
agreement report with its trust verdicts. (A shipped codebook by name and the codings as a
CSV, which the API offers too, are in ``service.app.codebooks`` and ``service.app.exports``.)"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePath

from codebook.coded_csv import read_coded_csv
from codebook.errors import CodebookError
from codebook.loader import parse_codebook_yaml
from codebook.model import Codebook
from codebook.refi import read_qdc
from eval.report_model import Report, TrustVerdict
from eval.trust import code_verdict, human_level, rule_text
from service.app.exemplars import AddedExemplars, add_coded_frame
from service.app.keys import Principal
from service.app.workspace import Workspace
from service.store.evaluations import last_evaluation
from service.store.projects import ProjectRow, current_codebook, get_project, list_projects
from service.store.transcripts import TranscriptRow, list_transcripts

AGREEMENT_METHOD = "linear"
"""The method the page evaluates and reads verdicts for (the service's default method)."""
_MAX_LISTED = 500


def codebook_from_file(data: bytes, filename: str) -> Codebook:
    """A codebook from an uploaded YAML (.yaml, .yml) or REFI-QDA codebook (.qdc) file."""
    label = PurePath(filename).name or "codebook"
    suffix = PurePath(label).suffix.lower()
    if suffix == ".qdc":
        return read_qdc(data, source=label)
    if suffix not in (".yaml", ".yml"):
        raise CodebookError(
            f"the codebook file {label!r} is neither YAML nor REFI-QDA: expected a name ending "
            "in .yaml, .yml or .qdc; rename it, or pick a shipped codebook"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CodebookError(
            f"the codebook file {label!r} is not UTF-8 text ({error.reason} at byte "
            f"{error.start}); save it as UTF-8"
        ) from error
    return parse_codebook_yaml(text, label)


def visible_projects(workspace: Workspace, principal: Principal) -> list[ProjectRow]:
    """The projects the caller's key opens (the first 500 by id)."""
    with workspace.store.read() as connection:
        return list_projects(connection, after=None, limit=_MAX_LISTED, only=principal.project_id)


@dataclass(frozen=True)
class ProjectOverview:
    project: ProjectRow
    codebook: Codebook
    transcripts: list[TranscriptRow]


def project_overview(workspace: Workspace, project_id: str) -> ProjectOverview:
    with workspace.store.read() as connection:
        project = get_project(connection, project_id)
        codebook = current_codebook(connection, project_id)
        transcripts = list_transcripts(connection, project_id, after="", limit=_MAX_LISTED)
    return ProjectOverview(project, codebook, transcripts)


def add_coded_csv(
    workspace: Workspace, project_id: str, data: bytes, coder: str | None
) -> AddedExemplars:
    """A coded-units CSV's rows as exemplars, all or nothing (every problem listed)."""
    with workspace.store.read() as connection:
        codebook = current_codebook(connection, project_id)
    frame = read_coded_csv(io.BytesIO(data), codebook, coder=coder or None)
    return add_coded_frame(workspace, project_id, frame)


@dataclass(frozen=True)
class CodeAgreement:
    code: str
    name: str
    humans: int
    kappa: float | None
    low: float | None
    high: float | None
    verdict: TrustVerdict


@dataclass(frozen=True)
class Agreement:
    method: str
    kappa: float | None
    codes: list[CodeAgreement]
    rule: str
    """How the verdicts were given, with this evaluation's thresholds (``eval.trust``)."""
    notes: tuple[str, ...]


def last_agreement(workspace: Workspace, project_id: str) -> Agreement | None:
    """The project's last evaluation, per code with its trust verdict (None: never evaluated,
    or not with the page's method)."""
    with workspace.store.read() as connection:
        get_project(connection, project_id)
        stored = last_evaluation(connection, project_id)
    if stored is None:
        return None
    report = Report.model_validate_json(stored)
    result = next((r for r in report.methods if r.method == AGREEMENT_METHOD), None)
    if result is None:
        return None
    level = human_level(report.human_reference)
    return Agreement(
        method=result.method,
        kappa=result.kappa,
        codes=[
            CodeAgreement(
                code=row.code,
                name=row.name,
                humans=row.n_true,
                kappa=row.kappa,
                low=None if row.kappa_ci is None else row.kappa_ci.low,
                high=None if row.kappa_ci is None else row.kappa_ci.high,
                verdict=code_verdict(row, level),
            )
            for row in result.per_code
        ],
        rule=rule_text(level),
        notes=tuple(report.notes),
    )
