"""Who is staff, who is a bot, whose turn it is and who leads: parsed from the team's Airflow Variables."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from community_monitoring.channels import CHANNEL_KEYS

STAFF_VARIABLE = "community_staff"
ROTATION_VARIABLE = "community_rotation"
CONTACTS_VARIABLE = "community_contacts"
# A Mattermost username or group name: only these ever ping, so nothing else may pass as one.
MATTERMOST_NAME = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
# Names Mattermost reads as "everyone": never a person or a team.
CHANNEL_WIDE_MENTIONS = frozenset({"here", "channel", "all"})


class RosterError(ValueError):
    """A roster Variable is malformed; the message names the Variable and the bad part."""


def mattermost_name(value: Any, where: str) -> str:
    """A configured Mattermost username or group (a leading ``@`` is dropped), or an error naming it."""
    name = value.strip().removeprefix("@").lower() if isinstance(value, str) else ""
    if name in CHANNEL_WIDE_MENTIONS:
        raise RosterError(f"{where} {value!r} would ping everyone in the channel, not one person or team")
    if not MATTERMOST_NAME.fullmatch(name):
        raise RosterError(
            f"{where} {value!r} is not a Mattermost name (lowercase letters, digits, '.', '_', '-')"
        )
    return name


def _as_mapping(value: Any, variable: str) -> Mapping[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise RosterError(f"Variable {variable!r} is not valid JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise RosterError(f"Variable {variable!r} must be a JSON object, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class StaffRoster:
    """Staff usernames per channel (case-insensitive) and the bot accounts of every channel."""

    staff: Mapping[str, frozenset[str]]
    bots: frozenset[str]

    @classmethod
    def parse(cls, value: Any) -> StaffRoster:
        data = _as_mapping(value, STAFF_VARIABLE)
        unknown = sorted(set(data) - set(CHANNEL_KEYS) - {"bots"})
        if unknown:
            raise RosterError(
                f"Variable {STAFF_VARIABLE!r} has unknown keys {unknown}; "
                f"use channel keys {list(CHANNEL_KEYS)} and 'bots'"
            )
        staff: dict[str, frozenset[str]] = {}
        for key, names in data.items():
            if not isinstance(names, list):
                raise RosterError(f"Variable {STAFF_VARIABLE!r}: {key!r} must be a list of usernames")
            for index, name in enumerate(names):
                if not (isinstance(name, str) and roster_username(name)):
                    # Which entry, in a list of fifty: the one to fix.
                    raise RosterError(
                        f"Variable {STAFF_VARIABLE!r}: {key!r} entry {index} ({name!r:.60}) is not a username"
                    )
            staff[key] = frozenset(roster_username(n) for n in names)
        bots = staff.pop("bots", frozenset())
        return cls(staff=staff, bots=bots)

    @classmethod
    def empty(cls) -> StaffRoster:
        return cls(staff={}, bots=frozenset())

    def is_bot(self, username: str, platform_says_bot: bool = False) -> bool:
        name = username.casefold()
        return platform_says_bot or name.endswith("[bot]") or name in self.bots

    def is_staff(self, channel: str, username: str, platform_says_staff: bool = False) -> bool:
        return platform_says_staff or username.casefold() in self.staff.get(channel, frozenset())


def roster_username(written: str) -> str:
    """A roster entry as the platforms write the name: "@JasonBlais " is jasonblais (no platform's
    username starts with "@" or a space, so written that way it would never match anyone)."""
    return written.strip().removeprefix("@").strip().casefold()


@dataclass(frozen=True)
class Rotation:
    """Developers take turns of ``days`` days each from ``start``, in order, wrapping around."""

    members: tuple[str, ...]
    days: int
    start: date

    @classmethod
    def parse(cls, value: Any) -> Rotation:
        data = _as_mapping(value, ROTATION_VARIABLE)
        unknown = sorted(set(data) - {"members", "days", "start"})
        if unknown:
            raise RosterError(
                f"Variable {ROTATION_VARIABLE!r} has unknown keys {unknown}; use members, days, start"
            )
        members = data.get("members")
        if not isinstance(members, Sequence) or isinstance(members, str) or not members:
            raise RosterError(f"Variable {ROTATION_VARIABLE!r}: 'members' must be a non-empty list")
        if not all(isinstance(m, str) and m.strip() for m in members):
            raise RosterError(
                f"Variable {ROTATION_VARIABLE!r}: key 'members': every member must be a non-empty username"
            )
        names = tuple(mattermost_name(m, f"Variable {ROTATION_VARIABLE!r}: key 'members':") for m in members)
        days = data.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise RosterError(f"Variable {ROTATION_VARIABLE!r}: 'days' must be a whole number >= 1")
        start = data.get("start")
        try:
            start_date = date.fromisoformat(start) if isinstance(start, str) else None
        except ValueError:
            start_date = None
        if start_date is None:
            raise RosterError(f"Variable {ROTATION_VARIABLE!r}: 'start' must be a date YYYY-MM-DD")
        return cls(members=names, days=days, start=start_date)

    def on_duty(self, as_of: datetime) -> str:
        turns = (as_of.date() - self.start).days // self.days
        return self.members[turns % len(self.members)]


@dataclass(frozen=True)
class Contacts:
    """Who leads: the CM lead, the community PM and the release manager (Mattermost names)."""

    cm_lead: str = ""
    pm: str = ""
    release_manager: str = ""

    @classmethod
    def parse(cls, value: Any) -> Contacts:
        data = _as_mapping(value, CONTACTS_VARIABLE)
        unknown = sorted(set(data) - {"cm_lead", "pm", "release_manager"})
        if unknown:
            raise RosterError(
                f"Variable {CONTACTS_VARIABLE!r} has unknown keys {unknown}; use cm_lead, pm, release_manager"
            )
        wrong = sorted(key for key, name in data.items() if not name and name is not None and name != "")
        if wrong:
            # false or 0 is not "nobody": a name left out (or "" or null) is.
            raise RosterError(
                f"Variable {CONTACTS_VARIABLE!r}: {wrong[0]!r} must be a Mattermost username, "
                f"got {data[wrong[0]]!r}"
            )
        return cls(
            **{
                key: mattermost_name(name, f"Variable {CONTACTS_VARIABLE!r}: {key!r}")
                for key, name in data.items()
                if name
            }
        )


@dataclass(frozen=True)
class Rosters:
    """Every roster a run reads, validated together when the run starts."""

    staff: StaffRoster
    rotation: Rotation | None
    contacts: Contacts

    def on_duty(self, as_of: datetime) -> str:
        return self.rotation.on_duty(as_of) if self.rotation else ""
