"""The store's schema upgrades: a database written by an earlier intercoder opens upgraded,
its data intact; one written by a newer intercoder is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from service.errors import StoreError
from service.store.database import Store
from service.store.evaluations import last_evaluation, save_evaluation
from service.store.schema import SCHEMA, SCHEMA_VERSION


def _version_one(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        for statement in SCHEMA:
            connection.execute(statement)
        connection.execute("PRAGMA user_version = 1")
        connection.execute(
            "INSERT INTO projects (id, name, uid, created_at) VALUES ('old', 'Old', 'u', 'then')"
        )


def test_a_version_one_database_opens_upgraded_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "intercoder.sqlite3"
    _version_one(path)
    store = Store(path)
    try:
        with store.read() as connection:
            assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert connection.execute("SELECT id FROM projects").fetchall() == [("old",)]
            assert connection.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 0
        with store.write() as transaction:
            save_evaluation(transaction.connection, "old", '{"a": 1}')
            save_evaluation(transaction.connection, "old", '{"a": 2}')
        with store.read() as connection:
            assert last_evaluation(connection, "old") == '{"a": 2}'
            assert last_evaluation(connection, "other") is None
    finally:
        store.close()
    Store(path).close()  # opening an upgraded database again changes nothing


def test_a_database_from_a_newer_intercoder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "intercoder.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        Store(path)
