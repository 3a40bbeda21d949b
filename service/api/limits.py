"""The request-size guard: bodies over the configured limit get 413 before they are read."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import send_problem
from service.errors import PayloadTooLargeError


class BodySizeLimit:
    """Refuses request bodies over ``limit`` bytes with 413, declared or streamed.

    A declared Content-Length over the limit is answered at once. A streamed body is counted as
    it arrives; once over, reading fails and whatever the app would answer is replaced by 413
    (FastAPI turns an error while reading a body into a 400, which would hide the cause).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await send_problem(scope, send, self._too_large(f"declares {declared} bytes"))
            return
        received = 0
        exceeded = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise self._too_large(f"sent more than {self.limit} bytes")
            return message

        replaced = False

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if not exceeded:
                await send(message)
            elif not replaced:
                replaced = True
                await send_problem(scope, send, self._too_large(f"sent over {self.limit} bytes"))

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
            if not replaced:  # the app gave up on the body without answering: answer for it
                await send_problem(scope, send, self._too_large(f"sent over {self.limit} bytes"))

    def _too_large(self, found: str) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"the request body is limited to {self.limit} bytes and this request {found}; "
            "split it into smaller requests (or raise INTERCODER_MAX_REQUEST_BYTES)"
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
