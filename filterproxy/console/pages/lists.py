"""Check a site, the school's allow and deny lists, and the list sources."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from filterproxy.config.model import Config
from filterproxy.console import operations as ops
from filterproxy.console.web import console_of, form_of, render, require
from filterproxy.errors import ConfigError, FilterproxyError, IllegalOverrideError
from filterproxy.lists import editing
from filterproxy.lists.enable import set_enabled
from filterproxy.lists.loader import resolve_sources
from filterproxy.lists.reload import RELOAD_FILE
from filterproxy.lists.update import update_sources
from filterproxy.model import Category

_VERBS = {"allow": "allow", "unallow": "unallow", "add": "add", "remove": "remove"}


async def check(request: Request) -> Response:
    require(request, "check")
    console = console_of(request)
    name = request.query_params.get("site", "").strip()
    client = request.query_params.get("client", "").strip()
    result, error = None, None
    if name:
        try:
            result = await console.run(ops.check_site, console.config, console.classifier, name, client)
        except FilterproxyError as exc:
            error = str(exc)
    return render(request, "check.html", site=name, client=client, result=result, error=error)


async def lists(request: Request, status: int = 200, error: str | None = None, done: str | None = None) -> Response:
    require(request, "lists")
    console = console_of(request)
    entries = await console.run(ops.local_lists, console.config)
    return render(request, "lists.html", status, entries=entries, categories=[c.value for c in Category],
                  error=error, done=done or request.query_params.get("done"))


async def edit(request: Request) -> Response:
    user = require(request, "lists.edit")
    console = console_of(request)
    form = await form_of(request)
    verb = _VERBS.get(form.get("verb", ""))
    names = [n for n in form.get("names", "").replace(",", " ").split() if n]
    try:
        if verb is None:
            raise ConfigError("unknown list action")
        if not names:
            raise ConfigError("give at least one domain")
        category = Category(form["category"]) if verb in ("add", "remove") and form.get("category") else None
        changed = await console.run(editing.edit, console.config, verb, names, form.get("reason", ""), category,  # type: ignore[arg-type]
                                    user=user.name)
    except IllegalOverrideError as exc:
        return await lists(request, 403, error=str(exc))
    except (FilterproxyError, ValueError, KeyError) as exc:
        return await lists(request, 400, error=str(exc))
    done = f"{verb}: {len(changed)} of {len(names)} name(s) changed the list: {', '.join(changed) or 'none'}"
    return RedirectResponse(f"/lists?done={done}", 303)


async def sources(request: Request, status: int = 200, error: str | None = None, done: str | None = None) -> Response:
    require(request, "sources")
    console = console_of(request)
    rows = await console.run(ops.sources_state, console.config)
    return render(request, "sources.html", status, sources=rows, results=None, error=error,
                  done=done or request.query_params.get("done"))


async def enable(request: Request) -> Response:
    """Enable or disable one source (admin): the override file, audited with the person's name."""
    user = require(request, "sources.enable")
    console = console_of(request)
    form = await form_of(request)
    state = form.get("state", "")
    try:
        if state not in ("enable", "disable"):
            raise ConfigError("state must be enable or disable")
        [change] = await console.run(set_enabled, console.config, [form.get("source", "")], state == "enable",
                                     form.get("reason", ""), user.name)
    except (FilterproxyError, ValueError) as exc:
        return await sources(request, 400, error=str(exc))
    verb = "enabled" if change.enabled else "disabled"
    done = f"{change.source_id} {verb}" + ("; the service reloads its lists" if change.changed
                                             else f" (already {verb})")
    return RedirectResponse(f"/sources?{urlencode({'done': done})}", 303)


async def update_now(request: Request) -> Response:
    user = require(request, "sources.update")
    console = console_of(request)
    results = await console.run(_update, console.config)
    await console.audit(user.name, "lists.update", results=results)
    rows = await console.run(ops.sources_state, console.config)
    return render(request, "sources.html", sources=rows,
                  results=results or ["no enabled source has a url: nothing to download"])


def _update(config: Config) -> list[str]:
    """Download the enabled sources with a URL (as `lists update`) and ask the service to reload."""
    results = update_sources(resolve_sources(config), config.data_dir / "lists",
                             max_bad_share=config.lists.max_bad_share)
    (config.data_dir / RELOAD_FILE).write_text(datetime.now(UTC).isoformat() + "\n")
    return [str(r) for r in results]


routes = [
    Route("/check", check),
    Route("/lists", lists),
    Route("/lists/edit", edit, methods=["POST"]),
    Route("/sources", sources),
    Route("/sources/update", update_now, methods=["POST"]),
    Route("/sources/enable", enable, methods=["POST"]),
]
