"""The service's SQLite store: one database file, WAL mode, one transaction per request.

Durability: WAL with ``synchronous=FULL``. Every commit fsyncs the WAL, so a request the client
saw succeed survives a crash of the process *and* of the machine. ``NORMAL`` would survive a
killed process but may drop the last commits on power loss; one fsync per request costs far
less than embedding the request's sentences, so the service does not take that risk.

Concurrency: all writers share one process-wide lock and open their transaction with
``BEGIN IMMEDIATE``, so two requests never race for SQLite's write lock (no ``SQLITE_BUSY``
surprises mid-request) and in-memory state updated after a commit (the project's exemplar index)
is changed in commit order. Readers use one connection per thread and read a consistent WAL
snapshot without waiting for the writer.

The query functions live beside this module (``service.store.projects``, ``.exemplars``...); each
takes the connection of the transaction it runs in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from service.errors import StoreError, storage_full_error
from service.store.locks import hold_lock
from service.store.schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION

_BUSY_TIMEOUT_MS = 30_000
logger = logging.getLogger("intercoder.service.store.database")


def now() -> str:
    """The time stamps the store writes: UTC, ISO 8601, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Transaction:
    """A write transaction: its connection, and work to do once it has committed."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after COMMIT, still under the write lock (so in commit order)."""
        self._after_commit.append(callback)


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn a full disk (SQLite's SQLITE_FULL, or ENOSPC, EDQUOT, EFBIG from a file write) into
    StorageFullError, the 507 the client can act on; other errors pass unchanged."""
    try:
        yield
    except (sqlite3.Error, OSError) as error:
        full = storage_full_error(error)
        if full is None:
            raise
        raise full from error


def _run_after_commit(callback: Callable[[], None]) -> None:
    """The request has succeeded once committed: a failure to update memory afterwards is
    logged, never reported as the request's failure (the database stays the truth)."""
    try:
        callback()
    except Exception:
        logger.exception("updating memory after a commit failed; the database has the change")


class Store:
    """The database file under ``data_dir``, opened (and created or upgraded) once per process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        _check_writable(self.path)
        # Re-entrant so that work after a commit may read under it (writes_paused); a write inside
        # a write is still refused by SQLite (nested BEGIN).
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        # Shared by every open store of every process; intercoder restore takes it exclusively,
        # so it never replaces the file under a running service or command.
        try:
            self._user_lock = hold_lock(lock_path(self.path), "shared")
        except BlockingIOError as error:
            raise StoreError(
                f"the database {self.path} is being restored (intercoder restore); try again "
                "when it has finished"
            ) from error
        try:
            self._writer = self._connect()
        except BaseException:
            self._user_lock.close()
            raise
        self._create_schema()

    # ----- transactions --------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._write_lock, storage_errors():
            transaction = Transaction(self._writer)
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield transaction
            except BaseException:
                # SQLite has already rolled back after some errors (SQLITE_FULL among them);
                # a second ROLLBACK would fail and hide the error that matters.
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                raise
            try:
                self._writer.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:  # e.g. a full disk: nothing was committed
                    self._writer.execute("ROLLBACK")
                raise
            for callback in transaction._after_commit:
                _run_after_commit(callback)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on this thread's connection: one consistent snapshot."""
        connection = self._thread_connection()
        connection.execute("BEGIN")
        try:
            yield connection
        finally:
            connection.execute("COMMIT")

    @contextmanager
    def writes_paused(self) -> Iterator[sqlite3.Connection]:
        """A read while no write can commit, so memory updated after commits agrees with it."""
        with self._write_lock, self.read() as connection:
            yield connection

    def ping(self) -> None:
        """Raise StoreError unless the database answers a query."""
        try:
            with self.read() as connection:
                connection.execute("SELECT 1").fetchone()
        except sqlite3.Error as error:
            raise StoreError(f"the database {self.path} does not answer: {error}") from error

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close every connection."""
        with self._write_lock, self._connections_lock:
            if self._closed:
                return
            self._closed = True
            # Fails while a reader holds a snapshot; the WAL is then replayed at the next open.
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            for connection in self._connections:
                connection.close()
            self._user_lock.close()

    # ----- internals -----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            # isolation_level=None: the store issues BEGIN/COMMIT itself, exactly once each.
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as error:
            raise StoreError(
                f"cannot open the database {self.path}: {error}; check the data directory's "
                "permissions and free space, or restore the file from a backup"
            ) from error
        with self._connections_lock:
            if self._closed:
                connection.close()
                raise StoreError("the store is closed; the service is shutting down")
            self._connections.append(connection)
        return connection

    def _thread_connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
        return connection

    def _create_schema(self) -> None:
        try:
            self._migrate()
        except sqlite3.Error as error:
            self.close()
            raise StoreError(
                f"cannot open the database {self.path}: {error}; check that the file is "
                "writable and the disk has space, or restore the file from a backup "
                "(intercoder restore)"
            ) from error
        except BaseException:
            self.close()
            raise

    def _migrate(self) -> None:
        with self._write_lock:
            # Statement by statement inside one transaction, not executescript (which commits
            # first), so a crash mid-way leaves no half-made schema.
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                version = int(self._writer.execute("PRAGMA user_version").fetchone()[0])
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"the database {self.path} has schema version {version}, newer than "
                        f"this intercoder's {SCHEMA_VERSION}; upgrade intercoder or use another "
                        "data directory (intercoder --data-dir)"
                    )
                if version == 0:
                    for statement in SCHEMA:
                        self._writer.execute(statement)
                    version = 1
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[step]:
                        self._writer.execute(statement)
                self._writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")


def lock_path(database: Path) -> Path:
    """The file whose lock says who uses the database: every open store holds it shared,
    restore exclusively (see ``service.store.locks``)."""
    return database.with_name(database.name + ".lock")


def _check_writable(path: Path) -> None:
    """Refuse at once, in one line, a data directory or database the process cannot write.

    SQLite would open a read-only file and fail only at the first write (or say "unable to
    open database file" for a read-only folder, where it must create the WAL beside it)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"cannot create the data directory {path.parent}: {error.strerror}; create it, or "
            "set INTERCODER_DATA_DIR (intercoder --data-dir) to a writable folder"
        ) from error
    for where, what in ((path.parent, "data directory"), (path, "database file")):
        if where.exists() and not os.access(where, os.W_OK):
            raise StoreError(
                f"the {what} {where} is read-only for this process; intercoder writes its "
                "database (and the journal beside it) there: make it writable, or set "
                "INTERCODER_DATA_DIR (intercoder --data-dir) to a writable folder"
            )
