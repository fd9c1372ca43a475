"""DAG params and the run's T, checked at run time with errors that name the param (SPEC §4, §6).

The trigger form checks types first; these checks catch what a form or a REST call cannot
(``as_of: "yesterday"``, a version Jira could never match) before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from community_monitoring.timeutil import parse_time
from community_monitoring.versions import normalise_version

VERSION_PATTERN = r"^[vV]?\d+\.\d+(\.\d+)?$"
# The `version` param as SPEC §4 gives it: "11.2" or "11.2.1". The leading `v` that SPEC ignores is
# Jira's (a fixVersion `v11.2` matches 11.2), not the param's: `v11.2` typed in the form is invalid.
PARAM_VERSION_PATTERN = r"^\d+\.\d+(\.\d+)?$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
HTTP_URL_PATTERN = r"^https?://[^\s/$.?#][^\s]*$"


class ParamError(ValueError):
    """A DAG param is invalid; the message names it."""


def resolve_as_of(
    run_type: str,
    data_interval_end: datetime | None,
    logical_date: datetime | None,
    run_after: datetime | None,
    as_of_param: str | None,
) -> datetime:
    """T of SPEC §4: the interval end for scheduled and backfill runs; for manual runs the
    ``as_of`` param, else the logical date, else the time the run was triggered."""
    if run_type in ("scheduled", "backfill") and data_interval_end is not None:
        return parse_time(data_interval_end)
    if as_of_param:
        try:
            return parse_time(as_of_param)
        except (ValueError, TypeError):
            raise ParamError(
                f"param 'as_of' must be an ISO-8601 time such as 2026-11-18T09:00:00Z, got {as_of_param!r}"
            ) from None
    if logical_date is not None:
        return parse_time(logical_date)
    if run_after is not None:
        return parse_time(run_after)
    if data_interval_end is not None:
        return parse_time(data_interval_end)
    raise ParamError("cannot tell the run's as-of time: no as_of param, logical date or run_after")


def flag_param(params: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = params.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ParamError(f"param {name!r} must be true or false, got {value!r}")
    return value


@dataclass(frozen=True)
class CloseoutParams:
    version: str
    release_date: str
    announcement_url: str
    dry_run: bool
    # The release event that prompted an asset-triggered run ("" for a manual run): its plan is
    # posted once per release event, however often the run is retried or re-triggered.
    prompted_by: str = ""
    # The other releases the same daily interval published (their versions), which the one event
    # of that run names: the prompt's plan says to close them out by hand.
    also_released: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Read back from the run store as a JSON list.
        object.__setattr__(self, "also_released", tuple(self.also_released))

    @property
    def is_prompt(self) -> bool:
        return bool(self.prompted_by)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "release_date": self.release_date,
            "announcement_url": self.announcement_url,
            "dry_run": self.dry_run,
            "prompted_by": self.prompted_by,
            "also_released": list(self.also_released),
        }


def closeout_params(params: Mapping[str, Any], today: date) -> CloseoutParams:
    """The release closeout's params: ``11.2`` or ``11.2.1`` (SPEC §4's pattern: ``v11.2`` is refused;
    a leading ``v`` is ignored only in Jira's fixVersions), a date, an http(s) URL.

    An empty version (the form's default) is kept as ``""``: an asset-triggered run takes its
    version from the release event, and a manual run without one fails at ``check_run``
    (:func:`require_version`).
    """
    version = params.get("version")
    if version != "" and (
        not isinstance(version, str) or not re.fullmatch(PARAM_VERSION_PATTERN, version.strip())
    ):
        raise ParamError(f"param 'version' must look like 11.2 or 11.2.1, got {version!r}")
    release_date = params.get("release_date") or today.isoformat()
    if not isinstance(release_date, str) or not re.fullmatch(DATE_PATTERN, release_date):
        raise ParamError(f"param 'release_date' must be a date YYYY-MM-DD, got {release_date!r}")
    try:
        date.fromisoformat(release_date)
    except ValueError:
        raise ParamError(f"param 'release_date' is not a real date: {release_date!r}") from None
    url = params.get("announcement_url") or ""
    if url and (not isinstance(url, str) or not re.fullmatch(HTTP_URL_PATTERN, url)):
        raise ParamError(f"param 'announcement_url' must be an http(s) URL, got {url!r}")
    return CloseoutParams(
        version=normalise_version(version),
        release_date=release_date,
        announcement_url=url,
        dry_run=flag_param(params, "dry_run"),
    )


def require_version(params: CloseoutParams) -> CloseoutParams:
    """A manual run must name its release."""
    if not params.version:
        raise ParamError("param 'version' is required: the release to close out, e.g. 11.2 or 11.2.1")
    return params


def prompted_closeout_params(event: Mapping[str, Any], today: date) -> CloseoutParams:
    """The params of a run prompted by a release event (SPEC §5): always a dry run.

    ``event`` is the event's extra (``version``, ``tag``, ``published_at``): the version and the
    release date come from the release, and no announcement URL is known yet. An event this
    product did not write is an error (not a param error: nobody typed it), never a guess.
    """
    published = str(event.get("published_at") or "")
    try:
        params = require_version(
            closeout_params(
                {"version": event.get("version"), "release_date": published[:10] or None, "dry_run": True},
                today,
            )
        )
    except ParamError as exc:
        raise ValueError(f"the release event {dict(event)!r} cannot prompt a closeout: {exc}") from None
    also = event.get("also_released") or []
    return replace(
        params,
        prompted_by=f"{event.get('tag') or params.version}@{published or today.isoformat()}",
        also_released=tuple(str(v) for v in also if isinstance(v, str) and re.fullmatch(VERSION_PATTERN, v)),
    )
