"""The console's ASGI application (Starlette, Jinja2 templates, no JavaScript needed)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from filterproxy.console import api
from filterproxy.console.pages import auth, categorised, incidents, lists, reports, requests
from filterproxy.console.roles import PERMISSIONS
from filterproxy.console.state import ConsoleState
from filterproxy.console.web import Forbidden, SessionMiddleware, console_of, render
from filterproxy.incidents import who


def _package_dir(name: str) -> Path:
    return Path(str(resources.files("filterproxy.console").joinpath(name)))


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    user = request.state.user
    console = console_of(request)
    if user is not None:
        await console.audit(user.name, "refused", permission=exc.permission, path=request.url.path,
                            role=user.role.value)
    needed = PERMISSIONS.get(exc.permission)
    message = (f"Your role ({user.role.value if user else 'none'}) cannot do this"
               f"{f'; it needs the {needed.value} role' if needed else ''}. Ask the ICT manager if you need it.")
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, 403)
    return render(request, "error.html", 403, message=message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, exc.status_code)
    return render(request, "error.html", exc.status_code, message=str(exc.detail))


def create_app(state: ConsoleState) -> Starlette:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_package_dir("templates")), autoescape=True)
    env.globals.update(person=who.person, who=who.who, identified_age=who.age)  # one wording, CLI and console
    env.globals["review_queue_available"] = categorised.available()
    templates = Jinja2Templates(env=env)
    routes = [*auth.routes, *incidents.routes, *lists.routes, *reports.routes, *requests.routes, *categorised.routes,
              *api.routes,
              Mount("/static", StaticFiles(directory=_package_dir("static")), name="static")]
    app = Starlette(routes=routes, middleware=[Middleware(SessionMiddleware)],
                    exception_handlers={Forbidden: _forbidden, HTTPException: _http_error})
    app.state.console = state
    app.state.templates = templates
    return app
