"""The application layer: the use cases every interface calls.

The command line (``service.cli``), the HTTP API (``service.api``) and the review page call
these plain functions and classes; none of them calls another interface's functions. Here live
the workspace (settings, store, encoder, project indexes and coders, opened once per process),
the engine that keeps each project's coder fitted, and the use cases: code sentences, record
a decision, import, export, evaluate, train.
"""
