"""UT1 (Université Toulouse 1 Capitole) blacklists: one folder per category holding ``domains``
(plain names and IPv4 addresses) and ``urls`` (``host/path``), as a directory tree, a tarball
(``<cat>.tar.gz`` or the whole ``blacklists.tar.gz``), or flat ``<cat>.domains[.gz]`` /
``<cat>.urls[.gz]`` files side by side."""

from __future__ import annotations

import lzma
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from filterproxy.errors import ListError, ListFormatError
from filterproxy.lists.parsers.base import Parsed
from filterproxy.lists.parsers.lines import parse_domain_lines, parse_url_lines
from filterproxy.lists.parsers.text import opened_file, opened_lines

_PARTS = ("domains", "urls")
_Member = tuple[str, tarfile.TarInfo]
Part = tuple[str, Iterator[Parsed]]


def is_tarball(path: Path) -> bool:
    """Whether ``path`` names a tar archive (by its suffix)."""
    return path.name.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz"))


def ut1_parts(path: Path, category: str | None, display: str) -> Iterator[Part]:
    """``(file name, entries)`` per ``domains``/``urls`` file of one UT1 category (``category`` may
    be None when only one is present); consume each before the next."""
    if path.is_dir():
        files = _dir_files(path, category, display)
        if not files and category is None:
            raise ListError(f"{display}: no UT1 'domains' or 'urls' file here; set ut1_category")
        if not files:
            raise ListError(f"{display}: no UT1 'domains' or 'urls' file for category {category!r}")
        for part, file in files:
            yield str(file), _parse_file_part(part, file)
    else:
        yield from _tar_parts(path, category, display)


def _parse_file_part(part: str, file: Path) -> Iterator[Parsed]:
    with opened_file(file, str(file)) as lines:
        yield from _parse_part(part, lines, str(file))


def _parse_part(part: str, lines: Iterable[str], display: str) -> Iterator[Parsed]:
    if part == "urls":
        return parse_url_lines(lines, display)
    return parse_domain_lines(lines, display)


def _dir_files(path: Path, category: str | None, display: str) -> list[tuple[str, Path]]:
    folders = [path] if category is None else [path / category, path / "blacklists" / category, path]
    for folder in folders:
        found = [(p, folder / n) for p in _PARTS for n in (p, f"{p}.gz") if (folder / n).is_file()]
        if found:
            return found
    if category is None:
        return []
    return [(p, path / n) for p in _PARTS for n in (f"{category}.{p}", f"{category}.{p}.gz")
            if (path / n).is_file()]  # fmt: skip


def _tar_parts(path: Path, category: str | None, display: str) -> Iterator[Part]:
    with _tar_errors(display), tarfile.open(path, "r:*") as tar:
        for part, member in _tar_members(tar, category, display):
            name = f"{display}!{member.name}"
            yield name, _member_entries(tar, member, part, name, display)


def _member_entries(tar: tarfile.TarFile, member: tarfile.TarInfo, part: str, name: str,
                    display: str) -> Iterator[Parsed]:  # fmt: skip
    with _tar_errors(display):
        handle = tar.extractfile(member)
        if handle is None:
            raise ListError(f"{display}: {member.name} is not a regular file")
        with opened_lines(handle, name) as lines:
            yield from _parse_part(part, lines, name)


@contextmanager
def _tar_errors(display: str) -> Iterator[None]:
    """Translate what tarfile, gzip and the OS raise into list errors naming the archive."""
    try:
        yield
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, KeyError) as exc:  # KeyError: dangling link
        raise ListFormatError(f"{display}: not a readable tar archive ({exc})") from exc
    except OSError as exc:
        raise ListError(f"{display}: cannot read archive: {exc.strerror or exc}") from exc


def _tar_members(tar: tarfile.TarFile, category: str | None, display: str) -> list[_Member]:
    by_folder: dict[str, list[_Member]] = {}
    for member in tar.getmembers():
        parts = PurePosixPath(member.name).parts
        if len(parts) >= 2 and parts[-1] in _PARTS and (member.isfile() or member.issym() or member.islnk()):
            by_folder.setdefault(parts[-2], []).append((parts[-1], member))
    if category is None:
        if len(by_folder) != 1:
            raise ListError(f"{display}: archive holds {len(by_folder)} UT1 categories "
                            f"({', '.join(sorted(by_folder)[:10])}); set ut1_category")  # fmt: skip
        return next(iter(by_folder.values()))
    if category not in by_folder:
        raise ListError(f"{display}: no UT1 category {category!r} in the archive")
    return by_folder[category]
