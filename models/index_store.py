"""On-disk form of the exemplar index: ``index.faiss`` plus ``index.json``, saved crash-safely.

Two files cannot be replaced in one atomic step, so ``index.json`` is the commit record: it
holds the SHA-256 of the ``index.faiss`` it belongs to. A save writes both to temporary files
(fsynced), moves the committed ``index.faiss`` aside to ``index.faiss.prev``, renames the new
files into place (``index.json`` last) and only then deletes the ``.prev``. A crash at any
point leaves an ``index.json`` whose digest matches either ``index.faiss`` or
``index.faiss.prev``, and loading picks whichever matches, so the previous save stays readable.
The digest also catches truncated or corrupted ``index.faiss`` files before FAISS parses them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import faiss
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.errors import IndexFileError, IndexMismatchError
from models.index_faiss import kind_of

FORMAT_VERSION = 1
FAISS_FILE = "index.faiss"
JSON_FILE = "index.json"
PREVIOUS_FAISS_FILE = "index.faiss.prev"
_TEMP_PREFIX = ".index-saving-"
_CHUNK = 8 << 20


class IndexSettings(BaseModel):
    """How the index was configured, so a loaded index behaves as the saved one did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["auto", "exact", "hnsw"]
    approximate_above: int = Field(ge=0)
    hnsw_m: int = Field(ge=2)
    ef_search: int = Field(ge=1)
    ef_construction: int = Field(ge=1)


class IndexRecord(BaseModel):
    """Everything in ``index.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: Literal[1]
    model_id: str
    codebook_version: str
    dim: int = Field(ge=1)
    kind_in_use: Literal["exact", "hnsw"]
    count: int = Field(ge=0)
    settings: IndexSettings
    tombstone_labels: list[int]
    faiss_sha256: str
    faiss_bytes: int = Field(ge=0)


def save_index(directory: Path, index: Any, record: dict[str, Any]) -> None:
    """Write ``index`` and ``record`` (less the digest, which is added here) crash-safely."""
    directory.mkdir(parents=True, exist_ok=True)
    _remove_leftover_temp_files(directory)
    faiss_tmp = _temp_path(directory, FAISS_FILE)
    json_tmp = _temp_path(directory, JSON_FILE)
    try:
        try:
            faiss.write_index(index, str(faiss_tmp))
        except RuntimeError as error:  # FAISS reports a failed write (a full disk) this way
            raise OSError(f"FAISS could not write {faiss_tmp}: {error}") from error
        digest, size = _sha256_and_fsync(faiss_tmp)
        full_record = {**record, "faiss_sha256": digest, "faiss_bytes": size}
        _write_and_fsync(json_tmp, json.dumps(full_record, indent=1).encode())
        _keep_committed_faiss_as_previous(directory)
        os.replace(faiss_tmp, directory / FAISS_FILE)
        os.replace(json_tmp, directory / JSON_FILE)
        fsync_directory(directory)
        (directory / PREVIOUS_FAISS_FILE).unlink(missing_ok=True)
    finally:
        faiss_tmp.unlink(missing_ok=True)
        json_tmp.unlink(missing_ok=True)


def read_record(directory: Path) -> IndexRecord:
    """Parse and validate ``index.json``; IndexFileError naming the file if that fails."""
    path = directory / JSON_FILE
    try:
        raw = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise IndexFileError(
            f"{path}: expected a saved exemplar index here; found no {JSON_FILE}; "
            "fix: check the directory or build and save the index"
        ) from None
    except (OSError, ValueError) as error:
        raise IndexFileError(
            f"{path}: expected JSON written by ExemplarIndex.save; found unreadable content "
            f"({error}); fix: restore the directory from a backup or rebuild the index"
        ) from error
    version = raw.get("format_version") if isinstance(raw, dict) else None
    if version != FORMAT_VERSION:
        raise IndexFileError(
            f"{path}: expected index format_version {FORMAT_VERSION}; found {version!r}; "
            "fix: rebuild the index with this version of intercoder"
        )
    try:
        return IndexRecord.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()[:5]
        )
        raise IndexFileError(
            f"{path}: expected the fields ExemplarIndex.save writes; found {problems}; "
            "fix: restore the directory from a backup or rebuild the index"
        ) from error


def read_faiss(directory: Path, record: IndexRecord) -> Any:
    """Read the ``index.faiss`` (or the ``.prev`` a crashed save left) that ``record`` commits."""
    path = _committed_faiss_path(directory, record)
    try:
        return faiss.read_index(str(path))
    except RuntimeError as error:
        raise IndexFileError(
            f"{path}: expected a FAISS index; FAISS could not read it ({error}); "
            "fix: rebuild the index"
        ) from error


def _committed_faiss_path(directory: Path, record: IndexRecord) -> Path:
    current = directory / FAISS_FILE
    candidates = [current, directory / PREVIOUS_FAISS_FILE]
    for path in candidates:
        if _matches(path, record):
            return path
    if not current.exists():
        found = f"no {FAISS_FILE}"
    else:
        found = f"{FAISS_FILE} of {current.stat().st_size} bytes with another SHA-256"
    raise IndexFileError(
        f"{current}: expected the file {JSON_FILE} describes ({record.faiss_bytes} bytes, SHA-256 "
        f"{record.faiss_sha256[:12]}...); found {found}, so it is corrupt, truncated or from "
        "another save; fix: restore the directory from a backup or rebuild the index"
    )


def _matches(path: Path, record: IndexRecord) -> bool:
    try:
        if path.stat().st_size != record.faiss_bytes:
            return False
        return _sha256(path) == record.faiss_sha256
    except OSError:
        return False


def _keep_committed_faiss_as_previous(directory: Path) -> None:
    """Move the ``index.faiss`` that ``index.json`` commits to ``index.faiss.prev``.

    If an earlier save crashed after moving it aside, ``.prev`` may already be the committed
    file and ``index.faiss`` an uncommitted one, which the coming rename simply overwrites.
    """
    current = directory / FAISS_FILE
    previous = directory / PREVIOUS_FAISS_FILE
    if previous.exists() and _previous_is_committed(directory):
        return
    if current.exists():
        os.replace(current, previous)
        fsync_directory(directory)


def _previous_is_committed(directory: Path) -> bool:
    try:
        record = read_record(directory)
    except IndexFileError:
        return False
    return _matches(directory / PREVIOUS_FAISS_FILE, record)


def _temp_path(directory: Path, name: str) -> Path:
    handle, path = tempfile.mkstemp(dir=directory, prefix=f"{_TEMP_PREFIX}{name}.", suffix=".tmp")
    os.close(handle)
    return Path(path)


def _remove_leftover_temp_files(directory: Path) -> None:
    for leftover in directory.glob(f"{_TEMP_PREFIX}*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _write_and_fsync(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_and_fsync(path: Path) -> tuple[str, int]:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())
    return _sha256(path), path.stat().st_size


def fsync_directory(directory: Path) -> None:
    # Renames are durable only once the directory entry is on disk.
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def check_model(
    directory: Path, record: IndexRecord, expected_model_id: str, expected_dim: int | None
) -> None:
    """Refuse an index built with another model or dimension: its vectors are incomparable."""
    if record.model_id != expected_model_id:
        raise IndexMismatchError(
            f"{directory}: the index was built with model {record.model_id!r} but the current "
            f"model is {expected_model_id!r}, so its vectors cannot be compared; fix: rebuild "
            "the index with the current model"
        )
    if expected_dim is not None and record.dim != expected_dim:
        raise IndexMismatchError(
            f"{directory}: the index holds {record.dim}-dimensional vectors but the current "
            f"model makes {expected_dim}-dimensional ones; fix: rebuild the index with the "
            "current model"
        )


def check_loaded(directory: Path, record: IndexRecord, loaded: Any) -> None:
    """Raise unless the FAISS index read is the one ``record`` describes."""
    kind = kind_of(loaded)
    if kind != record.kind_in_use or loaded.d != record.dim:
        raise inconsistent(
            directory, f"{record.kind_in_use} index of dim {record.dim} but FAISS holds another"
        )
    tombstones = record.tombstone_labels
    if tombstones and (kind == "exact" or min(tombstones) < 0 or max(tombstones) >= loaded.ntotal):
        raise inconsistent(directory, "tombstone labels outside the index")


def inconsistent(directory: Path, found: str) -> IndexFileError:
    """An IndexFileError saying index.json and index.faiss disagree about ``found``."""
    return IndexFileError(
        f"{directory / JSON_FILE}: expected it to describe index.faiss; found {found}; "
        "fix: restore the directory from a backup or rebuild the index"
    )
