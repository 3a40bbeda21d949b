"""The review page: server-rendered HTML for coders, served by the same app as the HTTP API.

An interface like ``service.api`` and ``service.cli``: its routes call the use cases of
``service.app`` and nothing of the other interfaces. Templates and static files (htmx, and the
files that make ``/docs`` and ``/redoc`` work offline) live inside the package.
"""
