"""Which fix versions are released at T, and which tracking-sheet rows slipped (SPEC §5).

Pure decisions over typed records. The daily DAG keeps a sheet row for every suggestion whose
ticket has a fixVersion not yet released; when a ticket's fixVersion moves to a later release,
the row for the old version is flagged with the new one in ``slipped_to``. Which rows the sheet
already holds is read by the effects side (``tracking_sheet.update_rows``) and handed in here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from community_monitoring.records import Release, SheetRow
from community_monitoring.versions import normalise_version, release_key, version_numbers


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


def daily_sheet_rows(
    existing_rows: Iterable[SheetRow],
    planned_rows: Sequence[SheetRow],
    released: Iterable[str],
    named: Iterable[tuple[str, str]] | None = None,
) -> list[SheetRow]:
    """What the daily DAG upserts into the sheet as it stands: its planned rows, then the flags."""
    return [*planned_rows, *slipped_rows(existing_rows, planned_rows, released, named)]
