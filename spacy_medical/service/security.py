"""Security of the service: the API key check, and the access log that never holds note text.

The access log is an ASGI middleware: one line per request with method, path (no query
string), status, duration and the number of notes. It also turns any unexpected exception into
a JSON 500 without a stack trace, logging only the exception's type, so that neither the client
nor the log sees note text (an exception message can quote its input).
"""
import hmac
import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Optional

from ..errors import Errors

logger = logging.getLogger("spacy_medical.service")
Scope = Dict[str, Any]
Receive = Callable[[], Awaitable[Dict[str, Any]]]
Send = Callable[[Dict[str, Any]], Awaitable[None]]


def api_key_matches(authorization: Optional[str], api_key: str) -> bool:
    """Whether an `Authorization: Bearer <key>` header holds `api_key`, compared in constant time.

    authorization (Optional[str]): The header value.
    api_key (str): The expected key.
    RETURNS (bool): True when the key matches.
    """
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        given = ""
    return hmac.compare_digest(given.strip().encode("utf-8"), api_key.encode("utf-8"))


class AccessLog:
    """ASGI middleware: an access line per request, and a JSON 500 for unexpected errors."""

    def __init__(self, app: Any, known_paths: Any = ()) -> None:
        self.app = app
        self.known_paths = set(known_paths)

    def _loggable_path(self, path: str) -> str:
        # A client can put anything in a URL, note text included: log only the service's paths.
        return path if path in self.known_paths else "(other path)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        response = {"status": 0}

        async def send_and_note(message: Dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception as err:
            logger.error("unhandled %s in %s %s", type(err).__name__, scope.get("method"), self._loggable_path(scope.get("path", "")))
            if response["status"] == 0:
                response["status"] = 500
                body = json.dumps({"detail": [{"loc": [], "msg": Errors.E609.format(error_type=type(err).__name__),
                                               "type": "server_error"}]}).encode()
                await send({"type": "http.response.start", "status": 500,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
        finally:
            notes = scope.get("state", {}).get("notes")
            logger.info(
                "%s %s %d %.1fms%s", scope.get("method"), self._loggable_path(scope.get("path", "")), response["status"],
                (time.perf_counter() - began) * 1000, f" notes={notes}" if notes is not None else "",
            )
