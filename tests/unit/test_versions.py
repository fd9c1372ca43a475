"""How release versions are written and compared: one release, several spellings (a table)."""

from __future__ import annotations

import re

import pytest

from community_monitoring.versions import normalise_version, release_key, same_version, version_pattern


@pytest.mark.parametrize(
    ("written", "shown", "key"),
    [
        ("11.2", "11.2", "11.2"),
        ("v11.2", "11.2", "11.2"),
        (" V11.2.0 ", "11.2.0", "11.2"),
        ("11.2.1", "11.2.1", "11.2.1"),
        ("11.0.0", "11.0.0", "11.0"),
        ("11", "11", "11.0"),
        ("11.10", "11.10", "11.10"),
        ("2026.05", "2026.05", "2026.5"),
        ("11.2.0-rc1", "11.2.0-rc1", "11.2.0-rc1"),
        ("vNext", "vNext", "vNext"),
        ("", "", ""),
    ],
)
def test_a_version_is_shown_as_written_and_keyed_as_its_release(written: str, shown: str, key: str) -> None:
    assert normalise_version(written) == shown
    assert release_key(written) == key


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("11.2", "v11.2.0", True),
        ("11.2.0.0", "11.2", True),
        ("11.2", "11.2.1", False),
        ("11.2", "11.20", False),
        ("11.2", "1.12", False),
        ("11.2.0-rc1", "11.2", False),
        ("Backlog", "backlog", False),
        ("Backlog", "Backlog", True),
    ],
)
def test_same_version(first: str, second: str, same: bool) -> None:
    assert same_version(first, second) is same
    assert same_version(second, first) is same


@pytest.mark.parametrize(
    ("version", "text", "found"),
    [
        ("11.2", "available in Mattermost 11.2.", True),
        ("11.2", "available in Mattermost v11.2.0!", True),
        ("11.2.0", "available in Mattermost 11.2 today", True),
        ("11.2", "available in Mattermost 11.2.1.", False),
        ("11.2", "available in Mattermost 11.20.", False),
        ("11.2", "available in Mattermost 111.2.", False),
        ("11.2", "available in Mattermost 11.2.0.1.", False),
    ],
)
def test_version_pattern_finds_the_release_in_text(version: str, text: str, found: bool) -> None:
    assert bool(re.search(version_pattern(version), text)) is found


@pytest.mark.parametrize(
    ("version", "forms"),
    [
        ("11.1", ("11.1", "v11.1", "11.1.0", "v11.1.0")),
        ("11.1.0", ("11.1", "v11.1", "11.1.0", "v11.1.0")),
        ("v11.1.0", ("11.1", "v11.1", "11.1.0", "v11.1.0")),
        ("11.1.2", ("11.1.2", "v11.1.2")),
        ("11.10", ("11.10", "v11.10", "11.10.0", "v11.10.0")),
    ],
)
def test_a_release_is_searched_under_every_spelling(version: str, forms: tuple[str, ...]) -> None:
    """A closeout for 11.1.0 must find the tickets fixed in v11.1 (it thanked nobody)."""
    from community_monitoring.sources.jira import release_clause
    from community_monitoring.versions import spellings

    assert spellings(version) == forms
    assert release_clause(version) == "fixVersion in (" + ", ".join(f'"{f}"' for f in forms) + ")"
