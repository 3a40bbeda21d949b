"""The HTTP API under ``/v1``: routers, request and response models, and the state they share."""
