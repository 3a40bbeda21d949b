"""Use cases: create a project with its codebook and an empty index beside it; replace its
codebook (earlier versions kept); delete one with everything in it."""

from __future__ import annotations

import sqlite3

from codebook.errors import CodedDataError, Problem
from codebook.model import Codebook
from service.app.batch_jobs import remove_project_batches
from service.app.workspace import Workspace
from service.settings import Settings, get_settings
from service.store.database import Store
from service.store.exemplars import all_code_sets
from service.store.projects import (
    ProjectRow,
    add_codebook,
    delete_project,
    insert_project,
    require_project,
)


def create_project(
    workspace: Workspace, project_id: str, name: str, codebook: Codebook
) -> ProjectRow:
    """A new project (ConflictError if the id is taken); its index opens once committed."""
    with workspace.store.write() as transaction:
        row = insert_project(transaction.connection, project_id, name, codebook)

        def open_empty_index() -> None:
            workspace.indexes.create(project_id, row.uid)
            workspace.metrics.set_exemplar_count(project_id, 0)

        transaction.after_commit(open_empty_index)
    return row


def require_stored_project(project_id: str, settings: Settings | None = None) -> None:
    """NotFoundError unless the local store has this project: checked before a command loads
    the model, so a typo fails at once."""
    store = Store((settings or get_settings()).database_path)
    try:
        with store.read() as connection:
            require_project(connection, project_id)
    finally:
        store.close()


def remove_project(workspace: Workspace, project_id: str) -> None:
    """Delete the project, its index, its coders, its metrics and its batch results
    (NotFoundError if absent)."""
    with workspace.store.write() as transaction:
        delete_project(transaction.connection, project_id)

        def forget() -> None:
            workspace.indexes.drop(project_id)
            workspace.engine.forget(project_id)
            workspace.metrics.forget_project(project_id)
            remove_project_batches(workspace, project_id)

        transaction.after_commit(forget)


def replace_project_codebook(workspace: Workspace, project_id: str, codebook: Codebook) -> None:
    """A new current codebook, refused (listing every problem) if a stored exemplar would not
    fit it; the next suggestion's coder recalibrates on it."""
    with workspace.store.write() as transaction:
        require_project(transaction.connection, project_id)
        _check_exemplars_fit(transaction.connection, project_id, codebook)
        add_codebook(transaction.connection, project_id, codebook)


def _check_exemplars_fit(
    connection: sqlite3.Connection, project_id: str, codebook: Codebook
) -> None:
    """CodedDataError listing every stored exemplar the new codebook would not allow."""
    problems = [
        Problem(f"exemplar {exemplar_id}", message)
        for exemplar_id, codes in all_code_sets(connection, project_id)
        for message in codebook.code_set_problems(codes)
    ]
    if problems:
        raise CodedDataError(
            f"{len(problems)} problem(s) with stored exemplars under the new codebook; keep "
            "their codes in it, or delete or recode those exemplars first",
            problems,
        )
