"""Community health (SPEC §10): each post's state as of T, and the metrics computed from those states.

Pure: posts in, :class:`StateRow` records out (``state_rows`` is what the daily run upserts into the
state table, ``created_rows`` every post created in a window); rows in, pandas tables and
:class:`HealthNumbers` out. Every value is read from upstream timestamps as of T (a reply after T
does not exist), so a backfill at T rebuilds the same rows and the same numbers.

Definitions, used everywhere (the weekly review's ``Community health`` section, the dashboard):

* **First response**: the first substantive reply before T by someone other than the author (no
  bot, no me-too: ``answers.substantive_replies``). **First staff response**: the first such reply
  by staff. The first response *is by staff* when it is the first staff response.
* **Week**: the ISO week the post was *created* in, from Monday 00:00 UTC.
* **Median** is the usual one (the mean of the two middle values); **p90** is the 90th percentile
  as pandas computes it (``Series.quantile(0.9)``: linear between the two nearest values, so p90
  of 1..10 is 9.1), the SPEC's "computed with pandas" read as anyone checking the numbers would
  compute them. Times are in hours, over the posts that got a response by T.
* **Answered within 2 days**: of the posts at least 2 days old at T, the share whose first response
  came within 2 days of their creation.
* **Open backlog**: tracked posts still ``unanswered`` or ``waiting_on_us`` at T (the ball is with
  the team); its age is T − created.
* **Escalated**: posts in the Escalated section of ``[Help Wanted]`` at T.
* **Groups**: the week's response times again per channel and post type (SPEC §10: "per channel
  and type per week"), so a slow channel or type is not hidden in the overall median.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import pandas as pd

from community_monitoring.answers import (
    answer_state,
    has_accepted_answer_at,
    is_by_author,
    is_open_at,
    is_reply_staff,
    substantive_replies,
)
from community_monitoring.channels import channel as channel_of
from community_monitoring.classify import Classification, classify_posts
from community_monitoring.records import Post, Release, Reply, chunks
from community_monitoring.roster import StaffRoster
from community_monitoring.routing import route_owner
from community_monitoring.rules import (
    WAITING_FOR_AN_ANSWER,
    HelpWantedEntry,
    RulesAsOf,
    find_help_wanted_sections,
)
from community_monitoring.settings import Settings

# A post closed (or given an accepted answer) this recently is still tracked: "recently answered".
RECENTLY_ANSWERED = timedelta(days=14)
ANSWERED_WITHIN = timedelta(days=2)
# The weekly review compares the 7 days before T with the 7 days before T − 7 days.
WEEK = timedelta(days=7)
P90 = 0.9
HOUR = timedelta(hours=1)
# Posts classified and placed on the [Help Wanted] list per batch (a model classifies a batch at once).
CHUNK = 5000


class Classifier(Protocol):
    def classify(self, post: Post) -> Classification: ...


@dataclass(frozen=True, slots=True)
class StateRow:
    """One post's state as of T: a row of the state table (primary key channel, source_id, as_of).

    Slotted: the weekly health section holds a row for each post of half a year."""

    channel: str
    source_id: str
    url: str
    title: str
    author: str
    # bug, troubleshooting, feature_proposal or question, as [Triage] decides it.
    post_type: str
    created_at: datetime
    first_response_at: datetime | None
    first_staff_response_at: datetime | None
    answer_state: str
    # The routed owner (a Mattermost name without "@"), or "".
    owner: str
    # Its step on the [Help Wanted] ladder: "listed", "mention_rotation", "escalated"; "" when the
    # post is not on the list at T (and then day_on_list is 0).
    escalation: str
    day_on_list: int
    as_of: datetime

    @property
    def first_response_by_staff(self) -> bool | None:
        """Whether staff gave the first response; None without one."""
        if self.first_response_at is None:
            return None
        return self.first_staff_response_at == self.first_response_at


STATE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(StateRow))


# ----- one post as of T --------------------------------------------------------------------------


def responses_at(post: Post, roster: StaffRoster, settings: Settings, as_of: datetime) -> list[Reply]:
    """Substantive replies before T by anyone but the author, oldest first."""
    return [r for r in substantive_replies(post, roster, settings, as_of) if not is_by_author(post, r)]


def first_response_at(
    post: Post, roster: StaffRoster, settings: Settings, as_of: datetime
) -> datetime | None:
    replies = responses_at(post, roster, settings, as_of)
    return replies[0].created_at if replies else None


def first_staff_response_at(
    post: Post, roster: StaffRoster, settings: Settings, as_of: datetime
) -> datetime | None:
    staff = (r for r in responses_at(post, roster, settings, as_of) if is_reply_staff(post, r, roster))
    return next((r.created_at for r in staff), None)


def is_health_post(post: Post, rules: RulesAsOf) -> bool:
    """A post health counts: on a channel whose posts the digests list, listable at T."""
    return channel_of(post.channel).lists_posts and rules.is_listable(post)


def is_tracked(post: Post, rules: RulesAsOf, max_age_days: int | None = None) -> bool:
    """The state table's posts: created in the window a run reads (``max_age_days``; by default the
    daily run's, ``digest.max_age_days``), and open at T or closed (or accepted) in the
    ``RECENTLY_ANSWERED`` days before T."""
    if not is_health_post(post, rules):
        return False
    as_of = rules.as_of
    days = rules.config.digest.max_age_days if max_age_days is None else max_age_days
    if post.created_at <= as_of - timedelta(days=days):
        return False
    if is_open_at(post, as_of) and not has_accepted_answer_at(post, as_of):
        return True
    done = [t for t in (post.closed_at, post.accepted_at) if t is not None and t <= as_of]
    return bool(done) and min(done) > as_of - RECENTLY_ANSWERED


def post_state(
    post: Post,
    roster: StaffRoster,
    settings: Settings,
    as_of: datetime,
    post_type: str,
    entry: HelpWantedEntry | None = None,
) -> StateRow:
    """The row of one post as of T; ``entry``: its [Help Wanted] item at T, if it is on the list."""
    replies = substantive_replies(post, roster, settings, as_of)
    responses = [r for r in replies if not is_by_author(post, r)]  # responses_at, from the same replies
    staff = (r for r in responses if is_reply_staff(post, r, roster))
    return StateRow(
        channel=post.channel,
        source_id=post.source_id,
        url=post.url,
        title=post.title,
        author=post.author,
        post_type=post_type,
        created_at=post.created_at,
        first_response_at=responses[0].created_at if responses else None,
        first_staff_response_at=next((r.created_at for r in staff), None),
        answer_state=answer_state(post, roster, settings, as_of, replies),
        owner=route_owner(post, settings.routing),
        escalation=entry.step if entry else "",
        day_on_list=entry.day if entry else 0,
        as_of=as_of,
    )


def classify_types(posts: Sequence[Post], classifier: Classifier) -> list[str]:
    """Each post's type, as [Triage] decides it."""
    return [c.post_type for c in classify_posts(classifier, posts)]


@dataclass(frozen=True)
class RowSelection:
    """Which posts get a row, and as of which T: one of the tables a single read of posts yields."""

    as_of: datetime
    keep: Callable[[Post], bool]


def every_post_at(as_of: datetime) -> RowSelection:
    return RowSelection(as_of, lambda p: True)


def tracked_at(
    roster: StaffRoster, settings: Settings, as_of: datetime, max_age_days: int | None = None
) -> RowSelection:
    """The snapshot at T of the tracked posts (``is_tracked``) created in the last ``max_age_days``."""
    rules = RulesAsOf(roster, settings, as_of)
    return RowSelection(as_of, lambda p: is_tracked(p, rules, max_age_days))


def created_since(roster: StaffRoster, settings: Settings, as_of: datetime, since: datetime) -> RowSelection:
    """Every post health counts that was created in [since, T], open or not, as of T."""
    rules = RulesAsOf(roster, settings, as_of)
    return RowSelection(as_of, lambda p: since <= p.created_at and is_health_post(p, rules))


def rows_of(
    posts: Iterable[Post],
    roster: StaffRoster,
    settings: Settings,
    classifier: Classifier,
    selections: Sequence[RowSelection],
    releases: Sequence[Release] = (),
) -> list[list[StateRow]]:
    """For each selection, its posts' rows as of its T, with each one's place on the [Help Wanted]
    list at that T, ordered by channel and id: all from one read of ``posts``.

    Posts are taken ``CHUNK`` at a time (whether a post is on the list depends on that post alone),
    so a stream of posts is never held in memory whole, and each post is classified once. Selections
    with the same T share the work of that T: a post in several of them has one [Help Wanted] check
    and one row (the weekly run's snapshot at T and its posts created since are mostly the same posts).
    """
    results: list[list[StateRow]] = [[] for _ in selections]
    for chunk in chunks(posts, CHUNK):
        picked = [[p for p in chunk if selection.keep(p)] for selection in selections]
        needed = {p.url: p for group in picked for p in group}
        types = dict(zip(needed, classify_types(list(needed.values()), classifier), strict=True))
        at_time: dict[datetime, dict[str, Post]] = {}
        for selection, group in zip(selections, picked, strict=True):
            at_time.setdefault(selection.as_of, {}).update((p.url, p) for p in group)
        made: dict[datetime, dict[str, StateRow]] = {}
        for as_of, union in at_time.items():
            sections = find_help_wanted_sections(union.values(), roster, settings, as_of, releases)
            entries = {e.post.url: e for e in sections.entries}
            made[as_of] = {
                url: post_state(p, roster, settings, as_of, types[url], entries.get(url))
                for url, p in union.items()
            }
        for selection, group, rows in zip(selections, picked, results, strict=True):
            rows += (made[selection.as_of][p.url] for p in group)
    return [sorted(rows, key=lambda r: (r.channel, r.source_id)) for rows in results]


def rows_for(
    posts: Iterable[Post],
    roster: StaffRoster,
    settings: Settings,
    as_of: datetime,
    classifier: Classifier,
    releases: Sequence[Release] = (),
) -> list[StateRow]:
    """The rows of ``posts`` as of T (``rows_of`` with every post)."""
    return rows_of(posts, roster, settings, classifier, [every_post_at(as_of)], releases)[0]


def state_rows(
    posts: Iterable[Post],
    roster: StaffRoster,
    settings: Settings,
    as_of: datetime,
    classifier: Classifier,
    releases: Sequence[Release] = (),
) -> list[StateRow]:
    """The state table's snapshot at T: a row for each tracked post (``is_tracked``)."""
    return rows_of(posts, roster, settings, classifier, [tracked_at(roster, settings, as_of)], releases)[0]


def created_rows(
    posts: Iterable[Post],
    roster: StaffRoster,
    settings: Settings,
    as_of: datetime,
    classifier: Classifier,
    since: datetime,
    releases: Sequence[Release] = (),
) -> list[StateRow]:
    """A row as of T for every post health counts that was created in [since, T], open or not."""
    selection = created_since(roster, settings, as_of, since)
    return rows_of(posts, roster, settings, classifier, [selection], releases)[0]


# ----- metrics (pandas) --------------------------------------------------------------------------


def quantile(values: Iterable[float], q: float) -> float | None:
    """The ``q`` quantile as pandas' ``Series.quantile`` computes it (linear between the two nearest
    values: p90 of 1..10 is 9.1, of 1..20 is 18.1); None without values. NaN values are left out."""
    data = _known(values)
    if data.size == 0:
        return None
    return float(np.quantile(data, q, method="linear"))


def median(values: Iterable[float]) -> float | None:
    """The usual median (the mean of the two middle values of an even count); None without values."""
    data = _known(values)
    return float(np.median(data)) if data.size else None


def _known(values: Iterable[float | None]) -> np.ndarray:
    """The values that are numbers, as an array (NaN and None left out), read at once rather than
    value by value: a week's table takes a median and a p90 of every group."""
    data = np.asarray(values if isinstance(values, pd.Series) else list(values), dtype=float)
    return data[~np.isnan(data)]


def week_start(times: pd.Series) -> pd.Series:
    """Monday 00:00 UTC of each time's ISO week."""
    utc = times.dt.tz_convert(UTC)
    return utc.dt.floor("D") - pd.to_timedelta(utc.dt.day_of_week, unit="D")


TIME_COLUMNS = ("created_at", "first_response_at", "first_staff_response_at", "as_of")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NAT = np.iinfo(np.int64).min  # what datetime64 reads as NaT


def _micros(value: datetime | None) -> int:
    if value is None:
        return int(_NAT)
    # A time without a zone is UTC, as pandas' to_datetime(utc=True) reads it.
    return ((value if value.tzinfo else value.replace(tzinfo=UTC)) - _EPOCH) // _MICROSECOND


def _times(values: Iterable[datetime | None]) -> pd.Series:
    """The times as a UTC column, exact to the microsecond. Counted as integers: pandas parsing
    Python datetimes one by one took seconds at 100,000 rows."""
    micros = np.fromiter((_micros(v) for v in values), dtype=np.int64)
    return pd.Series(micros.view("datetime64[us]")).dt.tz_localize(UTC)


def rows_frame(rows: Iterable[StateRow]) -> pd.DataFrame:
    """The rows as a table: ``columns_frame`` of their fields."""
    rows = list(rows)
    # Column by column from the rows: dataclasses.asdict would deep-copy every datetime, and the
    # times are counted straight from the rows' datetimes (see ``_times``).
    return columns_frame(
        {
            name: _times(getattr(r, name) for r in rows)
            if name in TIME_COLUMNS
            else pd.Series([getattr(r, name) for r in rows], dtype=object)
            for name in STATE_COLUMNS
        }
    )


def stored_times(values: Sequence[Any]) -> pd.Series:
    """A time column as a database returns it without conversion: ISO 8601 text (SQLite) or naive
    datetimes (Postgres), UTC; None for no time. Parsed by pandas at once, not value by value."""
    parsed = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    return parsed.astype("datetime64[us, UTC]")


def columns_frame(columns: dict[str, pd.Series]) -> pd.DataFrame:
    """The state columns (``STATE_COLUMNS``; times as UTC ``datetime64[us]``) as a table, plus
    ``first_response_h``, ``first_staff_response_h`` (hours after creation; NaN without one),
    ``first_by_staff`` (True, False, or NA without a response) and ``week`` (Monday 00:00 UTC of the
    week the post was created)."""
    frame = pd.DataFrame({name: columns[name] for name in STATE_COLUMNS})
    frame["day_on_list"] = frame["day_on_list"].astype("int64")
    frame["first_response_h"] = (frame["first_response_at"] - frame["created_at"]) / HOUR
    frame["first_staff_response_h"] = (frame["first_staff_response_at"] - frame["created_at"]) / HOUR
    by_staff = frame["first_staff_response_at"] == frame["first_response_at"]
    frame["first_by_staff"] = by_staff.astype("boolean").where(frame["first_response_at"].notna())
    frame["week"] = week_start(frame["created_at"])
    return frame


def _share(flags: pd.Series) -> float | None:
    known = flags.dropna()
    return float(known.astype(bool).mean()) if len(known) else None


def answered_within(
    frame: pd.DataFrame, as_of: datetime, within: timedelta = ANSWERED_WITHIN
) -> float | None:
    """Of the posts at least ``within`` old at T, the share whose first response came within it."""
    old_enough = frame[frame["created_at"] <= pd.Timestamp(as_of - within)]
    if old_enough.empty:
        return None
    return float((old_enough["first_response_h"] <= within / HOUR).mean())


def response_numbers(frame: pd.DataFrame, as_of: datetime) -> dict[str, Any]:
    """Times to first (staff) response, median and p90 in hours, and the shares, for a group of posts."""
    return {
        "posts": len(frame),
        "responded": int(frame["first_response_h"].notna().sum()),
        "median_first_response_h": median(frame["first_response_h"]),
        "p90_first_response_h": quantile(frame["first_response_h"], P90),
        "median_first_staff_response_h": median(frame["first_staff_response_h"]),
        "p90_first_staff_response_h": quantile(frame["first_staff_response_h"], P90),
        "answered_within_2d": answered_within(frame, as_of),
        "community_share": _share(~frame["first_by_staff"]),
    }


def weekly_metrics(
    frame: pd.DataFrame, as_of: datetime, by: Sequence[str] = ("channel", "post_type")
) -> pd.DataFrame:
    """Per week created (Monday 00:00 UTC) and ``by`` (channel, post type): ``response_numbers``.

    ``frame``: ``rows_frame`` of rows as of T, e.g. ``created_rows`` or the state table's
    ``newest_frame``. One row per (week, *by) with posts; oldest week first.
    """
    keys = ["week", *by]
    columns = [*keys, *response_numbers(rows_frame([]), as_of)]
    records = [
        {**dict(zip(keys, group_keys, strict=True)), **response_numbers(group, as_of)}
        for group_keys, group in frame.groupby(keys, sort=True)
    ]
    return pd.DataFrame.from_records(records, columns=columns)


@dataclass(frozen=True)
class ResponseTimes:
    """How many posts, how many got a response, and the median and p90 hours to their first (staff)
    response: ``response_numbers`` without the shares."""

    posts: int
    responded: int
    median_first_response_h: float | None
    p90_first_response_h: float | None
    median_first_staff_response_h: float | None
    p90_first_staff_response_h: float | None


_RESPONSE_TIMES = tuple(f.name for f in fields(ResponseTimes))


@dataclass(frozen=True, kw_only=True)
class GroupNumbers(ResponseTimes):
    """The response times of one channel's posts of one type created in the week before T."""

    channel: str
    post_type: str


def group_numbers(frame: pd.DataFrame, as_of: datetime) -> tuple[GroupNumbers, ...]:
    """``response_numbers``' counts and times for each (channel, post type) of ``frame``, ordered by
    channel and type; none for a group without posts."""
    found = []
    for (channel, post_type), group in frame.groupby(["channel", "post_type"], sort=True):
        numbers = response_numbers(group, as_of)
        found.append(
            GroupNumbers(
                channel=str(channel), post_type=str(post_type), **{k: numbers[k] for k in _RESPONSE_TIMES}
            )
        )
    return tuple(found)


@dataclass(frozen=True, kw_only=True)
class HealthNumbers(ResponseTimes):
    """The weekly review's numbers as of T: posts created in the week before T (``ResponseTimes``
    and the shares), the backlog at T."""

    as_of: datetime
    # Shares from 0 to 1; None when no post counts.
    answered_within_2d: float | None
    community_share: float | None
    backlog: int
    backlog_median_age_days: float | None
    backlog_max_age_days: float | None
    escalated: int
    # The week's response times per channel and post type (``group_numbers``).
    groups: tuple[GroupNumbers, ...] = ()


def health_numbers(rows: Iterable[StateRow], as_of: datetime, window: timedelta = WEEK) -> HealthNumbers:
    """The numbers of a snapshot at T (the state table's rows at T, or ``state_rows`` at T): response
    times and shares of the posts created in (T − ``window``, T], overall and per channel and type,
    the open backlog and the escalated items at T."""
    frame = rows_frame(rows)
    recent = frame[frame["created_at"] > pd.Timestamp(as_of - window)]
    waiting = frame[frame["answer_state"].isin(sorted(WAITING_FOR_AN_ANSWER))]
    ages = (pd.Timestamp(as_of) - waiting["created_at"]) / timedelta(days=1)
    return HealthNumbers(
        as_of=as_of,
        **response_numbers(recent, as_of),
        backlog=len(waiting),
        backlog_median_age_days=median(ages),
        backlog_max_age_days=float(ages.max()) if len(ages) else None,
        escalated=int((frame["escalation"] == "escalated").sum()),
        groups=group_numbers(recent, as_of),
    )
