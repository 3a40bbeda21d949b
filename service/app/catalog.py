"""Use cases of ``intercoder projects``: list, show and delete the local store's projects
without loading the model, which takes seconds and is not needed to read or drop rows.

Deleting here while a service runs on the same data folder leaves that service holding the
project's index in memory: stop it first, or delete through its API (DELETE /v1/projects/ID).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from service.errors import NotFoundError
from service.settings import Settings
from service.store.catalog import ProjectActivity, project_activity, transcript_counts
from service.store.database import Store
from service.store.projects import (
    CodebookVersionRow,
    ProjectRow,
    all_projects,
    codebook_versions,
    delete_project,
    get_project,
)


@dataclass(frozen=True)
class ProjectSummary:
    """One line of ``intercoder projects list``."""

    project: ProjectRow
    transcripts: int


@dataclass(frozen=True)
class ProjectDetails:
    """What ``intercoder projects show`` prints."""

    project: ProjectRow
    codebook: CodebookVersionRow
    codebook_versions: int
    activity: ProjectActivity


@contextmanager
def _existing_store(settings: Settings) -> Iterator[Store | None]:
    """The store, or None where the data folder has none yet (reading must not create one)."""
    if not settings.database_path.is_file():
        yield None
        return
    store = Store(settings.database_path)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _store_with(settings: Settings, project_id: str) -> Iterator[Store]:
    """The store, for work on one project; NotFoundError naming the data folder (a user with
    several may be looking in the wrong one) if it has no such project."""
    missing = NotFoundError(
        f"there is no project {project_id!r} in {settings.data_dir}; "
        "list them with: intercoder projects list"
    )
    with _existing_store(settings) as store:
        if store is None:
            raise missing
        try:
            yield store
        except NotFoundError:
            raise missing from None


def list_local_projects(settings: Settings) -> list[ProjectSummary]:
    """Every project of the store, by id; none where there is no store yet."""
    with _existing_store(settings) as store:
        if store is None:
            return []
        with store.read() as connection:
            counts = transcript_counts(connection)
            return [
                ProjectSummary(project, counts.get(project.id, 0))
                for project in all_projects(connection)
            ]


def local_project_details(settings: Settings, project_id: str) -> ProjectDetails:
    """The project's rows, counts and current codebook (NotFoundError if absent)."""
    with _store_with(settings, project_id) as store, store.read() as connection:
        project = get_project(connection, project_id)
        versions = codebook_versions(connection, project_id)
        activity = project_activity(connection, project_id)
    current = next(version for version in versions if version.current)
    return ProjectDetails(project, current, len(versions), activity)


def delete_local_project(settings: Settings, project_id: str) -> None:
    """Delete the project and everything in it: its rows, its saved index and its batch
    results (NotFoundError if absent). The folders go after the commit, as
    :func:`service.app.projects.remove_project` drops them, so a failed delete keeps them."""
    with _store_with(settings, project_id) as store, store.write() as transaction:
        delete_project(transaction.connection, project_id)

        def remove_folders() -> None:
            # the index folder as ProjectIndexes.directory names it
            shutil.rmtree(settings.projects_dir / project_id, ignore_errors=True)
            shutil.rmtree(settings.batches_dir / project_id, ignore_errors=True)

        transaction.after_commit(remove_folders)
