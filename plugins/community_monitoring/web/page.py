"""What the Community page shows: the state table's rows at one T, filtered, in words (pure).

The page answers "what is waiting, for how long, with whom" as of the latest recorded T or any
past one (``as_of``), for one channel and one post type if asked (``channel``, ``type``), in one of
the ``VIEWS``. A digest's "… and N more" link (``digest.full_list_url``, e.g.
``/community?kind={kind}&as_of={as_of}&section={section}``) opens the list that digest cut short:
``digest_filter`` maps each digest kind and section onto a view and a filter of the table's rows.

Nothing here reads a database or a request: ``app.py`` does, and hands the rows in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from community_monitoring.answers import ANSWER_STATE_WORDS
from community_monitoring.channels import CHANNELS
from community_monitoring.channels import label as channel_label
from community_monitoring.classify import TYPE_HEADINGS
from community_monitoring.health import HealthNumbers, StateRow
from community_monitoring.health_rendering import format_days, format_hours, percent
from community_monitoring.rules import WAITING_FOR_AN_ANSWER
from community_monitoring.safety import cap_length, single_line
from community_monitoring.settings import POST_TYPES

VIEWS: dict[str, str] = {
    "waiting": "Waiting for an answer (unanswered or waiting on us)",
    "help_wanted": "On the [Help Wanted] list",
    "new": "New in the day before T",
    "all": "Every tracked post (open, or answered in the last 14 days)",
}
DEFAULT_VIEW = "waiting"
# The queue lists at most this many rows; the counts above it are always the true totals.
MAX_ROWS = 1000
# The select box offers the newest recorded T's; any other T can still be typed into the URL.
MAX_AS_OF_CHOICES = 400
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

# The channels whose posts the table tracks (those the digests list), in the registry's order.
CHANNEL_CHOICES: dict[str, str] = {key: c.label for key, c in CHANNELS.items() if c.lists_posts}
TYPE_CHOICES: dict[str, str] = {t: TYPE_HEADINGS[t] for t in POST_TYPES}
KIND_TITLES: dict[str, str] = {
    "help_wanted": "[Help Wanted]",
    "triage": "[Triage]",
    "weekly_review": "[Weekly Review]",
    "uservoice_review": "[UserVoice Review]",
}
STEP_WORDS: dict[str, str] = {
    "escalated": "escalated",
    "mention_rotation": "rotation called",
    "listed": "listed",
    "": "",
}
_STEP_ORDER = {"escalated": 0, "mention_rotation": 1, "listed": 2}
# "2026-11-18T09:00:00 00:00": a "+" sent unencoded in a query string arrives as a space.
_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")

RowFilter = Callable[[StateRow], bool]


class BadQuery(ValueError):
    """A query parameter the page cannot use; the message names it."""


# A bad value is quoted in the answer at most this long: a URL may carry kilobytes of it.
MAX_SHOWN_VALUE_CHARS = 64


def shown_value(value: str) -> str:
    """A bad parameter's value as the 400 answer quotes it: cut to a readable length."""
    return repr(cap_length(value, MAX_SHOWN_VALUE_CHARS))


def parse_as_of(text: str | None) -> datetime | None:
    """T from a query parameter: an ISO 8601 time (``2026-11-18T09:00:00Z``, an offset, or UTC when
    none is given) or a date in any ISO 8601 form (``2026-11-18``, ``20261118``, ``2026-W47-3``: its
    end, UTC); None when empty. Raises ``BadQuery`` otherwise."""
    if text is None or not text.strip():
        return None
    value = _SPACED_OFFSET.sub(r"\1+\2", text.strip())
    try:
        day = _iso_date(value)
        if day is not None:
            return datetime.combine(day, datetime.min.time(), UTC) + DAY - timedelta(microseconds=1)
        parsed = datetime.fromisoformat(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        # OverflowError: a legal date at the edge of the calendar (9999-12-31, 0001-01-01+01:00)
        # that its end of day or UTC would carry past.
        raise BadQuery(f"as_of: not a date or an ISO 8601 time in range: {shown_value(text)}") from None


def _iso_date(value: str) -> date | None:
    """The day ``value`` names when it is a date alone, in any form ISO 8601 writes one; else None.
    (``datetime.fromisoformat`` reads every such form too, as the day's start: "20261118" would
    show the snapshot before the one "2026-11-18" shows.)"""
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def iso(when: datetime) -> str:
    """T as the page writes it in links and the select box: ``2026-11-18T09:00:00Z``; a year before
    1000 with its four digits (``strftime`` writes year 1 as "1", which ``parse_as_of`` refuses)."""
    return when.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


@dataclass(frozen=True)
class PageQuery:
    """The page's query parameters, checked. Empty strings mean "not given"."""

    as_of: datetime | None = None
    channel: str = ""
    post_type: str = ""
    view: str = ""
    kind: str = ""
    section: str = ""

    @classmethod
    def parse(
        cls,
        as_of: str | None = None,
        channel: str | None = None,
        post_type: str | None = None,
        view: str | None = None,
        kind: str | None = None,
        section: str | None = None,
    ) -> PageQuery:
        query = cls(
            as_of=parse_as_of(as_of),
            channel=(channel or "").strip(),
            post_type=(post_type or "").strip(),
            view=(view or "").strip(),
            kind=(kind or "").strip(),
            section=(section or "").strip(),
        )
        for name, value, allowed in (
            ("channel", query.channel, CHANNEL_CHOICES),
            ("type", query.post_type, TYPE_CHOICES),
            ("view", query.view, VIEWS),
            ("kind", query.kind, KIND_TITLES),
        ):
            if value and value not in allowed:
                raise BadQuery(f"{name}: {shown_value(value)} is not one of {', '.join(allowed)}")
        if len(query.section) > 64:
            raise BadQuery("section: too long")
        return query


@dataclass(frozen=True)
class DigestFilter:
    """What a digest's "… and N more" link shows: a view, maybe a channel or a type, maybe a filter."""

    view: str
    channel: str = ""
    post_type: str = ""
    keep: RowFilter | None = None
    words: str = ""


def _first_response_missing(row: StateRow) -> bool:
    return row.first_response_at is None


def digest_filter(kind: str, section: str) -> DigestFilter | None:
    """The rows behind a digest's section (SPEC §7 "… and N more"); None without a kind.

    ``help_wanted``: the [Help Wanted] list (escalated, waiting for a first response, waiting on us);
    ``triage``: the posts created in the day before T, of the section's type; ``weekly_review``:
    what is waiting, of the section's channel; ``uservoice_review``: every tracked suggestion.
    """
    if not kind:
        return None
    title = KIND_TITLES[kind]
    if kind == "help_wanted":
        keep: dict[str, tuple[RowFilter, str]] = {
            "escalated": (lambda r: r.escalation == "escalated", "escalated items"),
            "waiting_for_first_response": (_first_response_missing, "items without a first response"),
            "new_reply_to_core_team_question": (
                lambda r: r.answer_state == "waiting_on_us",
                "items waiting on us",
            ),
        }
        rule, words = keep.get(section, (None, "the whole list"))
        return DigestFilter("help_wanted", keep=rule, words=f"{title}: {words}")
    if kind == "triage":
        post_type = section if section in TYPE_CHOICES else ""
        words = TYPE_CHOICES.get(section, "every type")
        return DigestFilter("new", post_type=post_type, words=f"{title}: posts of the day, {words}")
    if kind == "weekly_review":
        channel = section if section in CHANNEL_CHOICES else ""
        words = CHANNEL_CHOICES.get(section, "every channel")
        return DigestFilter("waiting", channel=channel, words=f"{title}: what is waiting, {words}")
    return DigestFilter("all", channel="uservoice", words=f"{title}: every tracked suggestion")


@dataclass(frozen=True)
class Selection:
    """The query with the digest's defaults applied: what the page lists."""

    query: PageQuery
    view: str
    channel: str
    post_type: str
    keep: RowFilter | None
    digest_words: str

    def params(self, **changes: str) -> dict[str, str]:
        """The query parameters of this selection (non-empty ones), with ``changes``."""
        values = {
            "as_of": iso(self.query.as_of) if self.query.as_of else "",
            "channel": self.channel,
            "type": self.post_type,
            "view": self.view,
            "kind": self.query.kind,
            "section": self.query.section,
            **changes,
        }
        return {k: v for k, v in values.items() if v}

    def link(self, **changes: str) -> str:
        """A relative link to the page with this selection and ``changes`` ("?" alone: no filter)."""
        return "?" + urlencode(self.params(**changes))


def select(query: PageQuery) -> Selection:
    """Apply a digest link's defaults; parameters given explicitly win over them."""
    found = digest_filter(query.kind, query.section)
    return Selection(
        query=query,
        view=query.view or (found.view if found else DEFAULT_VIEW),
        channel=query.channel or (found.channel if found else ""),
        post_type=query.post_type or (found.post_type if found else ""),
        keep=found.keep if found else None,
        digest_words=found.words if found else "",
    )


def in_view(row: StateRow, view: str, at: datetime) -> bool:
    if view == "waiting":
        return row.answer_state in WAITING_FOR_AN_ANSWER
    if view == "help_wanted":
        return bool(row.escalation)
    if view == "new":
        return at - DAY < row.created_at <= at
    return True


def queue_order(row: StateRow) -> tuple[Any, ...]:
    """Escalated first, then the longest on the list, then the oldest."""
    return (_STEP_ORDER.get(row.escalation, 3), -row.day_on_list, row.created_at, row.channel, row.source_id)


def queue_rows(rows: Iterable[StateRow], selection: Selection, at: datetime) -> list[StateRow]:
    """The rows the queue lists, in queue order (the caller has filtered channel and type)."""
    kept = [
        r for r in rows if in_view(r, selection.view, at) and (selection.keep is None or selection.keep(r))
    ]
    return sorted(kept, key=queue_order)


def web_url(url: str) -> str:
    """The URL if it is an http(s) link, else "" (a ``javascript:`` URL never becomes a link)."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return ""
    return url if scheme in ("http", "https") else ""


# Upstream titles and names are shown at most this long ("…" last): the platforms' own limits are
# near 255, but nothing upstream promises one, and a row holds whatever its post said.
MAX_TITLE_CHARS = 300
MAX_NAME_CHARS = 100


def page_text(text: str, max_chars: int) -> str:
    """Upstream text (a title, a name) as the page shows it: one line of at most ``max_chars``
    characters, without direction overrides, embeddings or isolates of its own. The template
    isolates it (``<bdi>``): an author's U+202E would otherwise show the date after the name
    backwards, and "by <Arabic name>, 2026-11-15" would take the date into the name's direction."""
    return cap_length(single_line(text), max_chars)


# The page names a failure to read the table in at most this many characters; the log has the rest.
MAX_FAILURE_CHARS = 200


def failure_words(error: BaseException) -> str:
    """Why the table could not be read, as the page says it: the error's type and first line (a
    database error's next lines are the SQL it ran and its parameters), cut to a readable length."""
    first_line = str(error).strip().split("\n", 1)[0]
    return cap_length(single_line(f"{type(error).__name__}: {first_line}"), MAX_FAILURE_CHARS)


def hours_between(start: datetime, end: datetime) -> float:
    return max((end - start) / HOUR, 0.0)


@dataclass(frozen=True)
class QueueItem:
    """One row of the queue, in words (the template escapes every string)."""

    title: str
    url: str
    author: str
    channel: str
    channel_label: str
    post_type: str
    answer_state: str
    answer_state_words: str
    waiting: str
    waiting_hours: float
    first_response: str
    owner: str
    step: str
    step_words: str
    day_on_list: int
    created: str
    # When the run at T could not read the post: the T (UTC, in words) of the run whose row it shows.
    last_read: str = ""


def queue_item(row: StateRow, at: datetime, last_read: datetime | None = None) -> QueueItem:
    """``row`` in words; ``last_read``: the run at T could not read the post, and the row is that of
    the run at ``last_read`` (``state_table.carried``)."""
    if row.first_response_at is None:
        first = "none yet"
    else:
        by = "staff" if row.first_response_by_staff else "community"
        first = f"after {format_hours(hours_between(row.created_at, row.first_response_at))} ({by})"
    age = hours_between(row.created_at, at)
    return QueueItem(
        title=page_text(row.title, MAX_TITLE_CHARS),
        url=web_url(row.url),
        author=page_text(row.author, MAX_NAME_CHARS),
        channel=row.channel,
        channel_label=channel_label(row.channel),
        post_type=TYPE_HEADINGS.get(row.post_type, row.post_type),
        answer_state=row.answer_state,
        answer_state_words=ANSWER_STATE_WORDS.get(row.answer_state, row.answer_state),
        # Counted as the digests' item lines and the backlog line count ages: whole days elapsed.
        waiting=format_days(age / 24),
        waiting_hours=age,
        first_response=first,
        owner=page_text(row.owner, MAX_NAME_CHARS),
        step=row.escalation,
        step_words=STEP_WORDS.get(row.escalation, row.escalation),
        day_on_list=row.day_on_list,
        created=row.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        last_read=last_read.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if last_read else "",
    )


# ----- the metrics in words ------------------------------------------------------------------------


def _hours(value: float | None) -> str:
    return "none" if value is None else format_hours(value)


def _share(value: float | None) -> str:
    return "none" if value is None else percent(value)


def number_lines(numbers: HealthNumbers) -> list[tuple[str, str]]:
    """``health_numbers`` at T as (name, value) lines."""
    backlog = str(numbers.backlog)
    if numbers.backlog_median_age_days is not None and numbers.backlog_max_age_days is not None:
        backlog += (
            f" (median age {format_days(numbers.backlog_median_age_days)},"
            f" oldest {format_days(numbers.backlog_max_age_days)})"
        )
    return [
        ("New posts in the 7 days before T", str(numbers.posts)),
        ("… of which got a response", str(numbers.responded)),
        ("Median first response", _hours(numbers.median_first_response_h)),
        ("p90 first response", _hours(numbers.p90_first_response_h)),
        ("Median first staff response", _hours(numbers.median_first_staff_response_h)),
        ("p90 first staff response", _hours(numbers.p90_first_staff_response_h)),
        ("Answered within 2 days", _share(numbers.answered_within_2d)),
        ("First responses by the community", _share(numbers.community_share)),
        ("Open backlog (unanswered or waiting on us)", backlog),
        ("Escalated in [Help Wanted]", str(numbers.escalated)),
    ]


WEEKLY_COLUMNS: tuple[str, ...] = (
    "Week created",
    "Channel",
    "Type",
    "Posts",
    "Responded",
    "Median first response",
    "p90 first response",
    "Median first staff response",
    "p90 first staff response",
    "Answered within 2 days",
    "Community share",
)


def _number(value: Any) -> float | None:
    """A metric cell: None for a missing value (None, NaN or NA)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def weekly_lines(weekly: Any) -> list[tuple[str, ...]]:
    """``health.weekly_metrics(..., by=("channel", "post_type"))`` as table rows of words, newest week first."""
    lines = []
    for record in weekly.to_dict("records"):
        lines.append(
            (
                record["week"].strftime("%Y-%m-%d"),
                channel_label(record["channel"]),
                TYPE_HEADINGS.get(record["post_type"], record["post_type"]),
                str(int(record["posts"])),
                str(int(record["responded"])),
                _hours(_number(record["median_first_response_h"])),
                _hours(_number(record["p90_first_response_h"])),
                _hours(_number(record["median_first_staff_response_h"])),
                _hours(_number(record["p90_first_staff_response_h"])),
                _share(_number(record["answered_within_2d"])),
                _share(_number(record["community_share"])),
            )
        )
    return sorted(lines, key=lambda line: line[0], reverse=True)


def as_of_choices(recorded: Sequence[datetime], at: datetime | None) -> list[tuple[str, str, bool]]:
    """The select box's (value, label, selected) options: the newest recorded T's, and T itself."""
    shown = list(recorded[:MAX_AS_OF_CHOICES])
    if at is not None and at not in shown:
        shown = sorted([*shown, at], reverse=True)
    return [(iso(t), t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"), t == at) for t in shown]
