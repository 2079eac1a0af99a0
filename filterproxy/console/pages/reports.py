"""The annual review (generate for a period, download HTML) and the self-test (run, results)."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from filterproxy.config.model import Config
from filterproxy.console import operations as ops
from filterproxy.console.web import console_of, form_of, render, require
from filterproxy.errors import FilterproxyError
from filterproxy.review.figures import Period
from filterproxy.review.gather import gather
from filterproxy.review.report import build_context
from filterproxy.review.report import render as render_review
from filterproxy.selftest.results import Run, append_run
from filterproxy.selftest.runner import run_group


def _school_year(today: date) -> tuple[date, date]:
    start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    return start, today


async def review_page(request: Request) -> Response:
    require(request, "review")
    first, last = _school_year(date.today())
    return render(request, "review.html", first=first.isoformat(), last=last.isoformat(), error=None)


def build_review(config: Config, first: date, last: date) -> str:
    return render_review(build_context(gather(config, Period(first, last))))


async def review_download(request: Request) -> Response:
    user = require(request, "review")
    console = console_of(request)
    p = request.query_params
    try:
        first, last = date.fromisoformat(p.get("from", "")), date.fromisoformat(p.get("to", ""))
        if last < first:
            raise ValueError(f"the end {last} is before the start {first}")
        html = await console.run(build_review, console.config, first, last)
    except (ValueError, FilterproxyError) as exc:
        return render(request, "review.html", 400, first=p.get("from", ""), last=p.get("to", ""), error=str(exc))
    await console.audit(user.name, "review", period=f"{first}..{last}")
    disposition = "inline" if p.get("view") else f'attachment; filename="filterproxy-review-{first}-{last}.html"'
    return HTMLResponse(html, headers={"Content-Disposition": disposition,
                                       "Content-Security-Policy": "default-src 'none'; img-src data:; "
                                       "style-src 'unsafe-inline'; frame-ancestors 'none'"})


async def selftest_page(request: Request) -> Response:
    require(request, "selftest")
    console = console_of(request)
    runs = await console.run(ops.last_selftests, console.config)
    return render(request, "selftest.html", runs=runs, error=None, groups=sorted(console.config.policy.groups),
                  default_group=console.config.policy.default_group)


def _run_selftest(config: Config, group: str) -> Run:
    run = run_group(config, config.selftest, group)
    append_run(config.data_dir, run)
    return run


async def selftest_run(request: Request) -> Response:
    user = require(request, "selftest.run")
    console = console_of(request)
    form = await form_of(request)
    group = form.get("group") or console.config.policy.default_group
    error = None
    try:
        run = await console.run(_run_selftest, console.config, group)
        await console.audit(user.name, "selftest", group=group, passed=run.passed)
    except FilterproxyError as exc:
        error = str(exc)
    runs = await console.run(ops.last_selftests, console.config)
    return render(request, "selftest.html", 400 if error else 200, runs=runs, error=error,
                  groups=sorted(console.config.policy.groups), default_group=group)


routes = [
    Route("/review", review_page),
    Route("/review/download", review_download),
    Route("/selftest", selftest_page),
    Route("/selftest/run", selftest_run, methods=["POST"]),
]
