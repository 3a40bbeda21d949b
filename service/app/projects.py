"""Use case: create a project with its codebook, and an empty index beside it."""

from __future__ import annotations

from codebook.model import Codebook
from service.app.workspace import Workspace
from service.store.projects import ProjectRow, insert_project


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
