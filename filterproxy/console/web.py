"""The console's HTTP plumbing: sessions on every request, the sign-in wall, CSRF on every POST, roles.

Only the sign-in page, static files and the public unblock request pages answer without a
signed-in person: pages redirect to ``/login``, ``/api/`` answers 401. Every POST made with the
session cookie must carry the session's CSRF token (a form field ``csrf_token`` or an
``X-CSRF-Token`` header); requests with an API token carry no cookie and need none.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.datastructures import FormData
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from filterproxy.console.roles import allowed
from filterproxy.console.sessions import COOKIE, Session
from filterproxy.console.state import ConsoleState
from filterproxy.console.users import User

log = logging.getLogger(__name__)
PUBLIC_EXACT = frozenset({"/login", "/request", "/request/status", "/favicon.ico"})
PUBLIC_PREFIX = ("/static/",)
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY = 256 * 1024  # forms and API bodies are small; a bigger one is refused before it is read
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class Forbidden(Exception):
    """The signed-in person's role does not allow this."""

    def __init__(self, permission: str) -> None:
        super().__init__(permission)
        self.permission = permission


def is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIX)


def console_of(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


def user_of(request: Request) -> User:
    user: User | None = request.state.user
    if user is None:  # the middleware keeps these routes from running without one
        raise Forbidden("signed-in")
    return user


def require(request: Request, permission: str) -> User:
    user = user_of(request)
    if not allowed(user.role, permission):
        raise Forbidden(permission)
    return user


def set_session(request: Request, session: Session | None) -> None:
    """Replace the session cookie in the response (sign-in, sign-out)."""
    request.state.set_session = session or Session.anonymous()


class SessionMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        console = console_of(request)
        session = console.signer.load(request.cookies.get(COOKIE))
        user, via_token = _authenticate(console, request, session)
        fresh = session is None or (session.user is not None and user is None and not via_token)
        if session is None or fresh:
            session = Session.anonymous()
        request.state.session, request.state.user, request.state.set_session = session, user, None
        response = await self._guarded(request, call_next, user, via_token, session)
        new = request.state.set_session
        if new is not None or (fresh and not via_token):
            _cookie(console, response, new or session)
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _guarded(self, request: Request, call_next: Callable[[Request], Awaitable[Response]],
                       user: User | None, via_token: bool, session: Session) -> Response:
        path = request.url.path
        if user is None and not is_public(path):
            if path.startswith("/api/"):
                return JSONResponse({"error": "authentication required"}, 401,
                                    {"WWW-Authenticate": 'Bearer realm="filterproxy console"'})
            return RedirectResponse(f"/login?next={quote(path)}", 302)
        if request.method in _UNSAFE and not _small(request):
            return PlainTextResponse("request too large\n", 413)
        if request.method in _UNSAFE and not via_token and not await _csrf_ok(request, session):
            return PlainTextResponse("refused: the form was out of date or not sent by the console "
                                     "(missing or wrong csrf_token). Reload the page and try again.", 403)
        return await call_next(request)


def _authenticate(console: ConsoleState, request: Request, session: Session | None) -> tuple[User | None, bool]:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = console.users.by_token(auth[7:].strip())
        return user, user is not None  # only a valid token stands in for the session and its CSRF token
    if session is None or session.user is None:
        return None, False
    user = console.users.get(session.user)
    if user is None or user.generation != session.generation:
        return None, False
    return user, False


def _small(request: Request) -> bool:
    length = request.headers.get("content-length")
    if length is None:  # chunked: uvicorn streams it; refuse rather than read without a bound
        return request.headers.get("transfer-encoding") is None
    return length.isdigit() and int(length) <= MAX_BODY


async def _csrf_ok(request: Request, session: Session) -> bool:
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = await request.body()
        values = parse_qs(body.decode("utf-8", "replace")).get("csrf_token")
        token = values[0] if values else None
    return token is not None and hmac.compare_digest(token.encode(), session.csrf.encode())


def _cookie(console: ConsoleState, response: Response, session: Session) -> None:
    seconds = max(0, int(session.expires - time.time()))
    response.set_cookie(COOKIE, console.signer.dump(session), max_age=seconds, path="/", httponly=True,
                        samesite="strict", secure=console.settings.cookie_secure())


async def form_of(request: Request) -> dict[str, str]:
    """The POSTed form as plain strings (the middleware has checked its CSRF token)."""
    form: FormData = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    user: User | None = request.state.user
    session: Session = request.state.session
    base = {"me": user, "csrf_token": session.csrf,
            "can": (lambda perm: user is not None and allowed(user.role, perm)),
            "school": console_of(request).config.block.school_name}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)
