"""Phrase list files: the packaged lists load; bad lines are named as file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterproxy.content.phrases import load_dir, packaged, parse
from filterproxy.errors import ContentError
from filterproxy.model import Category

CONTENT_CATEGORIES = {Category.ADULT, Category.VIOLENCE, Category.HATE, Category.DRUGS, Category.GAMBLING,
                      Category.SELFHARM, Category.EXTREMISM}  # fmt: skip


def test_the_packaged_lists_load_with_versions_and_both_signs_of_weight() -> None:
    book = packaged()
    assert set(book.lists) == CONTENT_CATEGORIES
    assert book.context is not None and all(p.weight < 0 and p.category is None for p in book.context.phrases)
    for category, found in book.lists.items():
        assert found.version and found.source == f"content/{category.value}@{found.version}"
        weights = [p.weight for p in found.phrases]
        assert any(w > 0 for w in weights) and any(w < 0 for w in weights), category
        assert len({p.words for p in found.phrases}) == len(found.phrases), f"{category}: a phrase twice"


def test_phrases_are_normalised_like_pages() -> None:
    found, problems = parse("# version: 7\n40 F.R.E.E  P0RN\n10 masturbat*\n", Category.ADULT, "adult.txt")
    assert not problems and found is not None
    assert [(p.words, p.weight, p.prefix) for p in found.phrases] == [
        (("free", "porn"), 40, False),
        (("masturbat",), 10, True),
    ]


def test_bad_lines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "adult.txt").write_text("# version: 1\n40 good phrase\nforty bad\n999 too heavy\n0 zero\n5 mid*dle\n")
    (tmp_path / "gambling.txt").write_text("30 before the version\n# version: 2\n")
    (tmp_path / "nonsense.txt").write_text("# version: 1\n")
    with pytest.raises(ContentError) as caught:
        load_dir(tmp_path)
    message = str(caught.value)
    for where in ("adult.txt:3:", "adult.txt:4:", "adult.txt:5:", "adult.txt:6:", "gambling.txt:1:", "nonsense.txt:1:"):
        assert where in message
    assert "adult.txt:2:" not in message


def test_a_file_without_a_version_is_refused() -> None:
    found, problems = parse("10 something\n", Category.DRUGS, "drugs.txt")
    assert found is None and problems == ["drugs.txt:1: a phrase before the '# version: N' line"]
    assert parse("# only a comment\n", Category.DRUGS, "drugs.txt")[1] == ["drugs.txt:1: no '# version: N' line"]
