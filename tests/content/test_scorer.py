"""The packaged phrase lists against the pages under tests/content/pages, with the default policy.

Every harmful page (and its obfuscated variant) is over its category's default threshold; every
educational page about the same topics stays under every threshold, with a margin.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from filterproxy.classify.policy import Policy
from filterproxy.classify.settings import CONTENT_THRESHOLD, PolicySettings
from filterproxy.content.analyser import Analyser, load_lists
from filterproxy.content.judge import finding_for
from filterproxy.content.phrases import PhraseBook, parse
from filterproxy.content.scorer import REPEAT_CAP, Scanner
from filterproxy.model import Category

PAGES = Path(__file__).parent / "pages"
ANALYSER = Analyser(load_lists(None), 262144)

HARMFUL = {
    "adult.html": Category.ADULT,
    "adult_obfuscated.html": Category.ADULT,
    "violence.html": Category.VIOLENCE,
    "hate.html": Category.HATE,
    "hate.txt": Category.HATE,
    "drugs.html": Category.DRUGS,
    "drugs_obfuscated.html": Category.DRUGS,
    "gambling.html": Category.GAMBLING,
    "gambling_obfuscated.html": Category.GAMBLING,
    "selfharm.html": Category.SELFHARM,
    "extremism.html": Category.EXTREMISM,
}
EDUCATIONAL = [
    "rse.html",
    "drug_awareness.html",
    "holocaust_history.html",
    "gambling_lesson.html",
    "war_history.html",
    "selfharm_support.html",
    "counter_extremism.html",
    "recipe.html",
]


MORE = sorted((PAGES / "more").glob("*.html"))  # set<N>_h_<category>.html harmful, set<N>_e_<topic>.html not


def scores(name: str) -> dict[Category, float]:
    ctype = "text/plain; charset=utf-8" if name.endswith(".txt") else "text/html"
    found = ANALYSER.scan((PAGES / name).read_bytes(), ctype)
    assert found is not None
    return {category: score.points for category, score in found.items()}


@pytest.mark.parametrize(("name", "category"), sorted(HARMFUL.items()))
def test_harmful_pages_score_over_their_threshold_in_their_category(name: str, category: Category) -> None:
    points = scores(name)
    assert points[category] >= 2 * CONTENT_THRESHOLD, points
    assert max(points, key=lambda c: points[c]) is category


@pytest.mark.parametrize("name", EDUCATIONAL)
def test_educational_pages_stay_under_every_threshold(name: str) -> None:
    points = scores(name)
    assert max(points.values()) <= CONTENT_THRESHOLD / 2, points


@pytest.mark.parametrize("page", MORE, ids=[p.stem for p in MORE])
def test_more_pages_in_other_styles(page: Path) -> None:
    """Pages written in other styles (shop, forum, news, revision notes ...), harmful and not."""
    found = ANALYSER.scan(page.read_bytes(), "text/html")
    assert found is not None
    finding = finding_for(found, Policy(PolicySettings()), ANALYSER.scanner)
    _, kind, topic = page.stem.split("_", 2)
    if kind == "h":
        assert finding is not None and finding.category is Category(topic), {c: s.points for c, s in found.items()}
    else:
        assert finding is None, finding
        assert max(s.points for s in found.values()) <= 0.6 * CONTENT_THRESHOLD


def test_one_phrase_repeated_is_not_a_site() -> None:
    found = ANALYSER.scan(b"<p>" + b"white power " * 10 + b"race war</p>", "text/html")
    assert found is not None and found[Category.HATE].points >= CONTENT_THRESHOLD  # enough points ...
    assert finding_for(found, Policy(PolicySettings()), ANALYSER.scanner) is None  # ... but two phrases only


def test_the_default_policy_makes_findings_only_of_harmful_pages() -> None:
    policy = Policy(PolicySettings())
    for name in [*HARMFUL, *EDUCATIONAL]:
        found = ANALYSER.scan((PAGES / name).read_bytes(), "text/html")
        assert found is not None
        finding = finding_for(found, policy, ANALYSER.scanner)
        if name in HARMFUL:
            assert finding is not None and finding.category is HARMFUL[name], name
            assert finding.evidence and finding.source.startswith(f"content/{HARMFUL[name].value}@")
            assert 0.5 <= finding.score < 1 and "points >= 100" in finding.summary
        else:
            assert finding is None, (name, finding)


def test_repetition_is_capped_and_negative_context_subtracts() -> None:
    found, _ = parse("# version: 1\n30 free spins\n-20 probability\n", Category.GAMBLING, "gambling.txt")
    assert found is not None
    scanner = Scanner(PhraseBook({Category.GAMBLING: found}))
    assert scanner.score_text("free spins " * 50)[Category.GAMBLING].points == 30 * REPEAT_CAP
    both = scanner.score_text("free spins free spins probability")[Category.GAMBLING]
    assert both.points == 60 - 20 and both.evidence == (("free spins", 2),)


def test_prefix_phrases_and_phrases_at_the_end_of_the_page() -> None:
    found, _ = parse("# version: 1\n10 masturbat*\n25 free porn vid*\n", Category.ADULT, "adult.txt")
    assert found is not None
    scanner = Scanner(PhraseBook({Category.ADULT: found}))
    assert scanner.score_text("Masturbation masturbating")[Category.ADULT].points == 20
    assert scanner.score_text("all free porn videos")[Category.ADULT].points == 25
    assert scanner.score_text("free porn")[Category.ADULT].points == 0


def test_only_the_first_max_bytes_are_read() -> None:
    small = Analyser(load_lists(None), 4096)
    page = b"<p>" + b"The weather is mild. " * 400 + b"</p>" + (PAGES / "adult.html").read_bytes()
    found = small.scan(page, "text/html")
    assert found is not None and found[Category.ADULT].points < CONTENT_THRESHOLD
    assert small.scan(b"\x89PNG...", "image/png") is None
