"""Time parsing that accepts every upstream's format and always returns aware UTC datetimes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta


def parse_time(value: str | int | float | datetime) -> datetime:
    """Parse an ISO-8601 string (``Z`` or offset), UNIX seconds, or a datetime into aware UTC."""
    if isinstance(value, datetime):
        aware = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        # Always a plain datetime: pendulum's DateTime (what Airflow's context holds) loses its
        # zone in arithmetic once converted to the stdlib UTC, and T − 1 day would turn naive.
        return datetime(*aware.timetuple()[:6], aware.microsecond, tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A float only: an int is finite, and one past a float's range (JSON integers have no
        # limit) would make isfinite raise OverflowError, past the item checks to fail the channel.
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"not a time: {value!r} (not a finite number of seconds)")
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            # UNIX seconds past year 9999: milliseconds (or microseconds) where seconds are meant.
            hint = "; milliseconds where seconds are meant?" if abs(value) >= 1e11 else ""
            raise ValueError(f"not a UNIX time in seconds: {value!r} (outside the calendar{hint})") from None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        # Jira writes offsets without a colon: 2026-11-17T10:00:00.000+0000
        if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and ":" not in text[-5:]:
            text = f"{text[:-2]}:{text[-2:]}"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {value!r}") from None
        try:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except OverflowError:
            # A service's smallest or largest time written in a zone other than UTC ("0001-01-01T00:00
            # +05:00", .NET's and Java's minimum) lies outside the calendar once in UTC: an
            # OverflowError here failed the whole channel instead of naming the item.
            raise ValueError(f"not a time: {value!r} (outside the calendar once in UTC)") from None
    raise TypeError(f"not a time: {value!r}")


def isoformat_z(value: datetime) -> str:
    """UTC ISO time with a ``Z`` suffix, the form GitHub and most APIs accept in filters."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


DAY = timedelta(days=1)


def day_window(as_of: datetime) -> tuple[datetime, datetime]:
    """The daily digests' interval (T − 1 day, T]: what "new in the day" means everywhere."""
    return as_of - DAY, as_of


def archive_folder_name(as_of: datetime) -> str:
    """A run's archive folder under its DAG's: T in UTC, safe in every file system."""
    return as_of.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")
