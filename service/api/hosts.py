"""The Host check of a server without API keys (a loopback server): requests must name one of
its own hosts (``Settings.allowed_hosts`` and ``Settings.host``).

Without it, DNS rebinding opens such a server to any web site: a page of attacker.example whose
name then resolves to 127.0.0.1 sends requests that the browser treats as same-origin, with
``Host: attacker.example``; they would get a page session and every project. A server with keys
needs no check: a name gives nothing without a key.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.problems import send_problem
from service.app.keys import keys_required
from service.errors import HostNotAllowedError
from service.settings import Settings


def host_name(host_header: str) -> str:
    """The name in a Host header, without its port: ``[::1]:8000`` -> ``::1``."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")].lower()
    return host_header.rsplit(":", 1)[0].lower()


class HostCheck:
    """Refuses (400 problem) requests to a keyless server that name a host not its own."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.enabled = not keys_required(settings)
        self.allowed = frozenset(
            host_name(h) if h.startswith("[") else h.lower()
            for h in [*settings.allowed_hosts, settings.host]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = Headers(scope=scope).get("host", "")
        if host_name(sent) in self.allowed:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # no HTTP answer there: close, policy violation
            await send({"type": "websocket.close", "code": 1008})
            return
        error = HostNotAllowedError(
            f"this server has no API keys, so it answers only its own host names "
            f"({', '.join(sorted(self.allowed))}), not {sent[:100]!r}; open it as "
            "http://127.0.0.1:PORT, or add the name to INTERCODER_ALLOWED_HOSTS (a JSON list)"
        )
        await send_problem(scope, send, error)
