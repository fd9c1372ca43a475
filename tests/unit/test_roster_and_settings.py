"""Rosters, rules file and DAG-run facts: parsed strictly, with errors that name the bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from community_devtools.settings_loader import SettingsError, load_settings_file, parse_settings
from community_monitoring.params import ParamError, resolve_as_of
from community_monitoring.roster import RosterError, Rotation, StaffRoster

ROTATION = {"members": ["ann", "ben", "cy"], "days": 7, "start": "2026-11-02"}


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-11-02T00:00:00+00:00", "ann"),
        ("2026-11-08T23:59:00+00:00", "ann"),
        ("2026-11-09T00:00:00+00:00", "ben"),
        ("2026-11-18T09:00:00+00:00", "cy"),
        ("2026-11-23T00:00:00+00:00", "ann"),
        ("2026-10-30T00:00:00+00:00", "cy"),
    ],
)
def test_rotation_takes_turns_and_wraps(when: str, expected: str) -> None:
    assert Rotation.parse(ROTATION).on_duty(datetime.fromisoformat(when)) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "'community_rotation' is not valid JSON"),
        ('["ann"]', "must be a JSON object"),
        ({"members": [], "days": 7, "start": "2026-11-02"}, "'members' must be a non-empty list"),
        ({"members": ["ann"], "days": 0, "start": "2026-11-02"}, "'days' must be a whole number"),
        ({"members": ["ann"], "days": 7, "start": "02/11/2026"}, "'start' must be a date"),
        (
            {"members": ["ann"], "days": 7, "start": "2026-11-02", "timezone": "Europe/Berlin"},
            r"'community_rotation' has unknown keys \['timezone'\]",
        ),
    ],
)
def test_bad_rotation_is_named(value: object, message: str) -> None:
    with pytest.raises(RosterError, match=message):
        Rotation.parse(value)


def test_staff_roster() -> None:
    roster = StaffRoster.parse('{"github": ["Amy"], "bots": ["build-bot"]}')
    assert roster.is_staff("github", "amy")
    assert not roster.is_staff("forum", "amy")
    assert roster.is_staff("forum", "x", platform_says_staff=True)
    assert roster.is_bot("BUILD-BOT")
    assert roster.is_bot("renovate[bot]")
    assert not roster.is_bot("amy")


def test_a_roster_name_written_with_an_at_sign_still_names_its_user() -> None:
    """Written as Mattermost names are ("@JasonBlais"), the entries matched no one: staff were
    listed as community and a bot's posts were listed."""
    roster = StaffRoster.parse(
        '{"github": ["@JasonBlais"], "forum": [" @Amy.Blais "], "bots": ["@Forum-Bot"]}'
    )
    assert roster.is_staff("github", "jasonblais")
    assert roster.is_staff("forum", "amy.blais")
    assert roster.is_bot("forum-bot")
    assert not roster.is_staff("github", "@jasonblais2")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"githbu": []}', r"unknown keys \['githbu'\]"),
        ('{"github": "amy"}', "'github' must be a list of usernames"),
        # The entry to fix, by its place and how it was written.
        ('{"github": ["amy", "@"]}', r"'github' entry 1 \('@'\) is not a username"),
        ('{"forum": ["amy", 7]}', r"'forum' entry 1 \(7\) is not a username"),
        ("nope", "'community_staff' is not valid JSON"),
    ],
)
def test_bad_staff_roster_is_named(value: str, message: str) -> None:
    with pytest.raises(RosterError, match=message):
        StaffRoster.parse(value)


END = datetime(2026, 11, 18, 7, tzinfo=UTC)
LOGICAL = datetime(2026, 11, 10, 7, tzinfo=UTC)
AFTER = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("run_type", "end", "logical", "after", "param", "expected"),
    [
        ("scheduled", END, LOGICAL, AFTER, None, END),
        ("backfill", END, LOGICAL, AFTER, "2020-01-01T00:00:00Z", END),
        ("manual", END, LOGICAL, AFTER, "2026-11-01T10:00:00Z", datetime(2026, 11, 1, 10, tzinfo=UTC)),
        ("manual", END, LOGICAL, AFTER, None, LOGICAL),
        ("manual", None, None, AFTER, None, AFTER),
        ("manual", None, None, AFTER, "", AFTER),
    ],
)
def test_as_of(run_type: str, end, logical, after, param, expected) -> None:  # type: ignore[no-untyped-def]
    assert resolve_as_of(run_type, end, logical, after, param) == expected


def test_bad_as_of_param_is_named() -> None:
    with pytest.raises(ParamError, match="param 'as_of'"):
        resolve_as_of("manual", None, None, AFTER, "yesterday")


def test_airflow_settings_file_expands_placeholders(tmp_path: Path) -> None:
    project_file = Path(__file__).resolve().parents[2] / "airflow_settings.yaml"
    settings = load_settings_file(project_file, {"SANDBOX_URL": "http://127.0.0.1:9", "AIRFLOW_HOME": "/h"})
    conns = {c["conn_id"]: c for c in settings.connections}
    assert conns["github_default"]["conn_host"] == "http://127.0.0.1:9/api/v3"
    assert conns["community_monitoring_db"]["conn_host"] == "/h/community_monitoring/ledger.db"
    assert {"mattermost_default", "mattermost_cm", "mattermost_pm", "discourse_default"} <= set(conns)
    assert {p["pool_name"] for p in settings.pools} >= {"github_api", "forum_api"}
    assert "community_staff" in settings.variables


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"airflow": {"connections": [{"conn_type": "http"}]}}, r"connections\[0\] needs conn_id"),
        ({"airflow": {"pools": [{"pool_name": "p", "pool_slot": 0}]}}, r"pools\[0\] \(p\)"),
        (
            {"airflow": {"connections": [{"conn_id": "c", "conn_type": "http", "conn_host": "${NOPE}"}]}},
            r"\$\{NOPE\}",
        ),
        ({}, "top-level 'airflow:'"),
    ],
)
def test_bad_airflow_settings_are_named(raw: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_settings(raw, {})
