"""What the playground's server refuses before any route sees a request: only the page it
serves may drive it, and no request body may be large.

- The `Host` must be the address the connection came to (or, on this machine, localhost):
  a web page elsewhere whose name was made to point here (DNS rebinding) says its own name.
- A request that changes state (POST, PUT, PATCH, DELETE) from a page of another origin, or
  sent as a form (`text/plain`, urlencoded or multipart: the kinds a page elsewhere may post
  without asking), is refused: that is how a page elsewhere would fill the sessions or drive
  training (CSRF).
- A body over the limit is refused with 413 when its Content-Length says so, and otherwise
  as soon as the bytes read pass the limit (a chunked body), never after reading it whole.

Refusals are JSON, {"error": message}, like the server's other errors."""

import ipaddress
import socket

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded",
                        "multipart/form-data"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
_LONGEST_SHOWN = 60


class RequestGuard:
    """ASGI middleware: refuses foreign hosts and origins, form posts and large bodies."""

    def __init__(self, app, max_body_bytes):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        status, problem = self._refusal(scope, headers)
        if problem:
            await JSONResponse({"error": problem}, status_code=status)(scope, receive, send)
            return
        await self.app(scope, self._limited(receive), send)

    def _refusal(self, scope, headers):
        """(status, message) for a request refused outright, else (None, None)."""
        host = headers.get("host", "")
        server = scope.get("server")
        if server and not _is_server_address(host, *server[:2]):
            address = _address(*server[:2])
            return 403, (f"Host {_shown(host)!r} is not this server's address; open the page "
                         f"at http://{address}/")
        if scope["method"] in STATE_CHANGING:
            origin = headers.get("origin")
            if origin is not None and origin.lower() != f"http://{host}".lower():
                return 403, (f"requests from another origin ({_shown(origin)}) may not change "
                             f"a session; use the page this server serves")
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type in FORM_TYPES:
                return 403, (f"a form post ({media_type}) may not change a session; send "
                             f"JSON (Content-Type: application/json)")
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return 400, f"Content-Length {_shown(length)!r} is not a number of bytes"
            if int(length) > self.max_body_bytes:
                return 413, self._too_large()
        return None, None

    def _too_large(self):
        return (f"the request body is over {self.max_body_bytes} bytes, the most this server "
                f"reads")

    def _limited(self, receive):
        """`receive`, refusing with 413 once the body read so far passes the limit."""
        received = 0

        async def receive_within_limit():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, self._too_large())
            return message
        return receive_within_limit


def _is_server_address(host, server_host, server_port):
    """Whether the Host header `host` names `server_host:server_port` (the address this
    connection came to), or, when that is a loopback address, localhost on that port."""
    if host.endswith("]") or ":" not in host:
        name, port = host, "80"
    else:
        name, _, port = host.rpartition(":")
    if port != str(server_port):
        return False
    name = name.lower()
    if name == _bracketed(server_host).lower():
        return True
    try:
        loopback = ipaddress.ip_address(server_host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return name in LOOPBACK_NAMES
    return name == socket.gethostname().lower()


def _bracketed(host):
    return f"[{host}]" if ":" in host else host


def _address(host, port):
    return f"{_bracketed(host)}:{port}"


def _shown(text):
    return text if len(text) <= _LONGEST_SHOWN else text[:_LONGEST_SHOWN] + "..."
