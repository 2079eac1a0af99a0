"""The JSON API under /api/: the console's data for scripts, with the session or an API token.

A token (``filterproxy users token NAME``) is sent as ``Authorization: Bearer fpc_...`` and
acts with its person's role. With the session cookie, POSTs need the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from filterproxy.console import operations as ops
from filterproxy.console.pages.incidents import MOVES, query_of
from filterproxy.console.pages.requests import decide
from filterproxy.console.roles import allowed
from filterproxy.console.unblock import RequestStatus
from filterproxy.console.web import console_of, require
from filterproxy.errors import ConfigError, FilterproxyError, IllegalOverrideError, IncidentNotFound
from filterproxy.incidents.model import Incident
from filterproxy.lists import editing
from filterproxy.lists.enable import set_enabled
from filterproxy.model import Category


def _error(exc: Exception) -> JSONResponse:
    status = 404 if isinstance(exc, IncidentNotFound) else 403 if isinstance(exc, IllegalOverrideError) else 400
    return JSONResponse({"error": str(exc)}, status)


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ConfigError("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ConfigError("the body must be a JSON object")
    return data


async def me(request: Request) -> Response:
    user = require(request, "dashboard")
    return JSONResponse({"name": user.name, "role": user.role.value})


async def dashboard(request: Request) -> Response:
    user = require(request, "dashboard")
    console = console_of(request)
    data = await console.run(ops.dashboard, console.config)
    data["selftest"] = [r.to_json() for r in data["selftest"]]
    data["now"] = data["now"].isoformat(timespec="seconds")
    data["requests_waiting"] = await console.run(console.requests.count_pending)
    if allowed(user.role, "incidents"):
        data["newest"] = [_incident_json(i, brief=True) for i in await console.run(ops.newest_waiting, console.config)]
    return JSONResponse(data)


async def incidents(request: Request) -> Response:
    require(request, "incidents")
    console = console_of(request)
    try:
        found = await console.run(ops.query_incidents, console.config, query_of(request))
    except FilterproxyError as exc:
        return _error(exc)
    return JSONResponse([_incident_json(i, brief=True) for i in found])


async def incident(request: Request) -> Response:
    require(request, "incidents")
    console = console_of(request)
    try:
        found = await console.run(ops.get_incident, console.config, int(request.path_params["id"]))
    except FilterproxyError as exc:
        return _error(exc)
    return JSONResponse(_incident_json(found))


def _incident_json(incident: Incident, brief: bool = False) -> dict[str, Any]:
    data = incident.model_dump(mode="json", exclude={"references", "transitions"} if brief else None)
    return {**data, **ops.person_fields(incident)}


async def move(request: Request) -> Response:
    user = require(request, "incidents.move")
    console = console_of(request)
    incident_id = int(request.path_params["id"])
    try:
        body = await _body(request)
        target = MOVES.get(str(body.get("move", "")))
        if target is None:
            raise ConfigError(f"move must be one of {', '.join(MOVES)}")
        moved = await console.run(ops.move_incident, console.config, incident_id, target, user.name,
                                  str(body.get("note", "")), body.get("action"), body.get("outcome"))
    except FilterproxyError as exc:
        return _error(exc)
    await console.audit(user.name, f"incident.{body['move']}", incident=incident_id, reason=str(body["note"]))
    return JSONResponse(_incident_json(moved))


async def lists(request: Request) -> Response:
    require(request, "lists")
    console = console_of(request)
    return JSONResponse(await console.run(ops.local_lists, console.config))


async def edit_lists(request: Request) -> Response:
    user = require(request, "lists.edit")
    console = console_of(request)
    try:
        body = await _body(request)
        verb = str(body.get("verb", ""))
        if verb not in ("allow", "unallow", "add", "remove"):
            raise ConfigError("verb must be allow, unallow, add or remove")
        names = [str(n) for n in body.get("names") or []]
        if not names:
            raise ConfigError("names: give at least one domain")
        category = Category(body["category"]) if body.get("category") else None
        changed = await console.run(editing.edit, console.config, verb, names, str(body.get("reason", "")),  # type: ignore[arg-type]
                                    category, user=user.name)
    except (FilterproxyError, ValueError) as exc:
        return _error(exc)
    return JSONResponse({"verb": verb, "changed": changed})


async def check(request: Request) -> Response:
    require(request, "check")
    console = console_of(request)
    try:
        result = await console.run(ops.check_site, console.config, console.classifier,
                                   request.query_params.get("site", ""), request.query_params.get("client", ""))
    except FilterproxyError as exc:
        return _error(exc)
    return JSONResponse(result)


async def sources(request: Request) -> Response:
    require(request, "sources")
    console = console_of(request)
    return JSONResponse(await console.run(ops.sources_state, console.config))


async def enable_sources(request: Request) -> Response:
    """``{"ids": [...], "enabled": true|false, "reason": "..."}`` (admin), as `filterproxy lists enable|disable`."""
    user = require(request, "sources.enable")
    console = console_of(request)
    try:
        body = await _body(request)
        if not isinstance(body.get("enabled"), bool):
            raise ConfigError("enabled must be true or false")
        ids = body.get("ids")
        if not isinstance(ids, list):
            raise ConfigError("ids must be a list of source ids")
        changes = await console.run(set_enabled, console.config, [str(i) for i in ids], body["enabled"],
                                    str(body.get("reason", "")), user.name)
    except FilterproxyError as exc:
        return _error(exc)
    return JSONResponse([{"id": c.source_id, "enabled": c.enabled, "changed": c.changed} for c in changes])


async def selftest(request: Request) -> Response:
    require(request, "selftest")
    console = console_of(request)
    return JSONResponse([r.to_json() for r in await console.run(ops.last_selftests, console.config)])


async def requests(request: Request) -> Response:
    require(request, "requests")
    console = console_of(request)
    wanted = request.query_params.get("status")
    status = RequestStatus(wanted) if wanted in {s.value for s in RequestStatus} else None
    return JSONResponse([r.to_json() for r in await console.run(console.requests.all, status)])


async def decide_request(request: Request) -> Response:
    user = require(request, "requests.decide")
    console = console_of(request)
    try:
        body = {k: str(v) for k, v in (await _body(request)).items() if v is not None}
        decided = await decide(console, int(request.path_params["id"]), user.name, body)
    except (FilterproxyError, ValueError) as exc:
        return _error(exc)
    return JSONResponse(decided.to_json())


routes = [
    Route("/api/me", me),
    Route("/api/dashboard", dashboard),
    Route("/api/incidents", incidents),
    Route("/api/incidents/{id:int}", incident),
    Route("/api/incidents/{id:int}/move", move, methods=["POST"]),
    Route("/api/lists", lists),
    Route("/api/lists", edit_lists, methods=["POST"]),
    Route("/api/check", check),
    Route("/api/sources", sources),
    Route("/api/sources", enable_sources, methods=["POST"]),
    Route("/api/selftest", selftest),
    Route("/api/requests", requests),
    Route("/api/requests/{id:int}", decide_request, methods=["POST"]),
]
