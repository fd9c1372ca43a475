"""The weekly review's ``Community health`` section and its chart (SPEC §10).

The section is rendered from ``templates/community_health.md.j2`` and ends the ``[Weekly Review]``
(its ``footer``: the review's caps leave room for it, so it never adds a post). The chart is a PNG drawn with matplotlib's Agg backend (no display, no
global pyplot state): the weekly median time to first response per channel, by the week the posts
were created. Nothing here reads upstream text: the section holds numbers and channel labels only.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TYPE_CHECKING

from community_monitoring.channels import label as channel_label
from community_monitoring.classify import TYPE_HEADINGS
from community_monitoring.health import GroupNumbers, HealthNumbers
from community_monitoring.rendering import BREAK, elapsed, join_blocks, render_template

if TYPE_CHECKING:
    import pandas as pd

MINUS = "\u2212"
CHART_NAME = "community-health.png"
CHART_WEEKS = 8
# Room for " (NN/NN)" after the kind, as rendering.split_message leaves it.
_LABEL_ROOM = 16


# ----- the numbers in words ----------------------------------------------------------------------


def _decimal(value: float | Decimal) -> Decimal:
    """A number as its shortest decimal form (float() first: numpy's float64 is a float whose repr
    is ``np.float64(…)``, no decimal)."""
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def rounded(value: float | Decimal, places: int = 0, scale: int = 1) -> str:
    """``value × scale`` to ``places`` decimals, halves away from zero as people round (15 minutes
    is ``0.3 h``, an eighth ``13%``), not to even as ``round`` and format strings do. A float is
    read from its shortest decimal form, so ``0.145`` is a half and not the binary ``0.14499…``.
    No trailing ``.0``."""
    exact = _decimal(value) * scale
    if not exact.is_finite():
        return str(float(exact)).lower()  # "inf", "-inf", "nan" as format strings say them
    # Enough digits for any float (the default 28 cannot quantize 1e30 hours).
    with localcontext(prec=max(28, exact.adjusted() + places + 2)):
        text = str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
    text = text.removesuffix(".0") if places == 1 else text
    return text.removeprefix("-") if set(text) <= set("-0.") else text


def percent(share: float) -> str:
    """A share (0 to 1) in whole percent: ``13%`` for an eighth."""
    return rounded(share, scale=100) + "%"


def format_hours(hours: float | Decimal) -> str:
    """``0.5 h``, ``9 h``, ``47 h``, then days: ``2.5 d``."""
    if hours < 10:
        return rounded(hours, 1) + " h"
    if hours < 48:
        return rounded(hours) + " h"
    return rounded(hours / 24, 1) + " d"


def format_days(days: float) -> str:
    """An age in days as the item lines count it (``rendering.elapsed``): ``61 d`` for 61.8 days
    (an item line's "61 days ago"), ``16 h`` below a day."""
    count, unit = elapsed(timedelta(days=float(days)))
    return f"{count} {unit[0]}"


def _signed(delta: float, text: str) -> str:
    return f"{'+' if delta > 0 else MINUS}{text}"


def change(now: float | None, before: float | None, unit: str) -> str:
    """The week-on-week change in words: ``−3 h``, ``+10 points``, ``+2``, ``same``, or ``n/a``.

    ``unit``: ``hours`` (formatted like ``format_hours``), ``share`` (percentage points) or ``count``.
    """
    if now is None or before is None:
        return "n/a"
    if unit == "share":
        points = int(rounded(_decimal(now) - _decimal(before), scale=100))
        unit_name = "point" if abs(points) == 1 else "points"
        return "same" if points == 0 else _signed(points, f"{abs(points)} {unit_name}")
    if unit == "hours":
        # In decimals, as the values read: 1.15 h after 1 h is 0.15 h more, which rounds to 0.2
        # (the binary difference is 0.1499…).
        exact = _decimal(now) - _decimal(before)
        text = format_hours(abs(exact))
        return "same" if text in ("0 h", "0.0 h") else _signed(exact, text)
    delta = now - before
    return "same" if delta == 0 else _signed(delta, f"{abs(delta):g}")


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "none"
    if unit == "share":
        return percent(value)
    if unit == "hours":
        return format_hours(value)
    return f"{value:g}"


def _line(name: str, now: float | None, before: float | None, unit: str) -> str:
    return f"{name}: {_value(now, unit)} ({change(now, before, unit)} vs last week)"


def health_lines(now: HealthNumbers, before: HealthNumbers) -> list[str]:
    """The section's lines: each number at T, with its change from the same number a week earlier."""
    backlog = _line("Open backlog (unanswered or waiting on us)", now.backlog, before.backlog, "count")
    if now.backlog_median_age_days is not None and now.backlog_max_age_days is not None:
        backlog += (
            f"; median age {format_days(now.backlog_median_age_days)},"
            f" oldest {format_days(now.backlog_max_age_days)}"
        )
    new_posts = _line("New posts", now.posts, before.posts, "count")
    if now.posts:
        # How many posts the response times below are of: a median of the few that got an answer
        # would read as an improvement in a week when most got none.
        new_posts += f"; {now.responded} of them got a response"
    return [
        new_posts,
        _line("Median first response", now.median_first_response_h, before.median_first_response_h, "hours"),
        _line("p90 first response", now.p90_first_response_h, before.p90_first_response_h, "hours"),
        _line(
            "Median first staff response",
            now.median_first_staff_response_h,
            before.median_first_staff_response_h,
            "hours",
        ),
        _line(
            "p90 first staff response",
            now.p90_first_staff_response_h,
            before.p90_first_staff_response_h,
            "hours",
        ),
        _line("Answered within 2 days", now.answered_within_2d, before.answered_within_2d, "share"),
        _line("First responses by the community", now.community_share, before.community_share, "share"),
        backlog,
        _line("Escalated in Help Wanted", now.escalated, before.escalated, "count"),
    ]


def _times(name: str, now: GroupNumbers, before: GroupNumbers, median: str, p90: str) -> str:
    """``first response median 3 h (−27 h), p90 3.8 h (−26 h)``; ``… none`` when neither week had one."""
    values = [getattr(g, field) for field in (median, p90) for g in (now, before)]
    if all(v is None for v in values):
        return f"{name} none"
    now_median, before_median, now_p90, before_p90 = values
    return (
        f"{name} median {_value(now_median, 'hours')} ({change(now_median, before_median, 'hours')}),"
        f" p90 {_value(now_p90, 'hours')} ({change(now_p90, before_p90, 'hours')})"
    )


def _group_line(now: GroupNumbers, before: GroupNumbers) -> str:
    posts = "post" if now.posts == 1 else "posts"
    first = _times("first response", now, before, "median_first_response_h", "p90_first_response_h")
    staff = _times(
        "first staff response", now, before, "median_first_staff_response_h", "p90_first_staff_response_h"
    )
    return (
        f"{channel_label(now.channel)} · {TYPE_HEADINGS.get(now.post_type, now.post_type)}:"
        f" {now.posts} new {posts} ({change(now.posts, before.posts, 'count')}),"
        f" {now.responded} with a response; {first}; {staff}"
    )


def _no_posts(channel: str, post_type: str) -> GroupNumbers:
    return GroupNumbers(
        channel=channel,
        post_type=post_type,
        posts=0,
        responded=0,
        median_first_response_h=None,
        p90_first_response_h=None,
        median_first_staff_response_h=None,
        p90_first_staff_response_h=None,
    )


def group_lines(now: HealthNumbers, before: HealthNumbers, channels: Sequence[str]) -> list[str]:
    """The week's response times per channel and post type (SPEC §10), each against the same group a
    week earlier; a group with posts in either week has a line, in the order of ``channels`` and of
    the ``[Triage]`` type headings."""
    current = {(g.channel, g.post_type): g for g in now.groups}
    earlier = {(g.channel, g.post_type): g for g in before.groups}
    types = list(TYPE_HEADINGS)

    def order(key: tuple[str, str]) -> tuple[int, str, int, str]:
        channel, post_type = key
        where = channels.index(channel) if channel in channels else len(channels)
        kind = types.index(post_type) if post_type in types else len(types)
        return where, channel, kind, post_type

    return [
        _group_line(current.get(key) or _no_posts(*key), earlier.get(key) or _no_posts(*key))
        for key in sorted(current.keys() | earlier.keys(), key=order)
    ]


def channels_in_words(channels: Sequence[str]) -> str:
    labels = [channel_label(c) for c in channels]
    if len(labels) <= 1:
        return labels[0] if labels else "no channel"
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def render_health_section(now: HealthNumbers, before: HealthNumbers, channels: Sequence[str]) -> str:
    """The ``Community health`` section as Markdown: its heading, its overall numbers as one block,
    then, where the weeks had posts, each channel and type's response times as a block of its own
    (``BREAK`` between them), so that a review whose posts are short carries them on into its next
    post under the section's heading alone ("(continued)"), rather than cut them short or repeat the
    overall numbers in every post."""
    heading, _, numbers = render_template(
        "community_health.md.j2",
        {"as_of": now.as_of, "channels": channels_in_words(channels), "lines": health_lines(now, before)},
    ).partition(BREAK)
    text = join_blocks(heading) + BREAK + join_blocks(numbers)
    groups = group_lines(now, before, channels)
    if not groups:
        return text
    return (
        text
        + BREAK
        + join_blocks(render_template("community_health_groups.md.j2", {"groups": groups}), BREAK)
    )


def render_health_unavailable(error: BaseException) -> str:
    """The ``Community health`` section when its numbers could not be worked out: the review still
    goes out, and says so (the error's kind only: its words may quote data; the task log has them)."""
    return join_blocks(
        f"#### Community health{BREAK}Not available this week ({type(error).__name__}): "
        "the weekly review task's log says why."
    )


# ----- the chart ---------------------------------------------------------------------------------


def chart_weeks(as_of: datetime, weeks: int = CHART_WEEKS) -> list[datetime]:
    """The Mondays (00:00 UTC) of the ``weeks`` ISO weeks up to and including the week of T."""
    monday = (as_of - timedelta(days=as_of.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return [monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


def health_chart_png(weekly: pd.DataFrame, as_of: datetime, weeks: int = CHART_WEEKS) -> bytes:
    """A PNG line chart: median hours to first response per channel, by week created.

    ``weekly``: ``health.weekly_metrics(frame, as_of, by=("channel",))``. Weeks without a response
    leave a gap; the week of T is still in progress.
    """
    import pandas as pd
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mondays = pd.DatetimeIndex(chart_weeks(as_of, weeks))
    table = weekly.pivot_table(
        index="week", columns="channel", values="median_first_response_h", aggfunc="first", dropna=False
    ).reindex(mondays)
    figure = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for channel in table.columns:
        axes.plot(
            range(len(mondays)),
            table[channel].to_numpy(dtype=float),
            marker="o",
            label=channel_label(channel),
        )
    axes.set_xticks(range(len(mondays)), [m.strftime("%b %d") for m in mondays])
    axes.set_ylabel("hours")
    axes.set_ylim(bottom=0)
    axes.set_title(f"Median time to first response, by week created (to {as_of:%Y-%m-%d %H:%M} UTC)")
    if len(table.columns):
        axes.legend(loc="upper left")
    if not table.notna().to_numpy().any():  # no channel, or channels whose posts got no response
        axes.text(0.5, 0.5, "no responses in these weeks", ha="center", va="center", transform=axes.transAxes)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    stream = io.BytesIO()
    figure.savefig(stream, format="png", metadata={"Software": None})
    return stream.getvalue()
