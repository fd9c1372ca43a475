"""Which fix versions are released at T, and which tracking-sheet rows slipped (SPEC §4, §5).

Pure decisions over typed records. ``ReleasesAt`` is the one rule of what counts as released at T,
which the tracking sheet's planned rows and the related items' "already available in X.Y" / "coming
in X.Y" share. The daily DAG keeps a sheet row for every suggestion whose ticket has a fixVersion
not yet released; when a ticket's fixVersion moves to a later release, the row for the old version
is flagged with the new one in ``slipped_to``. Which rows the sheet already holds is read by the
effects side (``tracking_sheet.update_rows``) and handed in here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from community_monitoring.records import JiraVersion, Release, SheetRow
from community_monitoring.versions import normalise_version, release_key, version_numbers

# Released at T; still to come (planned, or built and waiting for its release); never coming (Jira
# archived it unreleased: nothing waits for it).
VersionState = Literal["released", "waiting", "abandoned"]


def released_versions(releases: Iterable[Release], as_of: datetime) -> tuple[str, ...]:
    """The tags of the releases published at or before T (not draft, not prerelease), normalised.

    The same rule as ``rules.latest_release``. Kept as text so a plan can carry it as JSON.
    """
    return tuple(
        sorted(
            {
                normalise_version(r.tag)
                for r in releases
                if not r.draft and not r.prerelease and r.published_at is not None and r.published_at <= as_of
            }
        )
    )


@dataclass(frozen=True)
class ReleasesAt:
    """What counts as released at T, for every fixVersion a ticket names.

    - The product's own server versions (a dotted number: ``v11.2``, ``11.2.1``) are decided by the
      product repo's GitHub releases published by T (``is_released``), as the release prompt and the
      closeout are: Jira's flag is set by hand and may run ahead of the published release.
    - Every other version (another product's in the same project, ``Desktop v5.10``,
      ``Mobile v2.22.0``), and a server version when the run read no GitHub release at all, by Jira's
      version object: released when Jira marks it released and its ``releaseDate`` is T's day (UTC)
      or earlier. Jira's flag is today's state and the date is what dates it: a version released
      after T was not released at T. One marked released without a date counts as released at any T
      (when is unknown, as for a ticket resolved without its time).
    - A version Jira archived without releasing it is never coming: ``abandoned``, neither released
      nor waiting (an archived released version is released as above). Jira keeps no date of the
      archiving, so a backfill takes it as abandoned at its T too.
    - A version without Jira's object (not read) is released only when a GitHub release names it.
    """

    as_of: datetime
    tags: tuple[str, ...]

    @classmethod
    def of(cls, releases: Iterable[Release], as_of: datetime) -> ReleasesAt:
        return cls(as_of, released_versions(releases, as_of))

    def state(self, fix_version: str, jira: JiraVersion | None = None) -> VersionState:
        if version_numbers(fix_version) is not None and self.tags:
            if is_released(fix_version, self.tags):
                return "released"
            return "abandoned" if jira is not None and jira.archived and not jira.released else "waiting"
        if jira is None:
            return "released" if is_released(fix_version, self.tags) else "waiting"
        if jira.released:
            day = jira.release_date
            return (
                "released"
                if not day or date.fromisoformat(day) <= self.as_of.astimezone(UTC).date()
                else "waiting"
            )
        return "abandoned" if jira.archived else "waiting"

    def released(self, fix_version: str, jira: JiraVersion | None = None) -> bool:
        return self.state(fix_version, jira) == "released"

    def jira_release_day(self, fix_version: str, jira: JiraVersion | None) -> str | None:
        """The day Jira released a version that counts as released at T by Jira's word (another
        product's, which no closeout dates on the sheet); None for one a GitHub release decides (the
        closeout dates those), one not released at T, or one released without a date."""
        if jira is None or not jira.release_date or not self.released(fix_version, jira):
            return None
        return None if version_numbers(fix_version) is not None and self.tags else jira.release_date


def is_released(fix_version: str, released: Iterable[str]) -> bool:
    """Whether a fixVersion shipped: a released tag names the same version (``11.2`` = ``v11.2.0``).

    A dotted version older than every release known is taken as shipped too: the releases read
    from GitHub may not reach back that far, and an old resolved ticket is not waiting for one.
    """
    wanted = version_numbers(fix_version)
    if wanted is None:
        return normalise_version(fix_version) in {normalise_version(tag) for tag in released}
    known = [numbers for numbers in map(version_numbers, released) if numbers is not None]
    return wanted in known or (bool(known) and wanted < min(known))


def _next_planned_version(fix_version: str, planned: Iterable[SheetRow]) -> str | None:
    """The earliest planned version of the suggestion later than ``fix_version``, as spelled."""
    current = version_numbers(fix_version)
    if current is None:
        return None
    later = [
        (numbers, row.fix_version)
        for row in planned
        if (numbers := version_numbers(row.fix_version)) is not None and numbers > current
    ]
    return min(later)[1] if later else None


def slipped_rows(
    existing_rows: Iterable[SheetRow],
    planned_rows: Sequence[SheetRow],
    released: Iterable[str],
    named: Iterable[tuple[str, str]] | None = None,
) -> list[SheetRow]:
    """Flags for the sheet's rows whose fixVersion moved to a later, still planned release.

    A row is flagged when its version is no longer among the suggestion's planned rows, was not
    thanked for, and the suggestion is now planned for a later version, unless its version still
    stands: with ``named`` (the (suggestion id, ``release_key``) pairs its linked tickets name at
    T), a version a ticket still names (shipped in it, or planned); without it, a released version.
    A version released the day its ticket moved on is a slip all the same. Each flag carries only
    the key and ``slipped_to``, so upserting it changes nothing else; a row already flagged with
    the same version gets no flag, so a rerun changes nothing.
    """
    released = tuple(released)
    still_named = None if named is None else {(str(sid), key) for sid, key in named}
    planned_keys = {row.key for row in planned_rows}
    planned_by_suggestion: dict[str, list[SheetRow]] = {}
    for row in planned_rows:
        planned_by_suggestion.setdefault(row.key[0], []).append(row)

    flags = []
    for row in existing_rows:
        suggestion_id, _ = row.key
        if not suggestion_id or row.key in planned_keys or row.thanked_at.strip():
            continue
        if still_named is None and is_released(row.fix_version, released):
            continue
        if still_named is not None and (suggestion_id, release_key(row.fix_version)) in still_named:
            continue
        target = _next_planned_version(row.fix_version, planned_by_suggestion.get(suggestion_id, ()))
        if target is None or version_numbers(target) == version_numbers(row.slipped_to):
            continue
        flags.append(
            SheetRow(suggestion_id=row.suggestion_id, fix_version=row.fix_version, slipped_to=target)
        )
    return flags


def dated_rows(existing_rows: Iterable[SheetRow], release_days: Iterable[Sequence[str]]) -> list[SheetRow]:
    """Release dates for the sheet's rows whose version Jira released (another product's version:
    no closeout comes to date or thank it), so a row no longer reads as waiting for its release.

    ``release_days`` holds (suggestion id, ``release_key``, day) for the versions the linked tickets
    name that Jira released by T (``ReleasesAt.jira_release_day``). Only a row without a release date
    and not thanked gets one; each carries only the key and ``release_date``, so a rerun changes nothing.
    """
    days = {(str(sid), key): day for sid, key, day in release_days}
    return [
        SheetRow(suggestion_id=row.suggestion_id, fix_version=row.fix_version, release_date=day)
        for row in existing_rows
        if row.key[0]
        and not row.release_date.strip()
        and not row.thanked_at.strip()
        and (day := days.get(row.key))
    ]


def daily_sheet_rows(
    existing_rows: Iterable[SheetRow],
    planned_rows: Sequence[SheetRow],
    released: Iterable[str],
    named: Iterable[tuple[str, str]] | None = None,
    release_days: Iterable[Sequence[str]] = (),
) -> list[SheetRow]:
    """What the daily DAG upserts into the sheet as it stands: its planned rows, then the flags and
    the release dates of rows whose version Jira released."""
    existing_rows = list(existing_rows)
    return [
        *planned_rows,
        *slipped_rows(existing_rows, planned_rows, released, named),
        *dated_rows(existing_rows, release_days),
    ]
