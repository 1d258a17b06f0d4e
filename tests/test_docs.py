"""The documentation holds together: every relative link leads somewhere, every docs
page can be reached from the README, and the README stays short enough to read.

Links are checked as GitHub renders them: outside code blocks and code spans, a
`path#anchor` must name an existing file and, for a Markdown page, one of its headings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PAGES = [README, REPO / "bench" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 300

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`+[^`]*`+")
FENCE = re.compile(r"^\s*(```|~~~)")


def _prose(text: str) -> list[tuple[int, str]]:
    """The lines a reader sees as text, numbered, with code spans blanked out."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, CODE_SPAN.sub("code", line)))
    return lines


def relative_links(page: Path) -> list[tuple[int, str]]:
    """(line, target) of every link that is not a URL."""
    found = []
    for number, line in _prose(page.read_text(encoding="utf-8")):
        for target in LINK.findall(line):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                found.append((number, target))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = CODE_SPAN.sub(lambda m: m.group(0).strip("`"), heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading and not fenced:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            result.add(base if count == 0 else f"{base}-{count}")
    return result


def broken_links(page: Path) -> list[str]:
    """Each link of `page` that leads nowhere, as `page:line: target (why)`."""
    problems = []
    for number, target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        where = f"{page.relative_to(REPO)}:{number}: {target}"
        if not destination.exists():
            problems.append(f"{where} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            problems.append(f"{where} (no heading #{anchor} in {destination.name})")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page):
    assert broken_links(page) == []


def test_a_link_to_a_missing_file_or_heading_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    (tmp_path / "real.md").write_text("# A real page\n\n## Its section\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[fine](real.md#its-section) and [gone](missing.md), [lost](real.md#nowhere)\n"
        "```\n[in a code block](not-checked.md)\n```\n"
        "`[in a code span](not-checked-either.md)` [web](https://example.com/x.md)\n"
    )
    assert broken_links(page) == [
        "page.md:1: missing.md (no such file)",
        "page.md:1: real.md#nowhere (no heading #nowhere in real.md)",
    ]


def test_anchors_follow_github_for_code_and_punctuation_in_headings(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "## `check_throughput.py`: how fast\n## Remediation (`on_down`)\n## Twice\n## Twice\n"
    )
    assert anchors(page) == {
        "check_throughputpy-how-fast",
        "remediation-on_down",
        "twice",
        "twice-1",
    }


def test_every_docs_page_is_linked_from_the_readme():
    linked = {
        (README.parent / target.partition("#")[0]).resolve() for _, target in relative_links(README)
    }
    unlinked = [p.name for p in sorted((REPO / "docs").glob("*.md")) if p.resolve() not in linked]
    assert unlinked == []


def test_the_readme_is_at_most_300_lines():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/"
