"""The public unblock request form and status page: facts from the incident store, per-client limit,
decisions visible to the requester by reference."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from filterproxy.console.server import ConsoleServer
from filterproxy.incidents.fold import fold
from filterproxy.incidents.store import open_store
from filterproxy.model import Category
from tests.console.conftest import Console, add_people, csrf_of, make_config
from tests.incidents.conftest import make_event
from tests.support import Loop


@pytest.fixture
def limited(tmp_path: Path, loop: Loop) -> Iterator[Console]:
    config = make_config(tmp_path, "  request_limit_per_hour: 2\n")
    add_people(config)
    server = ConsoleServer(config)
    loop.run(server.start())
    yield Console(server, config)
    loop.run(server.stop())


def blocked(console: Console, site: str, category: Category = Category.GAMBLING, user: str | None = None) -> str:
    """A real incident in the console's store, as the resolver's queue writes it; returns its reference."""
    store = open_store(console.config.incidents, console.config.data_dir)
    try:
        event = make_event(client="10.20.0.5", site=site, category=category, user=user)
        groups = fold([(1, event)], 0.0, lambda e: "low", lambda c: "laptop-7")
        store.write(groups, "node-a", 1, 1)
    finally:
        store.close()
    return event.reference


def ask(console: Console, reference: str, reason: str = "I need it for my history project",
        site: str = "") -> tuple[int, str]:
    with console.client() as client:
        form = client.get("/request", params={"ref": reference})
        assert form.status_code == 200 and reference in form.text
        answer = client.post("/request", data={"csrf_token": csrf_of(form.text), "reference": reference,
                                               "reason": reason, "site": site})
        if answer.status_code == 303:
            answer = client.get(answer.headers["location"])
        return answer.status_code, answer.text


def test_request_carries_the_incident_facts_and_shows_its_status(limited: Console) -> None:
    reference = blocked(limited, "bet.example", user="pupil1")
    status, page = ask(limited, reference, site="evil.example")
    assert status == 200 and "waiting for a decision" in page and "www.bet.example" in page
    made = limited.server.state.requests.by_reference(reference)[0]
    assert (made.site, made.category, made.group, made.client) == ("www.bet.example", "gambling", "pupils",
                                                                    "10.20.0.5")
    assert "pupil1" in made.who and "laptop-7" in made.who
    status, page = ask(limited, reference)
    assert status == 400 and "already waiting" in page
    dsl = limited.login("dsl")
    queue = dsl.get("/requests")
    assert "I need it for my history project" in queue.text
    decided = dsl.post(f"/requests/{made.id}", data={"csrf_token": csrf_of(queue.text), "decision": "decline",
                                                     "note": "Use the library copy instead"})
    assert decided.status_code == 303
    with limited.client() as client:
        shown = client.get("/request/status", params={"ref": reference.lower()}).text
    assert "declined" in shown and "Use the library copy instead" in shown
    assert "pupil1" not in shown and "10.20.0.5" not in shown  # the public page names no one


def test_unknown_references_and_empty_reasons_are_refused(limited: Console) -> None:
    status, page = ask(limited, "ZZZ-ZZZ-ZZZ")
    assert status == 404 and "could not find that block reference" in page
    status, page = ask(limited, blocked(limited, "adult.example", Category.ADULT), reason="   ")
    assert status == 400 and "say why" in page


def test_requests_are_rate_limited_per_client(limited: Console) -> None:
    references = [blocked(limited, f"site{n}.example") for n in range(3)]
    assert ask(limited, references[0])[0] == 200
    assert ask(limited, references[1])[0] == 200
    status, page = ask(limited, references[2])
    assert status == 429 and "a lot of requests" in page
    assert limited.server.state.requests.by_reference(references[2]) == []
