"""Each project's exemplar vectors in a FAISS index, saved under ``data_dir/projects/<id>``.

The database is the truth; the index is a copy kept in step with it. Every change to a project's
exemplars bumps the project's ``change_counter`` in the same transaction, and is applied to the
in-memory index right after the commit (under the store's write lock, so in commit order). Saves
happen every ``index_save_seconds`` and at shutdown, not per request, because the database
already holds every embedding.

Beside the saved index, ``index-state.json`` records which project incarnation (``uid``) and
which ``change_counter`` the saved index reflects. At startup the saved index is used only when
it loads, was built with the current model, belongs to this incarnation, matches the counter and
holds exactly the database's exemplar ids; otherwise it is rebuilt from the stored embeddings.

Why a counter read before saving is safe: it is taken from memory before ``ExemplarIndex.save``
starts, and memory moves it only after the index has the change. A save racing a change can
therefore only record an *older* counter than the index content, which the database's counter
exposes at the next start as "out of step", causing a rebuild; it can never record a counter
that claims changes the saved index lacks.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from models.index import ExemplarIndex, IndexFileError, IndexMismatchError
from service.errors import NotFoundError

logger = logging.getLogger("intercoder.service.index")

INDEX_FOLDER = "index"
STATE_FILE = "index-state.json"
VectorLoader = Callable[[], tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]


@dataclass(frozen=True)
class StoredState:
    """What the database says a project's index must hold."""

    uid: str
    change_counter: int
    ids: npt.NDArray[np.int64]


class ProjectIndex:
    """One project's index in memory, the change it reflects, and whether it needs saving."""

    def __init__(
        self, directory: Path, uid: str, index: ExemplarIndex, counter: int, *, saved: bool = True
    ) -> None:
        self.directory = directory
        self.uid = uid
        self.index = index
        self.counter = counter
        self._saved_counter = counter if saved else -1
        self._save_lock = threading.Lock()
        self._retired = False

    def apply(
        self,
        counter: int,
        add_ids: npt.NDArray[np.int64] | None = None,
        add_vectors: npt.NDArray[np.float32] | None = None,
        remove_ids: list[int] | None = None,
    ) -> None:
        """Apply one committed change; call under the store's write lock, in commit order."""
        if remove_ids:
            self.index.remove(np.asarray(remove_ids, dtype=np.int64))
        if add_ids is not None and add_vectors is not None and len(add_ids):
            self.index.add(add_ids, add_vectors)
        self.counter = counter  # last: a concurrent save must never record it before the change

    def save_if_changed(self) -> bool:
        """Save the index and its state file when changes were applied since the last save."""
        with self._save_lock:
            counter = self.counter
            if counter == self._saved_counter or self._retired:
                return False
            save(self.directory, self.index, self.uid, counter)
            self._saved_counter = counter
            return True

    def retire(self) -> None:
        """Never save again (the project was deleted); waits for a save in progress, so the
        project's folder can be removed without a save writing into it afterwards."""
        with self._save_lock:
            self._retired = True


def save(directory: Path, index: ExemplarIndex, uid: str, counter: int) -> None:
    """The index (crash-safe, by ExemplarIndex.save), then the state naming what it holds."""
    index.save(directory / INDEX_FOLDER)
    state = json.dumps({"uid": uid, "change_counter": counter}).encode()
    _write_atomically(directory / STATE_FILE, state)


def open_index(
    directory: Path,
    stored: StoredState,
    *,
    model_id: str,
    dim: int,
    load_vectors: VectorLoader,
) -> tuple[ProjectIndex, str | None]:
    """The saved index if it agrees with the database, else one rebuilt from it.

    Returns the index and why it was rebuilt (None when the saved one was used).
    """
    try:
        index = ExemplarIndex.load(
            directory / INDEX_FOLDER, expected_model_id=model_id, expected_dim=dim
        )
        reason = _disagreement(directory, index, stored)
    except IndexMismatchError as error:
        reason = f"it was built with another model ({error})"
    except IndexFileError as error:
        reason = f"it is missing or unreadable ({error})"
    if reason is None:
        return ProjectIndex(directory, stored.uid, index, stored.change_counter), None
    ids, vectors = load_vectors()
    rebuilt = ExemplarIndex(dim, model_id=model_id, codebook_version="")
    if len(ids):
        rebuilt.add(ids, vectors)
    save(directory, rebuilt, stored.uid, stored.change_counter)
    return ProjectIndex(directory, stored.uid, rebuilt, stored.change_counter), reason


def new_index(directory: Path, uid: str, *, model_id: str, dim: int) -> ProjectIndex:
    """An empty index for a new project; whatever a deleted namesake left is removed first.

    Saved at the first change, so a failing disk cannot keep the new project from working.
    """
    shutil.rmtree(directory, ignore_errors=True)
    index = ExemplarIndex(dim, model_id=model_id, codebook_version="")
    return ProjectIndex(directory, uid, index, 0, saved=False)


def _disagreement(directory: Path, index: ExemplarIndex, stored: StoredState) -> str | None:
    """Why the loaded index does not reflect the database, or None when it does."""
    try:
        state = json.loads((directory / STATE_FILE).read_bytes())
        uid, counter = str(state["uid"]), int(state["change_counter"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"its state file is missing or unreadable ({error})"
    if uid != stored.uid:
        return "it belongs to an earlier project of the same id"
    if counter != stored.change_counter:
        return f"it reflects change {counter} but the database is at change {stored.change_counter}"
    if not np.array_equal(index.ids(), np.sort(stored.ids)):
        return f"it holds {len(index)} exemplars but the database {len(stored.ids)}"
    return None


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".state-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class ProjectIndexes:
    """Every open project's index, by project id; saved together by the periodic saver."""

    def __init__(self, projects_dir: Path, *, model_id: str, dim: int) -> None:
        self.projects_dir = projects_dir
        self.model_id = model_id
        self.dim = dim
        self._open: dict[str, ProjectIndex] = {}
        self._lock = threading.Lock()

    def directory(self, project_id: str) -> Path:
        return self.projects_dir / project_id

    def open(self, project_id: str, stored: StoredState, load_vectors: VectorLoader) -> None:
        project, reason = open_index(
            self.directory(project_id),
            stored,
            model_id=self.model_id,
            dim=self.dim,
            load_vectors=load_vectors,
        )
        if reason is not None:
            logger.warning(
                "rebuilt the exemplar index of project %s from the database: %s",
                project_id,
                reason,
            )
        with self._lock:
            self._open[project_id] = project

    def create(self, project_id: str, uid: str) -> None:
        project = new_index(self.directory(project_id), uid, model_id=self.model_id, dim=self.dim)
        with self._lock:
            self._open[project_id] = project

    def get(self, project_id: str) -> ProjectIndex:
        with self._lock:
            found = self._open.get(project_id)
        if found is None:  # deleted meanwhile, or never created
            raise NotFoundError(f"there is no project {project_id!r}; list them: GET /v1/projects")
        return found

    def drop(self, project_id: str) -> None:
        """Forget a deleted project and remove its folder."""
        with self._lock:
            dropped = self._open.pop(project_id, None)
        if dropped is not None:
            dropped.retire()
        shutil.rmtree(self.directory(project_id), ignore_errors=True)

    def remove_orphans(self, known: set[str]) -> None:
        """Remove folders of projects the database no longer has (a crash after a delete)."""
        if not self.projects_dir.is_dir():
            return
        for folder in self.projects_dir.iterdir():
            if folder.is_dir() and folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)

    def save_changed(self) -> int:
        """Save every index changed since its last save; returns how many were saved."""
        with self._lock:
            projects = list(self._open.items())
        saved = 0
        for project_id, project in projects:
            try:
                saved += project.save_if_changed()
            except Exception as error:  # the saver thread must live on to save later
                # The database still has everything; the next start rebuilds this index.
                logger.warning(
                    "could not save the exemplar index of project %s (%s); the database has "
                    "every change, and the next start rebuilds the index from it if need be",
                    project_id,
                    error,
                    exc_info=not isinstance(error, OSError),  # a disk problem needs no trace
                )
        return saved
