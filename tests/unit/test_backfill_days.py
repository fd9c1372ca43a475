"""A 30-day backfill shows each day's own [Help Wanted] numbers, from upstream timestamps alone.

Every day of a 30-day catch-up is evaluated as of its own T on the data as it is *today* (replies
and closures after that T included); it must say exactly what a live run on that day said, when
the later replies did not exist yet.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from builders import ROSTER, SETTINGS, T, post, reply
from community_monitoring.records import Post
from community_monitoring.rules import find_help_wanted_sections

START = T - timedelta(days=29)
DAYS = [START + timedelta(days=k) for k in range(30)]


def history() -> list[Post]:
    """Posts every 20 hours over 60 days; some answered, some closed, some bumped by a me-too."""
    posts = []
    for n in range(72):
        created = T - timedelta(days=60) + timedelta(hours=20 * n)
        replies = []
        if n % 3 == 0:  # answered five days after it was posted
            replies.append(
                reply("helper", at=created + timedelta(days=5), body="Set the proxy timeout to 120s.")
            )
        if n % 4 == 1:  # a me-too three days in: no answer
            replies.append(reply("bystander", at=created + timedelta(days=3), body="+1"))
        closed_at = created + timedelta(days=12) if n % 7 == 2 else None
        posts.append(
            post(
                number=n,
                created=created,
                title=f"Problem {n}",
                replies=tuple(replies),
                state="closed" if closed_at else "open",
                closed_at=closed_at,
            )
        )
    return posts


def as_it_stood(posts: list[Post], as_of: object) -> list[Post]:
    """The upstream as a live run saw it at T: nothing created, replied or closed after T."""
    seen = []
    for p in posts:
        if p.created_at > as_of:  # type: ignore[operator]
            continue
        closed_later = p.closed_at is not None and p.closed_at > as_of  # type: ignore[operator]
        seen.append(
            replace(
                p,
                replies=tuple(r for r in p.replies if r.created_at <= as_of),  # type: ignore[operator]
                state="open" if closed_later else p.state,
                closed_at=None if closed_later else p.closed_at,
            )
        )
    return seen


def numbers(posts: list[Post], as_of: object) -> dict[str, tuple[int, str, str, bool]]:
    sections = find_help_wanted_sections(posts, ROSTER, SETTINGS, as_of)  # type: ignore[arg-type]
    return {e.post.url: (e.day, e.state, e.step, e.last_call) for e in sections.entries}


@pytest.mark.parametrize("as_of", DAYS, ids=[d.date().isoformat() for d in DAYS])
def test_each_backfilled_day_says_what_that_day_said(as_of: object) -> None:
    today = history()
    assert numbers(today, as_of) == numbers(as_it_stood(today, as_of), as_of)


def test_two_days_of_the_backfill_show_their_own_day_numbers() -> None:
    today = history()
    first, second = numbers(today, DAYS[10]), numbers(today, DAYS[11])
    both = set(first) & set(second)
    assert both, "some items wait on both days"
    for url in both:
        assert second[url][0] == first[url][0] + 1, url
    # Every day number is the whole days since the item qualified (two days after it was posted).
    by_url = {p.url: p for p in today}
    for url, (day, *_rest) in second.items():
        joined = by_url[url].created_at + timedelta(days=SETTINGS.digest.first_response_min_age_days)
        assert day == (DAYS[11] - joined) // timedelta(days=1) + 1, url


def test_the_ladder_moves_with_the_days() -> None:
    today = history()
    steps = {}
    for as_of in DAYS:
        for url, (day, _state, step, _last) in numbers(today, as_of).items():
            steps.setdefault(url, []).append((day, step))
    climbed = [s for s in steps.values() if len(s) >= 8]
    assert climbed
    for seen in climbed:
        for day, step in seen:
            want = "escalated" if day >= 7 else "mention_rotation" if day >= 3 else "listed"
            assert step == want, seen


def test_a_30_day_backfill_rebuilds_the_metrics_the_daily_runs_recorded(tmp_path: Path) -> None:
    """Daily runs on the upstream as it stood, against a backfill of the same 30 days on today's
    data: the same state table snapshots, so the same Community health numbers (SPEC §10)."""
    import sqlalchemy as sa

    from community_monitoring import health, state_table
    from community_monitoring.classify import PostClassifier

    classifier = PostClassifier.from_settings(SETTINGS)
    today = history()
    daily = sa.create_engine(f"sqlite:///{tmp_path}/daily.db")
    backfill = sa.create_engine(f"sqlite:///{tmp_path}/backfill.db")
    for as_of in DAYS:
        seen = as_it_stood(today, as_of)
        state_table.upsert_snapshot(
            daily, health.state_rows(seen, ROSTER, SETTINGS, as_of, classifier), as_of
        )
        state_table.upsert_snapshot(
            backfill, health.state_rows(today, ROSTER, SETTINGS, as_of, classifier), as_of
        )
    for as_of in (DAYS[0], DAYS[13], DAYS[-1]):
        recorded, rebuilt = state_table.snapshot(daily, as_of), state_table.snapshot(backfill, as_of)
        assert recorded
        assert rebuilt == recorded
        assert health.health_numbers(rebuilt, as_of) == health.health_numbers(recorded, as_of)
    weeks = [health.weekly_metrics(state_table.newest_frame(e, DAYS[0], T), T) for e in (daily, backfill)]
    assert weeks[0].equals(weeks[1])
    assert len(weeks[0]) > 0
