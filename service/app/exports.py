"""Use case: a project's codings (every exemplar) as a coded-units CSV; the API's
``GET .../exemplars`` as CSV and the review page's download both call it."""

from __future__ import annotations

import io

from codebook.coded_csv import write_coded_csv
from service.app.workspace import Workspace
from service.store.exemplars import all_exemplars, coded_units
from service.store.projects import current_codebook


def codings_csv(workspace: Workspace, project_id: str) -> str:
    """The project's codings (every exemplar) as a coded-units CSV."""
    with workspace.store.read() as connection:
        current_codebook(connection, project_id)  # NotFoundError for an unknown project
        rows = all_exemplars(connection, project_id)
    buffer = io.StringIO()
    write_coded_csv(coded_units(rows), buffer)
    return buffer.getvalue()
