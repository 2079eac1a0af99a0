"""From source files to labelled, de-duplicated examples split by site.

Names are grouped by registrable domain (a site) and a site goes wholly to one split, chosen by a
hash of its name and the seed: the validation split then holds sites the model has never seen,
as the names it will meet in a school will be. A site listed under several labels keeps the most
serious category; a site both listed and benign is dropped from benign (the lists win). At most
``PER_SITE`` names of a site are kept (the site itself first), so 20,000 ``facebook.com`` hosts do
not outweigh a thousand small sites.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from filterproxy.categorise.training.sources import BENIGN, SourceFile
from filterproxy.classify.index import SEVERITY_ORDER
from filterproxy.lists.formats import Entry, parse_file
from filterproxy.lists.suffixes import registrable_domain

PER_SITE = 2
#: Benign lists carry some noise (UT1 ``games`` lists casino games, ``shopping`` sex shops): a benign
#: name with one of these words is dropped rather than taught as benign.
_NOISE = ("casino", "poker", "porn", "xxx", "hentai", "escort", "gambl", "jackpot", "baccarat", "roulette",
          "cannabis", "sexy", "nude", "fetish", "bdsm", "lingerie", "dildo")
SPLITS = ("train", "validation", "test")
_ORDER = {category.value: rank for rank, category in enumerate(SEVERITY_ORDER)} | {BENIGN: 99}


@dataclass(frozen=True, slots=True)
class Example:
    name: str
    label: str
    site: str
    curated: bool = False  # from a hand-written benign list: checked, so a threshold must not block it


def source_names(source: SourceFile) -> set[str]:
    """The host names one source lists (URL entries give their host)."""
    out: set[str] = set()
    for parsed in parse_file(source.path, source.source.format, ut1_category=source.source.ut1_category):
        if isinstance(parsed, Entry) and parsed.kind in ("domain", "url"):
            host = parsed.value.split("/", 1)[0]
            if not host[-1:].isdigit():  # IP literals teach nothing about names
                out.add(host)
    return out


Sites = dict[str, tuple[str, list[str]]]


def collect(sources: Iterable[SourceFile], curated: set[str] | None = None) -> tuple[Sites, set[str]]:
    """site -> (label, names): each site under its most serious label; and the sites held out for validation.

    ``curated`` collects the sites of hand-written benign lists.
    """
    curated = curated if curated is not None else set()
    sites: dict[str, tuple[str, set[str]]] = {}
    held: set[str] = set()
    for source in sources:
        label = source.label
        if source.source.split == "validation":
            held.update(registrable_domain(name) for name in source_names(source))
        if label == BENIGN and source.curated:
            curated.update(registrable_domain(name) for name in source_names(source))
        for name in source_names(source):
            if label == BENIGN and any(word in name for word in _NOISE):
                continue
            site = registrable_domain(name)
            found = sites.get(site)
            if found is None or _ORDER[label] < _ORDER[found[0]]:
                sites[site] = (label, {name})
            elif found[0] == label:
                found[1].add(name)
    return {site: (label, _keep(site, names)) for site, (label, names) in sites.items()}, held


def _keep(site: str, names: set[str]) -> list[str]:
    ordered = sorted(names - {site}, key=lambda n: (len(n), n))
    return ([site] if site in names or not ordered else []) + ordered[: PER_SITE - (site in names)]


def split_of(site: str, seed: int) -> str:
    """80 % train, 10 % validation (thresholds), 10 % test (reported), fixed per site and seed."""
    bucket = int.from_bytes(hashlib.sha256(f"{seed}:{site}".encode()).digest()[:4], "big") % 10
    return "validation" if bucket == 0 else "test" if bucket == 1 else "train"


def examples(sources: Iterable[SourceFile], seed: int) -> dict[str, list[Example]]:
    """Examples per split, in a deterministic order."""
    out: dict[str, list[Example]] = {split: [] for split in SPLITS}
    curated: set[str] = set()
    sites, held = collect(sources, curated)
    for site, (label, names) in sorted(sites.items()):
        split = "validation" if site in held else split_of(site, seed)
        checked = label == BENIGN and site in curated
        out[split].extend(Example(name, label, site, checked) for name in names)
    return out
