"""Community health (SPEC §10): post states as of T, the pandas metrics, the weekly section and chart."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from builders import ROSTER, SETTINGS, T, ago, answer, post, reply
from community_monitoring import health
from community_monitoring.classify import PostClassifier
from community_monitoring.health import StateRow
from community_monitoring.health_rendering import (
    change,
    chart_weeks,
    format_days,
    format_hours,
    group_lines,
    health_chart_png,
    health_lines,
    percent,
    render_health_section,
)
from community_monitoring.records import Post
from community_monitoring.rendering import BREAK, join_blocks, template_environment
from community_monitoring.rules import RulesAsOf

RULES = PostClassifier.from_settings(SETTINGS)


def row(
    created: datetime,
    first: float | None = None,
    staff: float | None = None,
    *,
    channel: str = "github",
    post_type: str = "bug",
    state: str = "answered",
    escalation: str = "",
    number: int = 1,
    as_of: datetime = T,
) -> StateRow:
    """A state row whose first (staff) response came ``first`` (``staff``) hours after creation."""
    return StateRow(
        channel=channel,
        source_id=f"{channel}-{number}",
        url=f"https://example.test/{channel}/{number}",
        title="t",
        author="alice",
        post_type=post_type,
        created_at=created,
        first_response_at=created + timedelta(hours=first) if first is not None else None,
        first_staff_response_at=created + timedelta(hours=staff) if staff is not None else None,
        answer_state=state,
        owner="",
        escalation=escalation,
        day_on_list=0,
        as_of=as_of,
    )


# ----- first responses as of T ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replies", "first_days_ago", "staff_days_ago"),
    [
        pytest.param((), None, None, id="no reply"),
        pytest.param((answer("alice", at=ago(days=2)),), None, None, id="the author's own reply"),
        pytest.param((answer("helper-bot", at=ago(days=2)),), None, None, id="a bot"),
        pytest.param((reply("bob", at=ago(days=2), body="+1"),), None, None, id="a me-too"),
        pytest.param((answer("bob", at=T + timedelta(hours=1)),), None, None, id="after T"),
        pytest.param((answer("bob", at=ago(days=2)),), 2, None, id="community only"),
        pytest.param((answer("staffer", at=ago(days=2)),), 2, 2, id="staff first"),
        pytest.param(
            (answer("bob", at=ago(days=2)), answer("staffer", at=ago(days=1))),
            2,
            1,
            id="community then staff",
        ),
        pytest.param(
            (reply("bob", at=ago(days=2), body="same here"), answer("staffer", at=ago(days=1))),
            1,
            1,
            id="me-too then staff",
        ),
    ],
)
def test_first_response_and_first_staff_response(
    replies: tuple, first_days_ago: int | None, staff_days_ago: int | None
) -> None:
    item = post(created=ago(days=5), replies=replies)
    first = health.first_response_at(item, ROSTER, SETTINGS, T)
    staff = health.first_staff_response_at(item, ROSTER, SETTINGS, T)
    assert first == (ago(days=first_days_ago) if first_days_ago is not None else None)
    assert staff == (ago(days=staff_days_ago) if staff_days_ago is not None else None)


# ----- which posts the state table tracks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "tracked"),
    [
        pytest.param(post(created=ago(days=3)), True, id="open"),
        pytest.param(
            post(created=ago(days=3), replies=(answer("staffer", at=ago(days=2)),)), True, id="open, answered"
        ),
        pytest.param(post(created=ago(days=29)), True, id="inside the window"),
        pytest.param(post(created=ago(days=31)), False, id="older than the digests' window"),
        pytest.param(post(created=T + timedelta(hours=1)), False, id="created after T"),
        pytest.param(
            post(created=ago(days=20), state="closed", closed_at=ago(days=13)), True, id="closed 13 days ago"
        ),
        pytest.param(
            post(created=ago(days=20), state="closed", closed_at=ago(days=15)), False, id="closed 15 days ago"
        ),
        pytest.param(
            post(created=ago(days=20), state="closed", closed_at=T + timedelta(days=1)),
            True,
            id="closed after T",
        ),
        pytest.param(post(created=ago(days=20), accepted_at=ago(days=16)), False, id="accepted 16 days ago"),
        pytest.param(post(author="staffer", created=ago(days=3)), False, id="by staff"),
        pytest.param(post(created=ago(days=3), is_pull_request=True), False, id="a pull request"),
        pytest.param(post(channel="jira", created=ago(days=3)), False, id="a channel that lists no posts"),
    ],
)
def test_the_state_table_tracks_open_and_recently_answered_posts(item: Post, tracked: bool) -> None:
    assert health.is_tracked(item, RulesAsOf(ROSTER, SETTINGS, T)) is tracked
    assert len(health.state_rows([item], ROSTER, SETTINGS, T, RULES)) == int(tracked)


def test_the_weekly_backlog_counts_every_open_post_the_weekly_run_reads() -> None:
    """The posts that waited longest are the backlog's point: a 78-day-old unanswered post counts
    (the weekly run reads ``weekly.max_age_days``), so the backlog never looks healthiest when old
    posts pile up."""
    posts = [post(created=ago(days=3), number=1), post(created=ago(days=78), number=2)]
    window = SETTINGS.weekly.max_age_days
    [daily, weekly] = health.rows_of(
        posts,
        ROSTER,
        SETTINGS,
        RULES,
        [health.tracked_at(ROSTER, SETTINGS, T), health.tracked_at(ROSTER, SETTINGS, T, window)],
    )
    assert [r.source_id for r in daily] == [posts[0].source_id]
    numbers = health.health_numbers(weekly, T)
    assert (numbers.backlog, numbers.backlog_max_age_days) == (2, 78.0)
    older = post(created=ago(days=window + 1), number=3)
    assert not health.is_tracked(older, RulesAsOf(ROSTER, SETTINGS, T), window)


def test_the_weekly_run_reads_far_enough_back_for_the_backlog_a_week_earlier() -> None:
    """The backlog a week before T reaches ``weekly.max_age_days`` back from T − 7 days: read only
    that far from T, its oldest posts were missing, and the week-on-week change read "+1"."""
    from community_monitoring.pipeline.common import review_window_days

    window = review_window_days(SETTINGS, "weekly")
    oldest_a_week_earlier = post(created=ago(days=SETTINGS.weekly.max_age_days + 6), number=4)
    assert health.is_tracked(
        oldest_a_week_earlier, RulesAsOf(ROSTER, SETTINGS, T - health.WEEK), SETTINGS.weekly.max_age_days
    )
    assert oldest_a_week_earlier.created_at > T - timedelta(days=window)  # read by the weekly run
    assert review_window_days(SETTINGS, "daily") == SETTINGS.digest.max_age_days


@pytest.mark.parametrize(
    ("days_old", "escalation", "day"),
    [
        pytest.param(1, "", 0, id="too new for the list"),
        pytest.param(3, "listed", 2, id="listed"),
        pytest.param(5, "mention_rotation", 4, id="the mention day"),
        pytest.param(9, "escalated", 8, id="escalated"),
    ],
)
def test_rows_carry_the_help_wanted_ladder_step(days_old: int, escalation: str, day: int) -> None:
    [state] = health.state_rows([post(created=ago(days=days_old))], ROSTER, SETTINGS, T, RULES)
    assert (state.escalation, state.day_on_list) == (escalation, day)
    assert state.answer_state == "unanswered"
    assert state.as_of == T


def test_a_backfill_at_t_rebuilds_the_same_rows_whatever_happened_after_t() -> None:
    """Point in time: replies and closures after T change nothing in T's rows."""
    thread = (answer("bob", at=ago(days=3)),)
    then = [post(number=1, created=ago(days=4), replies=thread), post(number=2, created=ago(days=9))]
    later = [
        replace(then[0], replies=(*thread, answer("staffer", at=T + timedelta(hours=2)))),
        replace(
            then[1],
            state="closed",
            closed_at=T + timedelta(days=1),
            replies=(answer("staffer", at=T + timedelta(days=1)),),
        ),
    ]
    rows_then = health.state_rows(then, ROSTER, SETTINGS, T, RULES)
    assert health.state_rows(later, ROSTER, SETTINGS, T, RULES) == rows_then
    assert [r.first_staff_response_at for r in rows_then] == [None, None]
    # A week later the same posts read differently.
    week_later = health.state_rows(later, ROSTER, SETTINGS, T + timedelta(days=7), RULES)
    assert [r.first_staff_response_at for r in week_later] == [T + timedelta(hours=2), T + timedelta(days=1)]


# ----- quantiles and weeks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "p90", "middle"),
    [
        pytest.param([], None, None, id="empty"),
        pytest.param([5.0], 5.0, 5.0, id="one"),
        pytest.param([3.0, 1.0, 2.0], 2.8, 2.0, id="three"),
        pytest.param([1.0, 2.0, 3.0, 4.0], 3.7, 2.5, id="even count: the mean of the middle two"),
        pytest.param([1.0, 2.0, 3.0, 4.0, 10.0], 7.6, 3.0, id="one long wait: between 4 and 10"),
        pytest.param([float(v) for v in range(1, 11)], 9.1, 5.5, id="1..10"),
        pytest.param([float(v) for v in range(1, 21)], 18.1, 10.5, id="1..20"),
        pytest.param([1.0, 100.0, float("nan")], 90.1, 50.5, id="NaN left out"),
        pytest.param([None, 7.0, None], 7.0, 7.0, id="None left out"),
    ],
)
def test_p90_and_the_median_are_what_pandas_computes(
    values: list[float], p90: float | None, middle: float | None
) -> None:
    """SPEC §10: the metrics are "computed with pandas"; whoever checks them with a table's
    quantile(0.9) must get the same p90."""
    assert health.quantile(values, health.P90) == pytest.approx(p90)
    assert health.median(values) == middle
    # A table's column, as the metrics pass it: the same numbers, and pandas' own.
    column = pd.Series(values, dtype=float)
    assert health.quantile(column, health.P90) == pytest.approx(p90)
    assert health.median(column) == middle
    assert health.median(iter(values)) == middle
    if middle is not None:
        assert health.quantile(column, health.P90) == pytest.approx(column.quantile(0.9))
        assert health.median(column) == pytest.approx(column.median())


@pytest.mark.parametrize(
    ("created", "monday"),
    [
        pytest.param(
            datetime(2026, 11, 15, 23, 59, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC), id="Sunday 23:59"
        ),
        pytest.param(
            datetime(2026, 11, 16, 0, 0, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC), id="Monday 00:00"
        ),
        pytest.param(
            datetime(2026, 11, 18, 9, 0, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC), id="Wednesday"
        ),
        pytest.param(
            datetime(2027, 1, 1, 12, 0, tzinfo=UTC), datetime(2026, 12, 28, tzinfo=UTC), id="across the year"
        ),
    ],
)
def test_posts_count_in_the_iso_week_they_were_created(created: datetime, monday: datetime) -> None:
    frame = health.rows_frame([row(created, 1.0)])
    assert frame["week"].iloc[0] == pd.Timestamp(monday)
    assert health.weekly_metrics(frame, T)["week"].tolist() == [pd.Timestamp(monday)]


# ----- the metrics on a table of known posts ------------------------------------------------------------

MONDAY = datetime(2026, 11, 9, tzinfo=UTC)
KNOWN = [
    # Week of 11-09, GitHub bugs: first responses after 2, 4, 6 and 30 hours; staff answered two.
    row(MONDAY + timedelta(hours=1), 2, 2, number=1),
    row(MONDAY + timedelta(hours=2), 4, 10, number=2),
    row(MONDAY + timedelta(hours=3), 6, None, number=3),
    row(MONDAY + timedelta(hours=4), 30, 30, number=4),
    # The same week, one GitHub question with no response yet.
    row(MONDAY + timedelta(days=1), None, None, post_type="question", state="unanswered", number=5),
    # Sunday 23:59 and Monday 00:00: two different weeks on the forum.
    row(
        MONDAY + timedelta(days=7) - timedelta(minutes=1),
        1,
        1,
        channel="forum",
        post_type="question",
        number=6,
    ),
    row(MONDAY + timedelta(days=7), 49, 49, channel="forum", post_type="question", number=7),
]


def test_weekly_metrics_per_channel_and_type() -> None:
    table = health.weekly_metrics(health.rows_frame(KNOWN), T).set_index(["week", "channel", "post_type"])
    bugs = table.loc[(pd.Timestamp(MONDAY), "github", "bug")]
    assert (bugs["posts"], bugs["responded"]) == (4, 4)
    assert bugs["median_first_response_h"] == 5.0
    assert bugs["p90_first_response_h"] == pytest.approx(22.8)  # 6 + 0.7 × (30 − 6), as pandas has it
    assert bugs["median_first_staff_response_h"] == 10.0
    assert bugs["p90_first_staff_response_h"] == pytest.approx(26.0)  # 10 + 0.8 × (30 − 10)
    assert bugs["answered_within_2d"] == 1.0
    assert bugs["community_share"] == 0.5  # the 4- and 6-hour ones: staff came later or not at all
    questions = table.loc[(pd.Timestamp(MONDAY), "github", "question")]
    assert (questions["posts"], questions["responded"], questions["answered_within_2d"]) == (1, 0, 0.0)
    assert pd.isna(questions["median_first_response_h"])
    assert table.loc[(pd.Timestamp(MONDAY), "forum", "question")]["median_first_response_h"] == 1.0
    next_week = table.loc[(pd.Timestamp(MONDAY + timedelta(days=7)), "forum", "question")]
    assert (next_week["median_first_response_h"], next_week["answered_within_2d"]) == (49.0, 0.0)


@pytest.mark.parametrize(
    ("hours", "days_old", "share"),
    [
        pytest.param(48.0, 3, 1.0, id="exactly 2 days: within"),
        pytest.param(48.5, 3, 0.0, id="just over"),
        pytest.param(None, 3, 0.0, id="no response"),
        pytest.param(1.0, 1, None, id="too new to tell"),
    ],
)
def test_answered_within_two_days(hours: float | None, days_old: int, share: float | None) -> None:
    assert health.answered_within(health.rows_frame([row(ago(days=days_old), hours)]), T) == share


def test_health_numbers_of_a_snapshot() -> None:
    rows = [
        row(ago(days=1), 3, 3, number=1),
        row(ago(days=6), 9, None, number=2),
        row(ago(days=8), 1, 1, number=3),  # created before the week: not in its response times
        row(ago(days=4), None, None, state="unanswered", number=4),
        row(ago(days=10), 2, 2, state="waiting_on_us", escalation="escalated", number=5),
        row(ago(days=20), 5, 5, state="waiting_on_reporter", number=6),
    ]
    numbers = health.health_numbers(rows, T)
    assert (numbers.posts, numbers.responded) == (3, 2)
    assert (numbers.median_first_response_h, numbers.p90_first_response_h) == (6.0, pytest.approx(8.4))
    assert numbers.median_first_staff_response_h == 3.0
    assert numbers.answered_within_2d == 0.5  # of the week's posts at least 2 days old (6 and 4 days)
    assert numbers.community_share == 0.5
    assert (numbers.backlog, numbers.backlog_median_age_days, numbers.backlog_max_age_days) == (2, 7.0, 10.0)
    assert numbers.escalated == 1


def test_a_reply_after_t_does_not_count_in_the_numbers() -> None:
    item = post(created=ago(days=3), replies=(answer("staffer", at=T + timedelta(minutes=1)),))
    numbers = health.health_numbers(health.state_rows([item], ROSTER, SETTINGS, T, RULES), T)
    assert (numbers.responded, numbers.median_first_response_h, numbers.backlog) == (0, None, 1)


def test_the_snapshot_and_the_posts_created_in_the_window_give_the_same_numbers() -> None:
    """The weekly section may be computed from either: the posts the snapshot leaves out (answered
    long ago) count in neither the week's response times nor the backlog."""
    posts = [
        post(number=1, created=ago(days=2), replies=(answer("bob", at=ago(days=1)),)),
        post(number=2, created=ago(days=9)),
        post(number=3, created=ago(days=25), state="closed", closed_at=ago(days=20)),
        post(
            number=4, channel="forum", created=ago(days=6), replies=(answer("forum.staffer", at=ago(days=5)),)
        ),
    ]
    snapshot = health.state_rows(posts, ROSTER, SETTINGS, T, RULES)
    created = health.created_rows(posts, ROSTER, SETTINGS, T, RULES, since=ago(days=30))
    assert len(created) == len(snapshot) + 1
    assert health.health_numbers(snapshot, T) == health.health_numbers(created, T)


# ----- the section and the chart -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (0.5, "0.5 h"),
        (9.0, "9 h"),
        (9.96, "10 h"),
        (47.4, "47 h"),
        (48.0, "2 d"),
        (84.0, "3.5 d"),
        # Halves go up, as people round them (format strings round 0.25 to even: 0.2).
        (0.25, "0.3 h"),
        (2.25, "2.3 h"),
        (12.5, "13 h"),
        (54.0, "2.3 d"),
        (0.04, "0 h"),
    ],
)
def test_format_hours(hours: float, text: str) -> None:
    assert format_hours(hours) == text


@pytest.mark.parametrize(
    ("now", "before", "unit", "text"),
    [
        (9.0, 12.0, "hours", "−3 h"),
        (12.0, 9.0, "hours", "+3 h"),
        (9.0, 9.0, "hours", "same"),
        (9.0, None, "hours", "n/a"),
        (0.64, 0.54, "share", "+10 points"),
        (0.5, 0.504, "share", "same"),
        (0.625, 0.5, "share", "+13 points"),
        (0.5, 0.505, "share", "\u22121 point"),
        (3.0, 3.25, "hours", "\u22120.3 h"),
        # As the values read (1.2 h after 1 h), not the binary difference 0.1499…
        (1.15, 1.0, "hours", "+0.2 h"),
        (np.float64(0.6), 0.5, "share", "+10 points"),
        (np.float64(5.0), np.float64(4.75), "hours", "+0.3 h"),
        (3, 5, "count", "−2"),
        (5, 5, "count", "same"),
    ],
)
def test_week_on_week_change(now: float, before: float | None, unit: str, text: str) -> None:
    assert change(now, before, unit) == text


@pytest.mark.parametrize(
    ("share", "text"),
    [
        (0.125, "13%"),
        (0.145, "15%"),
        (1 / 3, "33%"),
        (0.0, "0%"),
        (1.0, "100%"),
        (0.004, "0%"),
        (0.875, "88%"),
    ],
)
def test_percent_rounds_halves_up(share: float, text: str) -> None:
    assert percent(share) == text


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (np.float64(0.25), "0.3 h"),  # numpy's repr is "np.float64(0.25)": no decimal to read
        (1e30, "41666666666666665000000000000 d"),  # beyond the default 28 digits of Decimal
        (float("inf"), "inf d"),
        (float("nan"), "nan d"),
    ],
)
def test_format_hours_reads_any_float(hours: float, text: str) -> None:
    assert format_hours(hours) == text


@pytest.mark.parametrize(
    ("age", "item_line", "health"),
    [
        (timedelta(days=61, hours=14), "61 days ago", "61 d"),
        (timedelta(days=61, hours=23, minutes=59), "61 days ago", "61 d"),
        (timedelta(days=6), "6 days ago", "6 d"),
        (timedelta(days=1), "1 day ago", "1 d"),
        (timedelta(hours=16, minutes=48), "16 hours ago", "16 h"),
        (timedelta(minutes=20), "0 hours ago", "0 h"),
    ],
)
def test_the_health_line_counts_an_age_as_the_item_lines_do(
    age: timedelta, item_line: str, health: str
) -> None:
    """The backlog's "oldest 61 d" is the post an item line shows as "61 days ago": whole days
    elapsed (whole hours below a day), never rounded up to the next day."""
    days = age / timedelta(days=1)
    assert template_environment().filters["age"](T - age, T) == item_line
    assert format_days(days) == health
    now = numbers(T, backlog=1, backlog_median_age_days=days, backlog_max_age_days=days)
    assert f"median age {health}, oldest {health}" in "\n".join(health_lines(now, numbers(T)))


def test_percent_of_a_numpy_share() -> None:
    assert percent(np.float64(0.625)) == "63%"


def numbers(as_of: datetime, **values: object) -> health.HealthNumbers:
    base = health.health_numbers([], as_of)
    return replace(base, **values)


def test_the_section_names_each_number_and_its_change() -> None:
    now = numbers(
        T,
        posts=10,
        responded=3,
        median_first_response_h=9.0,
        p90_first_staff_response_h=50.0,
        backlog=4,
        backlog_median_age_days=6.0,
        backlog_max_age_days=29.0,
    )
    before = numbers(T - timedelta(days=7), posts=8, median_first_response_h=12.0, backlog=4)
    lines = health_lines(now, before)
    assert "Median first response: 9 h (−3 h vs last week)" in lines
    # How many posts the response times are of (3 of 10 got one: the median is of those 3).
    assert "New posts: 10 (+2 vs last week); 3 of them got a response" in lines
    assert "New posts: 0 (−10 vs last week)" in health_lines(replace(now, posts=0), now)
    assert "p90 first staff response: 2.1 d (n/a vs last week)" in lines
    assert (
        "Open backlog (unanswered or waiting on us): 4 (same vs last week); median age 6 d, oldest 29 d"
        in lines
    )
    assert "Answered within 2 days: none (n/a vs last week)" in lines
    section = render_health_section(now, before, ["github", "forum"])
    # The heading is a block of its own (the one a part carrying the section on repeats).
    assert section.startswith(f"#### Community health{BREAK}")
    assert "on GitHub and Forum" in section
    assert section.count("\n- ") == len(lines)
    # Nothing in it may look like an item of the review (a "- [" link line) or ping anyone.
    assert "- [" not in section
    assert "@" not in section


def _stale(count: int) -> dict[str, list]:
    from builders import post
    from community_monitoring.rules import StaleItem

    items = [
        StaleItem(
            post(number=n, title=f"Stale issue {n} " + "x" * 120),
            T - timedelta(days=9),
            "alice",
            "unanswered",
        )
        for n in range(count)
    ]
    return {"github": items}


@pytest.mark.parametrize("count", [0, 3, 100_000])
def test_the_section_ends_the_review_within_its_posts(count: int) -> None:
    """The review's caps leave room for the section: it always ends the last post, in ≤ 3 posts."""
    from builders import SETTINGS
    from community_monitoring.messages import render_weekly_review

    review = render_weekly_review(
        _stale(count), SETTINGS, T, 7, footer="#### Community health\n- New posts: 4"
    )
    assert 1 <= len(review.parts) <= 3
    assert review.parts[-1].endswith("#### Community health\n- New posts: 4")
    assert review.text.count("#### Community health") == 1
    assert all(len(part) <= SETTINGS.digest.message_max_chars for part in review.parts)


def test_chart_weeks_are_the_eight_mondays_up_to_t() -> None:
    weeks = chart_weeks(T)
    assert len(weeks) == 8
    assert weeks[-1] == datetime(2026, 11, 16, tzinfo=UTC)
    assert weeks[0] == datetime(2026, 9, 28, tzinfo=UTC)


@pytest.mark.parametrize("rows", [pytest.param(KNOWN, id="two channels"), pytest.param([], id="no posts")])
def test_the_chart_is_a_png(rows: list[StateRow]) -> None:
    weekly = health.weekly_metrics(health.rows_frame(rows), T, by=("channel",))
    png = health_chart_png(weekly, T)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5000


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        pytest.param(KNOWN, False, id="responses"),
        pytest.param([], True, id="no posts"),
        pytest.param(
            [replace(r, first_response_at=None, first_staff_response_at=None) for r in KNOWN],
            True,
            id="posts, none answered",
        ),
    ],
)
def test_the_chart_says_when_no_post_got_a_response(
    monkeypatch: pytest.MonkeyPatch, rows: list[StateRow], said: bool
) -> None:
    from matplotlib.axes import Axes

    texts: list[str] = []
    original = Axes.text
    monkeypatch.setattr(
        Axes, "text", lambda self, x, y, s, *a, **k: texts.append(s) or original(self, x, y, s, *a, **k)
    )
    health_chart_png(health.weekly_metrics(health.rows_frame(rows), T, by=("channel",)), T)
    assert ("no responses in these weeks" in texts) is said


@pytest.mark.parametrize("chunk", [1, 2, 3, 100])
def test_rows_do_not_depend_on_how_posts_are_batched(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    posts = [post(number=n, created=ago(days=n), channel=("github", "forum")[n % 2]) for n in range(1, 11)]
    whole = health.state_rows(posts, ROSTER, SETTINGS, T, RULES)
    monkeypatch.setattr(health, "CHUNK", chunk)
    assert health.state_rows(iter(posts), ROSTER, SETTINGS, T, RULES) == whole
    assert [r.escalation for r in whole].count("escalated") == 3  # days 9 and 10, and 8 (day 7)


class _CountingClassifier:
    """The rules, counting how many posts each call asked about."""

    def __init__(self) -> None:
        self.rules = PostClassifier.from_settings(SETTINGS)
        self.asked: list[int] = []

    def classify_all(self, posts: list[Post]) -> list[health.Classification]:
        self.asked.append(len(posts))
        return [self.rules.classify(p) for p in posts]

    def classify(self, item: Post) -> health.Classification:
        return self.classify_all([item])[0]


def test_one_read_gives_every_table_and_classifies_each_post_once(monkeypatch: pytest.MonkeyPatch) -> None:
    titles = ["Crash on login", "How do I set SSO?", "Add dark mode"]
    posts = [post(number=n, title=t, created=ago(days=10)) for n, t in enumerate(titles)] + [
        # Ages on both sides of T − 7 days, answered and not, one closed: the tables differ.
        post(
            number=10 + n,
            title=titles[n % 3],
            channel=("github", "forum")[n % 2],
            created=ago(days=days),
            replies=(answer("bob", at=ago(days=days - 1)),) if n % 3 == 0 else (),
            closed_at=ago(days=1) if n == 4 else None,
        )
        for n, days in enumerate([2, 5, 8, 9, 12, 20, 40])
    ]
    counting = _CountingClassifier()
    selections = [
        health.tracked_at(ROSTER, SETTINGS, T),
        health.tracked_at(ROSTER, SETTINGS, T - health.WEEK),
        health.created_since(ROSTER, SETTINGS, T, ago(days=30)),
    ]
    built: list[tuple[str, datetime]] = []
    post_state = health.post_state

    def counting_post_state(item: Post, *args: object) -> StateRow:
        built.append((item.url, args[2]))  # (post, T): args are roster, settings, as_of, …
        return post_state(item, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(health, "post_state", counting_post_state)
    now, before, created = health.rows_of(iter(posts), ROSTER, SETTINGS, counting, selections)
    monkeypatch.undo()
    # Each post in a table was classified once (the 40-day-old post is in none).
    assert sum(counting.asked) == len({r.url for r in now + before + created}) == len(posts) - 1
    assert now == health.state_rows(posts, ROSTER, SETTINGS, T, RULES)
    assert before == health.state_rows(posts, ROSTER, SETTINGS, T - health.WEEK, RULES)
    assert created == health.created_rows(posts, ROSTER, SETTINGS, T, RULES, since=ago(days=30))
    assert [len(now), len(before), len(created)] == [9, 7, 9]
    assert {r.escalation for r in now} > {""}  # the [Help Wanted] ladder shows in the rows
    # Tables at the same T share one row per post: each (post, T) was worked out once.
    assert sorted(built) == sorted({(r.url, r.as_of) for r in now + before + created})


def test_a_health_section_that_fails_leaves_the_weekly_review_going_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The numbers are one section of the review: an error in them (pandas, the chart, the archive)
    stopped the stale list from being posted. The review now goes out and says the section is missing."""
    from types import SimpleNamespace

    from community_monitoring.pipeline import weekly

    def broken(run: object, kind: str, channels: list[str]) -> str:
        raise OSError("archive folder is read-only")

    saved: dict[str, list[str]] = {}
    store = SimpleNamespace(
        posts=lambda channels: iter(()),
        save_message=lambda kind, parts, count: saved.setdefault(kind, list(parts)),
    )
    run = SimpleNamespace(
        settings=SETTINGS,
        rosters=SimpleNamespace(staff=ROSTER),
        as_of=T,
        store=store,
        channels_read=lambda: {"read": ["github", "forum"], "missing": []},
        outbox=SimpleNamespace(
            archive=lambda kind, parts, full_text=None: f"/archive/{kind}.md",
            earlier_deliveries=lambda kind: {},
        ),
    )
    monkeypatch.setattr(weekly, "community_health_section", broken)
    weekly.build_weekly_review.__wrapped__(run)
    [text] = saved["weekly_review"]
    assert text.startswith("[Weekly Review]")
    assert "#### Community health\nNot available this week (OSError)" in text
    assert "read-only" not in text


# ----- per channel and type (SPEC §10: response times "per channel and type per week") -----------


def _group(numbers: health.HealthNumbers, channel: str, post_type: str) -> tuple[object, ...] | None:
    found = [g for g in numbers.groups if (g.channel, g.post_type) == (channel, post_type)]
    if not found:
        return None
    [g] = found
    return (
        g.posts,
        g.responded,
        g.median_first_response_h,
        g.p90_first_response_h,
        g.median_first_staff_response_h,
        g.p90_first_staff_response_h,
    )


GROUP_ROWS = [
    row(ago(days=6), 2, 2, number=1),  # github bug: staff first, 2 h
    row(ago(days=5), 4, 10, number=2),  # github bug: community 4 h, staff 10 h
    row(ago(days=4), None, None, state="unanswered", number=3),  # github bug: no response
    row(ago(days=3), 6, None, post_type="question", number=4),  # github question
    row(ago(days=2), 1, 1, channel="forum", post_type="troubleshooting", number=5),
    row(ago(days=1), 20, 30, channel="forum", post_type="troubleshooting", number=6),
    row(ago(days=9), 7, 7, number=7),  # created before the week: in no group
    row(ago(days=7), 8, 8, channel="forum", post_type="troubleshooting", number=8),  # T − 7 d: last week's
]


@pytest.mark.parametrize(
    ("channel", "post_type", "expected"),
    [
        pytest.param(
            "github", "bug", (3, 2, 3.0, pytest.approx(3.8), 6.0, pytest.approx(9.2)), id="github bug"
        ),
        pytest.param("github", "question", (1, 1, 6.0, 6.0, None, None), id="community answer only"),
        pytest.param(
            "forum",
            "troubleshooting",
            (2, 2, 10.5, pytest.approx(18.1), 15.5, pytest.approx(27.1)),
            id="forum",
        ),
        pytest.param("forum", "bug", None, id="no post of that type: no group"),
    ],
)
def test_response_times_per_channel_and_type(
    channel: str, post_type: str, expected: tuple[object, ...] | None
) -> None:
    """The week's posts (created in the 7 days before T) grouped by channel and post type, each
    with its own median and p90 first (staff) response; posts created earlier count in none."""
    assert _group(health.health_numbers(GROUP_ROWS, T), channel, post_type) == expected


def test_the_groups_are_the_channels_and_types_the_week_had() -> None:
    groups = health.health_numbers(GROUP_ROWS, T).groups
    assert [(g.channel, g.post_type) for g in groups] == [
        ("forum", "troubleshooting"),
        ("github", "bug"),
        ("github", "question"),
    ]
    assert health.health_numbers([], T).groups == ()


@pytest.mark.parametrize(
    ("now_rows", "before_rows", "expected"),
    [
        pytest.param(
            [row(ago(days=6), 2, 2, number=1), row(ago(days=5), 4, 10, number=2)],
            [row(ago(days=8), 30, 30, number=3)],
            "GitHub · Bug: 2 new posts (+1), 2 with a response; first response median 3 h (−27 h),"
            " p90 3.8 h (−26 h); first staff response median 6 h (−24 h), p90 9.2 h (−21 h)",
            id="both weeks",
        ),
        pytest.param(
            [row(ago(days=3), None, None, state="unanswered", number=1)],
            [],
            "GitHub · Bug: 1 new post (+1), 0 with a response; first response none; first staff response none",
            id="new group without a response",
        ),
        pytest.param(
            [],
            [row(ago(days=8), 5, None, channel="forum", post_type="question", number=1)],
            "Forum · Developer/Product Question: 0 new posts (−1), 0 with a response; first response"
            " median none (n/a), p90 none (n/a); first staff response none",
            id="a group only last week",
        ),
    ],
)
def test_each_group_line_gives_its_numbers_and_their_change(
    now_rows: list[StateRow], before_rows: list[StateRow], expected: str
) -> None:
    week_ago = T - timedelta(days=7)
    before = health.health_numbers([replace(r, as_of=week_ago) for r in before_rows], week_ago)
    assert group_lines(health.health_numbers(now_rows, T), before, ["github", "forum"]) == [expected]


def test_the_section_lists_the_groups_in_channel_then_type_order() -> None:
    now = health.health_numbers(GROUP_ROWS, T)
    lines = group_lines(now, numbers(T - timedelta(days=7)), ["github", "forum"])
    assert [line.split(":")[0] for line in lines] == [
        "GitHub · Bug",
        "GitHub · Developer/Product Question",
        "Forum · Troubleshooting",
    ]
    section = render_health_section(now, numbers(T - timedelta(days=7)), ["github", "forum"])
    assert join_blocks(section).count("\n- ") == len(health_lines(now, numbers(T))) + len(lines)
    assert "By channel and type" in section
    assert "@" not in section


def test_a_long_list_of_groups_carries_on_into_the_next_post_whole() -> None:
    """Each group line is a block of its own: posts as short as the settings allow (1,000
    characters) carry the lines on under the section's heading, none cut short."""
    from community_monitoring.messages import render_weekly_review

    rows = [
        row(ago(days=3), 3, 5, channel=channel, post_type=post_type, number=n)
        for n, (channel, post_type) in enumerate(
            (c, t)
            for c in ("github", "gitlab", "forum", "stackoverflow")
            for t in ("bug", "troubleshooting", "feature_proposal", "question")
        )
    ]
    channels = ["github", "gitlab", "forum", "stackoverflow"]
    now = health.health_numbers(rows, T)
    before = numbers(T - timedelta(days=7))
    section = render_health_section(now, before, channels)
    short = SETTINGS.model_copy(
        update={"digest": SETTINGS.digest.model_copy(update={"message_max_chars": 1000})}
    )
    review = render_weekly_review(_stale(5), short, T, 7, footer=section)
    assert all(len(part) <= 1000 for part in review.parts)
    lines = group_lines(now, before, channels)
    assert len(lines) == 16
    assert all(sum(f"- {line}" in part for part in review.parts) == 1 for line in lines)
    assert "…" not in "".join(review.parts[-3:])
    # rv35: a part carrying the lines on repeats the section's heading alone, "(continued)": the
    # overall numbers stand once (taken whole as the heading, they were repeated in every part,
    # which then held one group line each: 17 parts).
    assert sum("Median first response:" in part for part in review.parts) == 1
    carried = [part for part in review.parts if "#### Community health" in part][1:]
    assert carried
    assert all("\n#### Community health (continued)\n- " in part for part in carried)
    assert all(part.count(" · ") >= 3 for part in carried[:-1])
