"""Names that end up as @-mentions (rotation members, contacts) must be Mattermost names.

Only a Mattermost username or group pings, so anything else (a display name, a typo with a space)
is refused when the Variable is read, with an error that names the Variable and the bad entry.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from community_monitoring.roster import (
    Contacts,
    RosterError,
    Rosters,
    Rotation,
    StaffRoster,
    mattermost_name,
)

START = "2026-11-02"
NAME_RULE = "is not a Mattermost name (lowercase letters, digits, '.', '_', '-')"


def rotation(*members: Any) -> Rotation:
    return Rotation.parse({"members": list(members), "days": 7, "start": START})


@pytest.mark.parametrize(
    ("member", "name"),
    [
        ("ann", "ann"),
        ("@Ann", "ann"),
        ("  @ann  ", "ann"),
        ("Ann.Smith", "ann.smith"),
        ("ann_b-c.d", "ann_b-c.d"),
        ("dev2", "dev2"),
        ("a" * 64, "a" * 64),
    ],
)
def test_rotation_member_becomes_its_mattermost_name(member: str, name: str) -> None:
    assert rotation(member).members == (name,)


@pytest.mark.parametrize(
    "member",
    [
        "ann smith",
        "Ann Smith",
        "1ann",
        "ann!",
        "ann@example.com",
        "ánn",
        "@",
        "-ann",
        "a" * 65,
    ],
)
def test_rotation_member_that_is_no_mattermost_name_is_named(member: str) -> None:
    expected = f"Variable 'community_rotation': key 'members': {member!r} {NAME_RULE}"
    with pytest.raises(RosterError, match=f"^{re.escape(expected)}$"):
        rotation("ben", member)


@pytest.mark.parametrize("member", ["", "   ", 5, None])
def test_rotation_member_that_is_no_username_at_all(member: Any) -> None:
    with pytest.raises(
        RosterError, match="'community_rotation': key 'members': every member must be a non-empty username"
    ):
        rotation("ben", member)


@pytest.mark.parametrize("member", ["here", "@channel", "@ALL"])
def test_channel_wide_mentions_are_no_member(member: str) -> None:
    # "@{{ rotation }}" in the digest would ping everyone in the channel. SPEC §6: the error names
    # the Variable and the key (sc28: it said "member 'here'", not which key holds it).
    expected = f"Variable 'community_rotation': key 'members': {member!r} would ping everyone in the channel"
    with pytest.raises(RosterError, match=f"^{re.escape(expected)}"):
        rotation(member)


def test_on_duty_is_the_normalised_name() -> None:
    turns = rotation("@Ann", "Ben")
    assert turns.on_duty(datetime(2026, 11, 2, tzinfo=UTC)) == "ann"
    assert turns.on_duty(datetime(2026, 11, 9, tzinfo=UTC)) == "ben"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"cm_lead": "@Ann", "pm": "ben", "release_manager": "Cy.D"},
            Contacts(cm_lead="ann", pm="ben", release_manager="cy.d"),
        ),
        ('{"pm": "ben"}', Contacts(pm="ben")),
        ({"cm_lead": "ann", "pm": ""}, Contacts(cm_lead="ann")),
        ({}, Contacts()),
        ("{}", Contacts("", "", "")),
    ],
)
def test_contacts_parse(value: Any, expected: Contacts) -> None:
    assert Contacts.parse(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"lead": "ann", "pm": "ben"},
            "Variable 'community_contacts' has unknown keys ['lead']; use cm_lead, pm, release_manager",
        ),
        ({"cm_lead": "ann", "qa": "x", "ceo": "y"}, "unknown keys ['ceo', 'qa']"),
        ({"pm": "ann smith"}, f"Variable 'community_contacts': 'pm' 'ann smith' {NAME_RULE}"),
        ({"release_manager": "@"}, f"Variable 'community_contacts': 'release_manager' '@' {NAME_RULE}"),
        ({"cm_lead": 123}, f"Variable 'community_contacts': 'cm_lead' 123 {NAME_RULE}"),
        # false or 0 is a wrong type, not "nobody" (left out, "" or null is)
        ({"pm": False}, "Variable 'community_contacts': 'pm' must be a Mattermost username, got False"),
        ({"release_manager": 0}, "'release_manager' must be a Mattermost username, got 0"),
        ("{not json", "Variable 'community_contacts' is not valid JSON"),
        ('["ann"]', "Variable 'community_contacts' must be a JSON object, got list"),
    ],
)
def test_bad_contacts_are_named(value: Any, message: str) -> None:
    with pytest.raises(RosterError, match=re.escape(message)):
        Contacts.parse(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("ann", "ann"), ("@Ann", "ann"), (" ann.b ", "ann.b")],
)
def test_mattermost_name(value: str, expected: str) -> None:
    assert mattermost_name(value, "here") == expected


@pytest.mark.parametrize("value", ["ann smith", "", None, 7, ["ann"]])
def test_mattermost_name_error_says_where(value: Any) -> None:
    with pytest.raises(RosterError, match=f"^{re.escape(f'setting x {value!r} {NAME_RULE}')}$"):
        mattermost_name(value, "setting x")


def test_rosters_on_duty() -> None:
    at = datetime(2026, 11, 9, tzinfo=UTC)
    with_rotation = Rosters(StaffRoster.empty(), rotation("ann", "ben"), Contacts())
    assert with_rotation.on_duty(at) == "ben"
    assert Rosters(StaffRoster.empty(), None, Contacts()).on_duty(at) == ""
