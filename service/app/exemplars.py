"""Use cases: add a coded-units table to a project as exemplars (all or nothing), or delete
one exemplar.

The units are embedded before the write transaction (encoding is slow and needs no lock); their
codes are checked against the codebook current *inside* the transaction; rows and embeddings
are stored, the project's change counter bumped and, once committed, the vectors join the
project's index, so the next suggestion learns from them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from codebook.coded import check_codes
from codebook.errors import CodedDataError, Problem
from models.context import units_of_frame
from service.app.workspace import Workspace
from service.errors import BatchTooLargeError
from service.store.exemplars import Origin, delete_exemplar, insert_exemplars, new_exemplars
from service.store.projects import bump_change_counter, current_codebook


@dataclass(frozen=True)
class AddedExemplars:
    ids: list[int]
    count: int
    """The project's exemplars after the addition."""


def add_coded_frame(
    state: Workspace, project_id: str, frame: pd.DataFrame, origin: Origin = "import"
) -> AddedExemplars:
    """Store a coded-units table as exemplars in one transaction; all or nothing."""
    if len(frame) > state.settings.max_batch_exemplars:
        raise BatchTooLargeError(
            f"this request adds {len(frame)} exemplars; at most "
            f"{state.settings.max_batch_exemplars} go in one request; send them in batches"
        )
    _refuse_units_coded_twice(frame)
    vectors = state.embed_units(units_of_frame(frame))
    new = new_exemplars(frame, vectors, origin=origin)
    with state.store.write() as transaction:
        connection = transaction.connection
        check_codes(frame, current_codebook(connection, project_id))
        ids = insert_exemplars(connection, project_id, new, state.encoder.model_id)
        counter = bump_change_counter(connection, project_id)
        transaction.after_commit(
            lambda: state.apply_exemplar_change(
                project_id, counter, add_ids=ids, add_vectors=vectors
            )
        )
    return AddedExemplars(ids=ids, count=len(state.indexes.get(project_id).index))


def _refuse_units_coded_twice(frame: pd.DataFrame) -> None:
    keys = Counter(zip(frame["transcript_id"], frame["unit_id"], strict=True))
    twice = [key for key, count in keys.items() if count > 1]
    if twice:
        raise CodedDataError(
            "a project keeps one coding per unit, but this request codes some units more than "
            "once (several coders?); send one coding per unit, e.g. the coders' majority",
            [Problem(f"transcript {t}, unit {u}", "coded more than once") for t, u in twice],
        )


def remove_exemplar(state: Workspace, project_id: str, exemplar_id: int) -> None:
    """Delete one exemplar; it leaves the project's index once committed, and the next
    suggestion's coder has learned without it."""
    with state.store.write() as transaction:
        delete_exemplar(transaction.connection, project_id, exemplar_id)
        counter = bump_change_counter(transaction.connection, project_id)
        transaction.after_commit(
            lambda: state.apply_exemplar_change(project_id, counter, remove_ids=[exemplar_id])
        )
