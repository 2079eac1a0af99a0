"""Signing in and out: rate-limited per address and per name, every attempt in the audit log."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from filterproxy.console.sessions import Session
from filterproxy.console.state import Busy
from filterproxy.console.web import console_of, form_of, render, set_session


def _next(target: str | None) -> str:
    """Only a local path: a crafted ``next`` must not send a person elsewhere after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def login_page(request: Request) -> Response:
    if request.state.user is not None:
        return RedirectResponse(_next(request.query_params.get("next")), 303)
    return render(request, "login.html", next=_next(request.query_params.get("next")))


async def login(request: Request) -> Response:
    console = console_of(request)
    form = await form_of(request)
    name, password = form.get("username", "").strip(), form.get("password", "")
    address = request.client.host if request.client else "?"
    target = _next(form.get("next"))
    wait = console.logins.locked_for(address, name)
    if wait > 0:
        minutes = math.ceil(wait / 60)
        await console.audit(name or "?", "login.locked", address=address)
        return render(request, "login.html", 429, next=target, username=name, error=(
            f"Too many failed sign-ins. Signing in is locked for about {minutes} minute(s) "
            "for this name and this device. Ask the ICT manager if you have forgotten your password."))
    try:
        user = await console.check_password(name, password) if name and password else None
    except Busy:
        return render(request, "login.html", 503, next=target, username=name,
                      error="The console is busy checking other sign-ins. Try again in a few seconds.")
    if user is None:
        console.logins.failed(address, name)
        await console.audit(name or "?", "login.failed", address=address)
        return render(request, "login.html", 401, next=target, username=name,
                      error="That name and password do not match.")
    console.logins.succeeded(address, name)
    await console.audit(user.name, "login", address=address, role=user.role.value)
    set_session(request, Session.for_user(user.name, user.generation, console.settings.session_minutes * 60))
    return RedirectResponse(target, 303)


async def logout(request: Request) -> Response:
    user = request.state.user
    if user is not None:
        await console_of(request).audit(user.name, "logout")
    set_session(request, None)
    return RedirectResponse("/login", 303)


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
