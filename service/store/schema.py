"""The tables of the service's database, created in one transaction by
:class:`service.store.database.Store`.

Design points:

- Every row belongs to a project and goes with it (``ON DELETE CASCADE``).
- An exemplar keeps its embedding (float32 bytes) and the model that made it, so a project's
  FAISS index can always be rebuilt from the database alone, and re-embedded when the model
  changes. ``change_counter`` on the project counts the transactions that changed its exemplars
  (one upload of 500 rows is one change); the saved
  index records the counter it reflects (see ``service.store.project_index``).
- One coding per unit (``UNIQUE (project_id, transcript_id, unit_id)``): a later decision on a
  unit replaces its exemplar, while the decision log keeps every decision.
- The decision log is append-only: triggers refuse UPDATE, and DELETE unless the project itself
  is being deleted.
- Codebooks are versioned: replacing one adds a row; the current one is the newest.
- A project keeps the report of its last evaluation (what a batch run's summary quotes the
  trust verdicts from), and the batch runs (``intercoder code`` as a service job) it was asked.

Upgrades: ``SCHEMA`` is version 1; ``MIGRATIONS[n]`` takes version n-1 to n. A database is
brought to ``SCHEMA_VERSION`` in one transaction when opened, so one written by an earlier
intercoder opens with its data intact.
"""

from __future__ import annotations

SCHEMA_VERSION = 2

SCHEMA: tuple[str, ...] = (
    """
    CREATE TABLE projects (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        uid TEXT NOT NULL,
        change_counter INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE codebooks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        version TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX codebooks_by_project ON codebooks (project_id, id)",
    """
    CREATE TABLE exemplars (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        transcript_id TEXT NOT NULL,
        unit_id TEXT NOT NULL,
        turn_index INTEGER NOT NULL,
        speaker TEXT NOT NULL,
        text TEXT NOT NULL,
        codes TEXT NOT NULL,
        coder TEXT NOT NULL,
        previous_text TEXT NOT NULL,
        grp TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('import', 'decision')),
        model_id TEXT NOT NULL,
        embedding BLOB NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (project_id, transcript_id, unit_id)
    )
    """,
    "CREATE INDEX exemplars_by_project ON exemplars (project_id, id)",
    """
    CREATE TABLE transcripts (
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        filename TEXT NOT NULL,
        format TEXT NOT NULL,
        text TEXT NOT NULL,
        turn_count INTEGER NOT NULL,
        sentence_count INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (project_id, id)
    )
    """,
    """
    CREATE TABLE sentences (
        project_id TEXT NOT NULL,
        transcript_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        turn_index INTEGER NOT NULL,
        speaker TEXT NOT NULL,
        text TEXT NOT NULL,
        start_offset INTEGER NOT NULL,
        end_offset INTEGER NOT NULL,
        PRIMARY KEY (project_id, transcript_id, idx),
        FOREIGN KEY (project_id, transcript_id)
            REFERENCES transcripts (project_id, id) ON DELETE CASCADE
    )
    """,
    """
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        action TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'change')),
        coder TEXT NOT NULL,
        transcript_id TEXT,
        sentence_index INTEGER,
        text TEXT NOT NULL,
        suggested TEXT NOT NULL,
        codes TEXT,
        method TEXT,
        agent TEXT,
        codebook_version TEXT NOT NULL,
        exemplar_id INTEGER,
        replaced_exemplar_id INTEGER,
        created_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX decisions_by_project ON decisions (project_id, id)",
    """
    CREATE TRIGGER decisions_never_change BEFORE UPDATE ON decisions
    BEGIN
        SELECT RAISE(ABORT, 'the decision log is append-only');
    END
    """,
    """
    CREATE TRIGGER decisions_go_only_with_their_project BEFORE DELETE ON decisions
    WHEN EXISTS (SELECT 1 FROM projects WHERE id = OLD.project_id)
    BEGIN
        SELECT RAISE(ABORT, 'the decision log is append-only');
    END
    """,
    """
    CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key_sha256 TEXT NOT NULL UNIQUE,
        project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        created_at TEXT NOT NULL
    )
    """,
)

MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        """
        CREATE TABLE evaluations (
            project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
            report TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            state TEXT NOT NULL
                CHECK (state IN ('queued', 'running', 'done', 'failed', 'interrupted')),
            request TEXT NOT NULL,
            items_done INTEGER NOT NULL DEFAULT 0,
            items_total INTEGER NOT NULL DEFAULT 0,
            sentences_done INTEGER NOT NULL DEFAULT 0,
            summary TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            finished_at TEXT
        )
        """,
        "CREATE INDEX batches_by_project ON batches (project_id, created_at)",
    ),
}
