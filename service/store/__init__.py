"""The SQLite store (every request one transaction) and the per-project exemplar index
files kept in step with it."""
