"""The dashboard and the incident queue: filters, one incident's who/what/when/why, its lifecycle."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from filterproxy.console import operations as ops
from filterproxy.console.roles import allowed
from filterproxy.console.web import console_of, form_of, render, require
from filterproxy.errors import FilterproxyError, IncidentNotFound
from filterproxy.incidents.model import Status
from filterproxy.incidents.settings import SEVERITIES
from filterproxy.model import Category

MOVES = {"triage": Status.TRIAGED, "report": Status.REPORTED, "escalate": Status.ESCALATED, "close": Status.CLOSED}


async def dashboard(request: Request) -> Response:
    user = require(request, "dashboard")
    console = console_of(request)
    data = await console.run(ops.dashboard, console.config)
    data["requests_waiting"] = await console.run(console.requests.count_pending)
    if allowed(user.role, "incidents"):  # who was blocked is for the safeguarding lead, not governors
        data["newest"] = await console.run(ops.newest_waiting, console.config)
    return render(request, "dashboard.html", **data)


def query_of(request: Request) -> ops.IncidentQuery:
    p = request.query_params
    try:
        limit = max(1, min(1000, int(p.get("limit", "200"))))
    except ValueError:
        limit = 200
    return ops.IncidentQuery(status=p.get("status", "open"), category=p.get("category", ""),
                             severity=p.get("severity", ""), group=p.get("group", ""), who=p.get("who", "").strip(),
                             since=p.get("since", ""), user=p.get("user", "").strip(), limit=limit)


async def queue(request: Request) -> Response:
    require(request, "incidents")
    console = console_of(request)
    q = query_of(request)
    error = None
    try:
        found = await console.run(ops.query_incidents, console.config, q)
    except FilterproxyError as exc:
        found, error = [], str(exc)
    return render(request, "incidents.html", incidents=found, q=q, error=error, statuses=[s.value for s in Status],
                  categories=[c.value for c in Category], severities=SEVERITIES,
                  groups=sorted(console.config.policy.groups))


async def incident(request: Request) -> Response:
    require(request, "incidents")
    console = console_of(request)
    try:
        found = await console.run(ops.get_incident, console.config, int(request.path_params["id"]))
    except IncidentNotFound as exc:
        return render(request, "error.html", 404, message=str(exc))
    explanation = None
    if found.verdict == "block" and found.host:
        try:
            explanation = await console.run(ops.check_site, console.config, console.classifier, found.host,
                                            found.client or "192.0.2.1")
        except FilterproxyError:
            explanation = None
    return render(request, "incident.html", incident=found, explanation=explanation, moves=_moves_for(found.status),
                  error=request.query_params.get("error"))


def _moves_for(status: Status) -> list[str]:
    if status is Status.CLOSED:
        return []
    order = list(Status)
    return [name for name, target in MOVES.items() if order.index(target) > order.index(status)]


async def move(request: Request) -> Response:
    user = require(request, "incidents.move")
    console = console_of(request)
    incident_id = int(request.path_params["id"])
    form = await form_of(request)
    target = MOVES.get(form.get("move", ""))
    try:
        if target is None:
            raise IncidentNotFound(f"unknown move {form.get('move')!r}")
        moved = await console.run(ops.move_incident, console.config, incident_id, target, user.name,
                                  form.get("note", ""), form.get("action"), form.get("outcome"))
    except FilterproxyError as exc:
        found = await console.run(ops.get_incident, console.config, incident_id)
        return render(request, "incident.html", 400, incident=found, explanation=None,
                      moves=_moves_for(found.status), error=str(exc), form=form)
    await console.audit(user.name, f"incident.{form['move']}", incident=incident_id, status=moved.status.value,
                        reason=form.get("note", "").strip())
    return RedirectResponse(f"/incidents/{incident_id}", 303)


routes = [
    Route("/", dashboard),
    Route("/incidents", queue),
    Route("/incidents/{id:int}", incident),
    Route("/incidents/{id:int}/move", move, methods=["POST"]),
]
