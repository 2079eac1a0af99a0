"""Unblock requests: the public form behind the block page, its status page, and the staff queue."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from filterproxy.config.model import Config
from filterproxy.console import decisions
from filterproxy.console.state import ConsoleState
from filterproxy.console.unblock import RequestStatus, Scope, UnblockRequest
from filterproxy.console.web import console_of, form_of, render, require
from filterproxy.errors import FilterproxyError, IncidentNotFound
from filterproxy.incidents.store import open_store


def _facts(config: Config, reference: str) -> dict[str, str] | None:
    """What the incident store knows about a block reference (the request carries these, not the form's)."""
    store = open_store(config.incidents, config.data_dir)
    try:
        incident = store.by_reference(reference)
    except IncidentNotFound:
        return None
    finally:
        store.close()
    who = " ".join(x for x in (incident.user, incident.device) if x)
    return {"site": incident.host or incident.site, "url": incident.url or "",
            "category": incident.category or incident.reason, "group": incident.group, "who": who,
            "client": incident.client or ""}


async def ask_page(request: Request) -> Response:
    p = request.query_params
    return render(request, "ask.html", reference=p.get("ref", "").strip().upper(), site=p.get("site", ""),
                  error=None, reason="")


async def ask(request: Request) -> Response:
    console = console_of(request)
    form = await form_of(request)
    reference = form.get("reference", "").strip().upper()
    client = request.client.host if request.client else "?"

    def again(status: int, error: str) -> Response:
        return render(request, "ask.html", status, reference=reference, site=form.get("site", ""), error=error,
                      reason=form.get("reason", ""))

    if console.asks.blocked_for(client) > 0:
        return again(429, "You have sent a lot of requests in the last hour. Please wait before sending another, "
                          "or speak to your teacher.")
    facts = await console.run(_facts, console.config, reference) if reference else None
    if facts is None:
        return again(404, "We could not find that block reference. Copy it exactly from the block page "
                          "(it looks like K7Q-M2X-D4P); a block from the last few seconds may need a moment.")
    try:
        made = await console.run(console.requests.create, reference=reference, reason=form.get("reason", ""),
                                 **facts)
    except FilterproxyError as exc:
        return again(400, str(exc))
    console.asks.hit(client)
    await console.audit("(requester)", "request.made", request=made.id, reference=reference, site=made.site,
                        address=client)
    return RedirectResponse(f"/request/status?ref={reference}", 303)


async def status_page(request: Request) -> Response:
    console = console_of(request)
    reference = request.query_params.get("ref", "").strip().upper()
    found = await console.run(console.requests.by_reference, reference) if reference else []
    return render(request, "ask_status.html", reference=reference, requests=found)


async def queue(request: Request) -> Response:
    require(request, "requests")
    console = console_of(request)
    wanted = request.query_params.get("status", "pending")
    status = RequestStatus(wanted) if wanted in {s.value for s in RequestStatus} else None
    found = await console.run(console.requests.all, status)
    return render(request, "requests.html", requests=found, shown=wanted, error=request.query_params.get("error"),
                  groups=sorted(console.config.policy.groups), statuses=[s.value for s in RequestStatus],
                  max_hours=console.settings.max_temporary_hours)


async def decide(console: ConsoleState, request_id: int, by: str, form: dict[str, str]) -> UnblockRequest:
    """Approve or decline as the form (or API body) says; raises FilterproxyError with the reason."""
    note = form.get("note", "")
    if form.get("decision") == "decline":
        return await console.run(decisions.decline, console.config, console.requests, request_id, by, note)
    scope = Scope(form.get("scope") or "permanent")
    hours = float(form["hours"]) if form.get("hours") else None
    return await console.run(decisions.approve, console.config, console.requests, request_id, by, note, scope,
                             hours=hours, group=form.get("group") or None,
                             max_hours=console.settings.max_temporary_hours)


async def decide_form(request: Request) -> Response:
    user = require(request, "requests.decide")
    console = console_of(request)
    form = await form_of(request)
    try:
        await decide(console, int(request.path_params["id"]), user.name, form)
    except (FilterproxyError, ValueError) as exc:
        return RedirectResponse(f"/requests?error={quote(str(exc))}", 303)
    return RedirectResponse("/requests", 303)


routes = [
    Route("/request", ask_page, methods=["GET"]),
    Route("/request", ask, methods=["POST"]),
    Route("/request/status", status_page),
    Route("/requests", queue),
    Route("/requests/{id:int}", decide_form, methods=["POST"]),
]
