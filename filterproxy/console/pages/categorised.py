"""The review queue of automatic categorisations (hostname model, page content): view, confirm, reject.

The queue itself is :mod:`filterproxy.categorise.queue` (the same calls as `filterproxy categorise
review|confirm|reject`). It is imported inside the handlers, so the console runs, and these routes
answer with a plain message, in an installation without the categorisation package. Safeguarding
and admin may look; an admin confirms (the site joins the school's deny list) or rejects (the allow
list) with a reason, through the audited list path; the console also records the decision with the
person's name (``console.review_queue.confirm|reject``).
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from filterproxy.config.model import Config
from filterproxy.console.state import ConsoleState
from filterproxy.console.web import console_of, form_of, render, require
from filterproxy.errors import ConfigError, FilterproxyError, IllegalOverrideError
from filterproxy.model import Category

QUEUE_MODULE = "filterproxy.categorise.queue"
MISSING = "The automatic categorisation (filterproxy.categorise) is not part of this installation: no review queue."
DECISIONS = ("confirm", "reject")


def available() -> bool:
    """Whether the categorisation package can be imported (the navigation shows the page only then)."""
    try:
        return importlib.util.find_spec("filterproxy.categorise") is not None
    except (ImportError, ValueError):
        return False


def _queue_module() -> ModuleType | None:
    try:
        return importlib.import_module(QUEUE_MODULE)
    except ImportError:
        return None


def _items(config: Config) -> list[dict[str, Any]]:
    module = _queue_module()
    if module is None:
        raise ImportError(QUEUE_MODULE)
    return [item.as_dict() for item in module.review_queue(config)]


def _decide(config: Config, decision: str, site: str, reason: str, category: str, user: str) -> list[str]:
    module = _queue_module()
    if module is None:
        raise ImportError(QUEUE_MODULE)
    if decision not in DECISIONS:
        raise ConfigError("decision must be confirm or reject")
    site = site.strip()
    if not site:
        raise ConfigError("give the site to decide")
    if not reason.strip():
        raise ConfigError("give a reason (it is kept in the audit log for the annual review)")
    if decision == "reject":
        changed: list[str] = module.reject(config, site, reason.strip(), user=user)
        return changed
    chosen = Category(category) if category else None
    changed = module.confirm(config, site, reason.strip(), chosen, user=user)
    return changed


async def _apply(console: ConsoleState, user: str, values: dict[str, str]) -> tuple[str, list[str]]:
    decision, site = values.get("decision", ""), values.get("site", "").strip()
    changed = await console.run(_decide, console.config, decision, site, values.get("reason", ""),
                                values.get("category", ""), user)
    await console.audit(user, f"review_queue.{decision}", site=site, category=values.get("category") or None,
                        changed=changed, reason=values.get("reason", "").strip())
    return decision, changed


async def page(request: Request, status: int = 200, error: str | None = None) -> Response:
    require(request, "categorised")
    console = console_of(request)
    try:
        items = await console.run(_items, console.config)
    except ImportError:
        return render(request, "error.html", 404, message=MISSING)
    return render(request, "review_queue.html", status, items=items, error=error,
                  categories=[c.value for c in Category], done=request.query_params.get("done"))


async def decide(request: Request) -> Response:
    user = require(request, "categorised.decide")
    console = console_of(request)
    form = await form_of(request)
    try:
        decision, changed = await _apply(console, user.name, form)
    except ImportError:
        return render(request, "error.html", 404, message=MISSING)
    except IllegalOverrideError as exc:
        return await page(request, 403, str(exc))
    except (FilterproxyError, ValueError) as exc:
        return await page(request, 400, str(exc))
    verb = "confirmed (now on the school's deny list)" if decision == "confirm" else "rejected (now allowed)"
    done = f"{form.get('site', '').strip()} {verb}" + ("" if changed else "; the list already had it")
    return RedirectResponse(f"/review-queue?{urlencode({'done': done})}", 303)


async def api_items(request: Request) -> Response:
    require(request, "categorised")
    console = console_of(request)
    try:
        return JSONResponse(await console.run(_items, console.config))
    except ImportError:
        return JSONResponse({"error": MISSING}, 404)


async def api_decide(request: Request) -> Response:
    """``{"site": "...", "decision": "confirm"|"reject", "reason": "...", "category": "..."}`` (admin)."""
    user = require(request, "categorised.decide")
    console = console_of(request)
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ConfigError("the body must be a JSON object")
        decision, changed = await _apply(console, user.name, {k: str(v) for k, v in body.items() if v is not None})
    except ImportError:
        return JSONResponse({"error": MISSING}, 404)
    except IllegalOverrideError as exc:
        return JSONResponse({"error": str(exc)}, 403)
    except (FilterproxyError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, 400)
    return JSONResponse({"decision": decision, "changed": changed})


routes = [
    Route("/review-queue", page),
    Route("/review-queue/decide", decide, methods=["POST"]),
    Route("/api/review-queue", api_items),
    Route("/api/review-queue", api_decide, methods=["POST"]),
]
