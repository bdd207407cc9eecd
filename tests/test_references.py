"""Citations point inside the repository: every `[KEY ...]` is defined in docs/references.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "docs" / "references.md"
SCANNED = ("accelsim", "arch_configs", "benchmarks", "docs", "notebooks", "tests", "workloads", "validation")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".csv", ".ipynb", ".txt", ".toml"}
KEY = r"[A-Z][A-Z0-9-]*\d\d"
CITATION = re.compile(rf"\[({KEY}(?:[^\[\]\n]*))\]")
# the research notebook the citations used to point to lives outside the repository
OUTSIDE = re.compile("REFERENCE" + r"(\.md|\s*§|\s+\d|\s+section)")


def defined_keys() -> set[str]:
    """Keys of docs/references.md: its `### KEY` headings."""
    return set(re.findall(rf"^### ({KEY})$", REFERENCES.read_text(encoding="utf-8"), flags=re.M))


def cited_keys(text: str) -> list[str]:
    """Every key cited in `text`: `[KEY]`, `[KEY locator]`, `[KEY1; KEY2 locator]`."""
    keys = []
    for body in CITATION.findall(text):
        for part in body.split(";"):
            m = re.match(rf"\s*({KEY})\b", part)
            if m:
                keys.append(m.group(1))
    return keys


def scanned_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for top in SCANNED:
        files += [p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    return sorted(p for p in files if p.exists() and p != Path(__file__).resolve())


def test_references_page_defines_keys_once() -> None:
    headings = re.findall(rf"^### ({KEY})$", REFERENCES.read_text(encoding="utf-8"), flags=re.M)
    assert len(headings) > 30
    assert len(headings) == len(set(headings)), "a key is defined twice in docs/references.md"


def test_every_cited_key_is_defined() -> None:
    known = defined_keys()
    missing = {}
    for path in scanned_files():
        for key in cited_keys(path.read_text(encoding="utf-8", errors="replace")):
            if key not in known:
                missing.setdefault(key, path.relative_to(ROOT).as_posix())
    assert not missing, f"citation keys not defined in docs/references.md (key: first file): {missing}"


def test_no_citation_points_outside_the_repository() -> None:
    hits = []
    for path in scanned_files():
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT).as_posix()}:{n}")
    assert not hits, f"citations of the old out-of-tree notebook: {hits[:10]}"


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("see [SCNN17 §IV-B] and [HAN15; EIE16]", ["SCNN17", "HAN15", "EIE16"]),
        ("x[STAT_STEPS] and [paper] and [CONV, FC]", []),
        ("[EYERISSV2-19 §II-§IV] [repo]", ["EYERISSV2-19"]),
    ],
)
def test_citation_parser(text: str, keys: list[str]) -> None:
    assert cited_keys(text) == keys


def test_an_undefined_key_is_caught() -> None:
    assert "NOSUCHPAPER99" not in defined_keys()
    assert "NOSUCHPAPER99" in cited_keys("a claim [NOSUCHPAPER99 §2]")
