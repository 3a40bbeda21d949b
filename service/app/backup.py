"""Backing up and restoring the service's database (``intercoder backup`` and ``restore``).

The database is the whole truth: every exemplar keeps its embedding, so the project indexes
under ``data_dir/projects`` are rebuilt from it at the next start and are not part of a backup
(nor is the embedding cache, which only saves time).

Backup uses SQLite's online backup API in one step: it copies one consistent snapshot (WAL
readers never block the writer), so a service may keep writing meanwhile and every write it
acknowledged before the backup began is in the copy. The copy is checked
(``PRAGMA integrity_check``), made a single self-contained file (no WAL beside it), and linked
into place atomically (a hard link, which unlike a rename never overwrites a file that
appeared meanwhile). It holds the store's shared lock meanwhile, as every open store does, so
a restore cannot replace the file under it.

Restore checks the file first (an SQLite database that passes its integrity check, with
intercoder's tables and a schema version this intercoder can open), refuses while any service
or command has the database open (the store's shared lock, see ``service.store.database``),
keeps the current database aside as ``intercoder.sqlite3.before-restore-<time>`` (written
under a partial name and renamed; only SQLite's "not a database" or "corrupt" make it keep
the files as they are, a busy or locked database stops the restore), and swaps the
restored copy in with one atomic rename, so a crash at any point leaves either the old database
or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from models.index_store import fsync_directory
from service.errors import BackupError
from service.settings import Settings
from service.store.database import lock_path, storage_errors
from service.store.locks import hold_lock
from service.store.schema import SCHEMA_VERSION

REQUIRED_TABLES = frozenset({"projects", "codebooks", "exemplars", "transcripts", "decisions"})
"""Tables every intercoder database has had since schema version 1."""


@dataclass(frozen=True)
class DatabaseSummary:
    """What a database file holds, as backup and restore report it."""

    path: Path
    schema_version: int
    projects: int
    exemplars: int
    size_bytes: int


@dataclass(frozen=True)
class RestoreReport:
    restored: DatabaseSummary
    previous_kept_as: Path | None
    """Where the replaced database now is (None when the data directory had none)."""


def backup_database(settings: Settings, target: Path) -> DatabaseSummary:
    """Copy the database to ``target`` (which must not exist), consistent while it is written."""
    source = settings.database_path
    if not source.is_file():
        raise BackupError(
            f"there is no database at {source} to back up; check --data-dir "
            "(intercoder info shows the data directory in use)"
        )
    if target.exists():
        raise _already_there(target)
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist; create it first")
    with _shared(source), _partial(target) as partial:
        _copy(source, partial)
        _check(partial)
        _place_without_overwriting(partial, target)
    fsync_directory(target.parent)
    return summarise(target)


def _place_without_overwriting(partial: Path, target: Path) -> None:
    """Give the finished copy its name, atomically, unless a file of that name appeared while
    it was written (os.replace would overwrite it): a hard link fails when the name exists."""
    try:
        os.link(partial, target)
    except FileExistsError as error:
        raise _already_there(target) from error
    except OSError as error:  # e.g. EPERM, EOPNOTSUPP: a file system without hard links
        raise BackupError(
            f"cannot place the backup at {target}: its folder does not support hard links "
            f"({error.strerror}), which backup needs to never overwrite a file; write the "
            "backup to a folder on a local disk, then copy it where you want it"
        ) from error


def _already_there(target: Path) -> BackupError:
    return BackupError(f"{target} already exists; give a new file name, backups never overwrite")


def restore_database(settings: Settings, backup: Path) -> RestoreReport:
    """Replace the database with ``backup`` after checking it; the old one is kept aside."""
    summarise(backup)  # refuses a file that is not a database this version opens
    database = settings.database_path
    database.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(database):
        kept: Path | None = None
        if database.exists():
            kept = database.with_name(f"{database.name}.before-restore-{_stamp()}")
            _set_aside(database, kept)
        with _partial(database) as partial:
            _copy(backup, partial)
            os.replace(partial, database)
        fsync_directory(database.parent)
        # Indexes describe the replaced database; the next start rebuilds them from this one.
        shutil.rmtree(settings.projects_dir, ignore_errors=True)
    return RestoreReport(restored=summarise(database), previous_kept_as=kept)


def summarise(path: Path) -> DatabaseSummary:
    """What an intercoder database holds; BackupError when ``path`` is not one this version
    can open (not SQLite, damaged, another application's, or a newer schema)."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file; give the backup file made by intercoder backup")
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            counts = [_count(db, table) for table in ("projects", "exemplars")]
            problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.Error as error:
        raise BackupError(f"{path} is not a readable SQLite database ({error})") from error
    missing = REQUIRED_TABLES - tables
    if missing:
        raise BackupError(
            f"{path} is not an intercoder database: it lacks the tables {sorted(missing)}"
        )
    if problems != ["ok"]:
        raise BackupError(f"{path} is damaged: integrity check says {'; '.join(problems[:3])}")
    if not 1 <= version <= SCHEMA_VERSION:
        raise BackupError(
            f"{path} has schema version {version}, but this intercoder opens versions 1 to "
            f"{SCHEMA_VERSION}; restore it with the intercoder that wrote it, or upgrade"
        )
    return DatabaseSummary(path, version, counts[0], counts[1], path.stat().st_size)


def _count(db: sqlite3.Connection, table: str) -> int:
    try:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:  # no such table: reported by the caller, by name
        return 0


def _copy(source: Path, target: Path) -> None:
    """One consistent snapshot of ``source`` into ``target``, as one file without a WAL."""
    try:
        with (
            contextlib.closing(sqlite3.connect(source)) as origin,
            contextlib.closing(sqlite3.connect(target)) as copy,
            storage_errors(),
        ):
            origin.backup(copy)  # pages=-1: all in one step, so one snapshot
            copy.execute("PRAGMA journal_mode = DELETE")
            copy.commit()
    except sqlite3.Error as error:
        raise BackupError(f"could not copy {source} to {target}: {error}") from error
    with target.open("rb") as written:
        os.fsync(written.fileno())


def _check(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise BackupError(f"the copy failed its integrity check: {'; '.join(problems[:3])}")


def _set_aside(database: Path, kept: Path) -> None:
    """Keep the current database as ``kept``, and leave no WAL beside it for the new one.

    Each kept file is written under a partial name, fsynced and renamed, so a full disk leaves
    no truncated copy that looks whole; any failure replaces nothing."""
    try:
        with _partial(kept) as partial:
            _copy(database, partial)  # reads the WAL too: nothing committed is left out
            os.replace(partial, kept)
        _drop_wal(database)
    except (BackupError, sqlite3.DatabaseError) as error:
        if not _damaged(error):  # busy, locked, read-only, full: not the file's fault
            kept.unlink(missing_ok=True)
            raise _not_kept(database, error) from error
        # Damaged (often why one restores): kept as the files are, its WAL and all.
        _keep_files_as_they_are(database, kept)
        for suffix in ("-wal", "-shm"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)


def _damaged(error: BaseException) -> bool:
    """Whether SQLite said the file is not a database or is corrupt (an error of _copy is a
    BackupError raised from SQLite's)."""
    cause = error if isinstance(error, sqlite3.Error) else error.__cause__
    code = getattr(cause, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


def _keep_files_as_they_are(database: Path, kept: Path) -> None:
    placed: list[Path] = []
    try:
        for suffix in ("", "-wal", "-shm"):
            current = database.with_name(database.name + suffix)
            if current.exists():
                target = kept.with_name(kept.name + suffix)
                with _partial(target) as partial:
                    shutil.copyfile(current, partial)
                    with partial.open("rb") as written:
                        os.fsync(written.fileno())
                    os.replace(partial, target)
                placed.append(target)
    except OSError as error:
        for target in placed:  # a part of the set would look like the whole
            target.unlink(missing_ok=True)
        raise _not_kept(database, error) from error
    fsync_directory(kept.parent)


def _not_kept(database: Path, error: BaseException) -> BackupError:
    return BackupError(
        f"could not keep the current database {database} aside ({error}); nothing was "
        "replaced: free space, or stop whatever else uses the file, then run restore again"
    )


def _drop_wal(database: Path) -> None:
    """Fold the WAL into the database file and remove it, so the file that replaces this one
    never meets a WAL written for another."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode = DELETE")
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)


@contextlib.contextmanager
def _shared(database: Path) -> Iterator[None]:
    """The store's lock, shared as every open store holds it: a restore waits for the backup."""
    try:
        lock = hold_lock(lock_path(database), "shared")
    except BlockingIOError as error:
        raise BackupError(
            f"the database {database} is being restored (intercoder restore); back it up when "
            "the restore has finished"
        ) from error
    with lock:
        yield


@contextlib.contextmanager
def _exclusive(database: Path) -> Iterator[None]:
    """The store's lock, alone: no service or command has the database open meanwhile."""
    try:
        lock = hold_lock(lock_path(database), "exclusive")
    except BlockingIOError as error:
        raise _in_use(database) from error
    with lock:
        try:
            yield
        except PermissionError as error:
            # Windows takes no shared lock (service.store.locks) but refuses to replace or
            # delete a file another process has open: the same "in use", found later.
            raise _in_use(database, f" ({error})") from error


def _in_use(database: Path, detail: str = "") -> BackupError:
    return BackupError(
        f"the database {database} is open in a running intercoder (a service or a "
        f"command){detail}; stop it (e.g. the `intercoder serve` process, or `docker stop`), "
        "then run restore again"
    )


@contextlib.contextmanager
def _partial(target: Path) -> Iterator[Path]:
    """A temporary file beside ``target``, removed unless it was moved into place."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        yield partial
    finally:
        partial.unlink(missing_ok=True)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
