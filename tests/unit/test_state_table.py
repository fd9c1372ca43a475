"""The post state table (SPEC §10): one snapshot per T, rebuilt identically, read back by T and period."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from builders import ROSTER, SETTINGS, T, ago, answer, database_url, post
from community_monitoring import health, state_table
from community_monitoring.classify import PostClassifier
from community_monitoring.health import StateRow
from community_monitoring.outbox import Outbox
from community_monitoring.policy import decide_write_policy

RULES = PostClassifier.from_settings(SETTINGS)
DAY = timedelta(days=1)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty ledger database: a SQLite file, or the Postgres test database (the table dropped)."""
    for url in database_url(request.param, tmp_path, state_table.TABLE_NAME):
        engine = sa.create_engine(url)
        yield engine
        engine.dispose()


def rows_at(as_of: datetime) -> list[StateRow]:
    """The same posts, as they stood at ``as_of``: a GitHub issue answered on day 2, a forum topic."""
    posts = [
        post(number=1, created=ago(days=5), replies=(answer("staffer", at=ago(days=3)),)),
        post(number=2, created=ago(days=12), labels=("Bug Report/Open",)),
        post(number=3, channel="forum", created=ago(days=4)),
    ]
    return health.state_rows(posts, ROSTER, SETTINGS, as_of, RULES)


def by_key(rows: list[StateRow]) -> dict[tuple[str, str], StateRow]:
    return {(r.channel, r.source_id): r for r in rows}


def test_nothing_recorded_reads_as_empty(engine: sa.Engine) -> None:
    assert state_table.snapshot(engine) == []
    assert state_table.newest_frame(engine, ago(days=30), T).empty
    assert state_table.latest_as_of(engine) is None
    assert state_table.recorded_as_of(engine) == []


def test_a_snapshot_reads_back_as_written_with_aware_utc_times(engine: sa.Engine) -> None:
    rows = rows_at(T)
    assert state_table.upsert_snapshot(engine, rows, T) == 3
    back = state_table.snapshot(engine)
    assert by_key(back) == by_key(rows)
    assert all(r.as_of.tzinfo is UTC and r.created_at.tzinfo is UTC for r in back)
    assert {r.escalation for r in back} == {"", "mention_rotation", "escalated"}


def test_a_nul_character_in_upstream_text_does_not_cost_the_snapshot(engine: sa.Engine) -> None:
    # Postgres text cannot hold U+0000 ("A string literal cannot contain NUL"): one title or name
    # carrying it failed the whole day's snapshot, every channel's rows with it.
    posts = [
        post(number=1, created=ago(days=5), title="Crash\x00 on start", author="bo\x00b"),
        post(number=2, created=ago(days=4)),
    ]
    rows = health.state_rows(posts, ROSTER, SETTINGS, T, RULES)
    assert state_table.upsert_snapshot(engine, rows, T) == 2
    back = by_key(state_table.snapshot(engine))
    assert (back["github", "o/r#1"].title, back["github", "o/r#1"].author) == ("Crash on start", "bob")
    assert back["github", "o/r#2"].title == "Something is wrong"


def test_a_very_long_url_or_author_does_not_cost_the_snapshot(engine: sa.Engine) -> None:
    # Postgres refuses a value longer than its VARCHAR ("value too long for type character
    # varying(1024)"): one forum topic's long URL or one long display name failed the whole day's
    # snapshot, every channel's rows with it. Kept whole where the column is text, cut where not.
    long_url = "https://forum.example.com/t/" + "a-very-long-slug-" * 100 + "/123"
    long_name = "Jürgen " * 60
    posts = [
        post(number=1, created=ago(days=5), url=long_url, author=long_name),
        post(number=2, created=ago(days=4)),
    ]
    rows = health.state_rows(posts, ROSTER, SETTINGS, T, RULES)
    assert state_table.upsert_snapshot(engine, rows, T) == 2
    back = by_key(state_table.snapshot(engine))
    assert back["github", "o/r#1"].url == long_url
    assert back["github", "o/r#1"].author == long_name
    assert back["github", "o/r#2"].title == "Something is wrong"


def long_project_row(as_of: datetime) -> StateRow:
    """A GitLab issue of a project nested deep in groups: its id, the full path, is over 256 characters."""
    path = "/".join(f"group-{n}-" + "x" * 40 for n in range(8)) + "/project"
    return replace(rows_at(T)[0], channel="gitlab", source_id=f"{path}#7", as_of=as_of)


def test_a_very_long_source_id_does_not_cost_the_snapshot(engine: sa.Engine) -> None:
    long_row = long_project_row(T)
    assert len(long_row.source_id) > 256
    assert state_table.upsert_snapshot(engine, [long_row, *rows_at(T)[1:]], T) == len(rows_at(T))
    assert by_key(state_table.snapshot(engine, T))["gitlab", long_row.source_id] == long_row


def create_earlier_versions_table(engine: sa.Engine) -> None:
    """The state table as an earlier version created it: url VARCHAR(1024), source_id, author and
    owner VARCHAR(256) (as deployed before they became text)."""
    columns = [
        sa.Column(c.name, sa.String(1024 if c.name == "url" else 256), primary_key=c.primary_key)
        if c.name in ("source_id", "url", "author", "owner")
        else sa.Column(c.name, c.type, primary_key=c.primary_key)
        for c in state_table.TABLE.columns
    ]
    sa.Table(state_table.TABLE_NAME, sa.MetaData(), *columns).create(engine)


def test_a_table_of_an_earlier_version_takes_a_long_url_and_author(engine: sa.Engine) -> None:
    """A table created with url VARCHAR(1024), source_id and author VARCHAR(256) (as deployed) is widened."""
    create_earlier_versions_table(engine)
    state_table.upsert_snapshot(engine, rows_at(T), T)
    long_url = "https://forum.example.com/t/" + "%E6%97%A5" * 200 + "/123"
    posts = [post(number=1, created=ago(days=5), url=long_url, author="N" * 300)]
    rows = health.state_rows(posts, ROSTER, SETTINGS, T + DAY, RULES)
    assert state_table.upsert_snapshot(engine, rows, T + DAY) == 1
    [back] = state_table.snapshot(engine, T + DAY)
    assert (back.url, back.author) == (long_url, "N" * 300)
    assert by_key(state_table.snapshot(engine, T)) == by_key(rows_at(T))
    long_row = long_project_row(T + 2 * DAY)
    assert state_table.upsert_snapshot(engine, [long_row], T + 2 * DAY) == 1
    assert state_table.snapshot(engine, T + 2 * DAY) == [long_row]


def test_a_narrow_column_a_view_depends_on_does_not_cost_the_snapshot(engine: sa.Engine) -> None:
    """Postgres refuses to change the type of a column a view reads ("cannot alter type of a column
    used by a view or rule"): the widening is skipped for it, named in the log, and every row that
    fits is written, as before the widening (a team's reporting view failed every day's snapshot)."""
    create_earlier_versions_table(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE VIEW post_urls AS SELECT url FROM {state_table.TABLE_NAME}"))
    try:
        assert state_table.upsert_snapshot(engine, rows_at(T), T) == 3
        assert by_key(state_table.snapshot(engine, T)) == by_key(rows_at(T))
        # The columns no view reads are widened all the same.
        posts = [post(number=1, created=ago(days=5), author="N" * 300)]
        rows = health.state_rows(posts, ROSTER, SETTINGS, T + DAY, RULES)
        assert state_table.upsert_snapshot(engine, rows, T + DAY) == 1
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP VIEW post_urls"))


def test_the_widening_gives_up_behind_a_long_read_instead_of_queueing_every_reader(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ALTER COLUMN TYPE waits for the table's exclusive lock: behind a long read (a report, the
    Community page) it waited as long, and every new read of the table queued behind it. It gives
    up after ``WIDEN_LOCK_TIMEOUT_MS`` and is tried again on the next run."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no column types to widen")
    import threading

    monkeypatch.setattr(state_table, "WIDEN_LOCK_TIMEOUT_MS", 200)
    create_earlier_versions_table(engine)
    reader = engine.connect()
    reader.begin()
    reader.execute(sa.text(f"SELECT count(*) FROM {state_table.TABLE_NAME}"))  # holds its lock
    done = threading.Event()
    worker = threading.Thread(target=lambda: (state_table.ensure_table(engine), done.set()), daemon=True)
    try:
        worker.start()
        assert done.wait(timeout=10), "the widening waited behind the open read"
    finally:
        reader.rollback()
        reader.close()
        worker.join(timeout=30)
    kept = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns(state_table.TABLE_NAME)}
    assert getattr(kept["url"], "length", None) == 1024  # given up, left as it was
    state_table.ensure_table(engine)  # the next run, nothing in the way
    widened = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns(state_table.TABLE_NAME)}
    assert getattr(widened["url"], "length", None) is None


def test_writing_t_again_rebuilds_the_same_snapshot(engine: sa.Engine) -> None:
    """A retry, a rerun or a backfill at T: the same rows, never a second copy."""
    state_table.upsert_snapshot(engine, rows_at(T), T)
    state_table.upsert_snapshot(engine, rows_at(T), T)
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(state_table.TABLE)).scalar()
    assert count == 3
    assert by_key(state_table.snapshot(engine, T)) == by_key(rows_at(T))


@pytest.mark.parametrize(
    ("asked", "recorded"),
    [
        pytest.param(None, T, id="latest"),
        pytest.param(T, T, id="exactly T"),
        pytest.param(T - timedelta(hours=1), T - DAY, id="between two: the one before"),
        pytest.param(T - DAY, T - DAY, id="the day before"),
        pytest.param(T - 3 * DAY, None, id="before any"),
    ],
)
def test_snapshot_at_or_before_a_moment(
    engine: sa.Engine, asked: datetime | None, recorded: datetime | None
) -> None:
    for as_of in (T - DAY, T):
        state_table.upsert_snapshot(engine, rows_at(as_of), as_of)
    rows = state_table.snapshot(engine, asked)
    assert {r.as_of for r in rows} == ({recorded} if recorded else set())
    assert state_table.latest_as_of(engine, asked) == recorded


@pytest.mark.parametrize(
    ("channel", "post_type", "urls"),
    [
        pytest.param("forum", None, ["https://example.test/forum/3"], id="one channel"),
        pytest.param(
            "github",
            None,
            ["https://example.test/github/2", "https://example.test/github/1"],
            id="oldest first",
        ),
        pytest.param(None, "troubleshooting", ["https://example.test/forum/3"], id="one type"),
        pytest.param("github", "troubleshooting", [], id="both"),
    ],
)
def test_snapshot_filters(
    engine: sa.Engine, channel: str | None, post_type: str | None, urls: list[str]
) -> None:
    state_table.upsert_snapshot(engine, rows_at(T), T)
    assert [r.url for r in state_table.snapshot(engine, channel=channel, post_type=post_type)] == urls


def written_days() -> dict[datetime, list[StateRow]]:
    """Four days of snapshots: posts leave the tracked set, come back, and one changes type."""
    days = {as_of: rows_at(as_of) for as_of in (T - 3 * DAY, T - 2 * DAY, T - DAY, T)}
    # The GitHub issue 2 was no longer tracked on the last day; the forum topic became a bug on day 3.
    days[T] = [r for r in days[T] if r.source_id != "o/r#2"]
    days[T - DAY] = [replace(r, post_type="bug") if r.channel == "forum" else r for r in days[T - DAY]]
    days[T] = [replace(r, post_type="bug") if r.channel == "forum" else r for r in days[T]]
    # Times to the microsecond, as upstream APIs give them, read back exactly.
    odd = timedelta(microseconds=123457)
    for as_of, rows in days.items():
        days[as_of] = [
            replace(
                r,
                created_at=r.created_at + odd,
                first_response_at=r.first_response_at and r.first_response_at + odd,
            )
            for r in rows
        ]
    return days


def newest_by_reading_everything(
    days: dict[datetime, list[StateRow]],
    since: datetime,
    until: datetime,
    channel: str | None,
    post_type: str | None,
    created_from: datetime | None,
) -> list[StateRow]:
    """What newest_frame must say, worked out from every row written."""
    newest: dict[tuple[str, str], StateRow] = {}
    for as_of, rows in days.items():
        for r in rows:
            if not since < as_of <= until or (channel and r.channel != channel):
                continue
            if created_from and r.created_at < created_from:
                continue
            if (r.channel, r.source_id) not in newest or as_of > newest[(r.channel, r.source_id)].as_of:
                newest[(r.channel, r.source_id)] = r
    # A post's type is its newest row's.
    kept = [r for r in newest.values() if not post_type or r.post_type == post_type]
    return sorted(kept, key=lambda r: (r.channel, r.source_id))


@pytest.mark.parametrize(
    ("since", "until", "channel", "post_type", "created_from", "expected"),
    [
        pytest.param(T - 4 * DAY, T, None, None, None, {"o/r#1": T, "o/r#2": T - DAY, "o/r#3": T}, id="all"),
        pytest.param(
            T - 3 * DAY,
            T - DAY,
            None,
            None,
            None,
            {"o/r#1": T - DAY, "o/r#2": T - DAY, "o/r#3": T - DAY},
            id="since excluded, until included",
        ),
        pytest.param(T - 4 * DAY, T, "github", None, None, {"o/r#1": T, "o/r#2": T - DAY}, id="one channel"),
        pytest.param(
            T - 4 * DAY,
            T,
            None,
            "troubleshooting",
            None,
            {},
            id="not under a type it had before it changed",
        ),
        pytest.param(
            T - 4 * DAY, T, None, "bug", None, {"o/r#1": T, "o/r#2": T - DAY, "o/r#3": T}, id="its type now"
        ),
        pytest.param(T - 4 * DAY, T, None, None, ago(days=6), {"o/r#1": T, "o/r#3": T}, id="created since"),
        pytest.param(T, T + DAY, None, None, None, {}, id="no snapshot in the period"),
    ],
)
def test_newest_frame_keeps_each_posts_newest_row_in_the_period(
    engine: sa.Engine,
    since: datetime,
    until: datetime,
    channel: str | None,
    post_type: str | None,
    created_from: datetime | None,
    expected: dict[str, datetime],
) -> None:
    days = written_days()
    for as_of, rows in days.items():
        state_table.upsert_snapshot(engine, rows, as_of, channels=["github", "forum"])
    frame = state_table.newest_frame(engine, since, until, channel, post_type, created_from)
    assert dict(zip(frame["source_id"], frame["as_of"], strict=True)) == expected
    # Exactly the table rows_frame makes of the rows, read one by one: times, gaps and all.
    newest = newest_by_reading_everything(days, since, until, channel, post_type, created_from)
    pd.testing.assert_frame_equal(frame, health.rows_frame(newest))
    assert state_table.recorded_as_of(engine) == sorted(days, reverse=True)


def test_a_channel_not_read_keeps_its_rows_and_a_channel_read_empty_loses_them(engine: sa.Engine) -> None:
    state_table.upsert_snapshot(engine, rows_at(T), T)
    github = [r for r in rows_at(T) if r.channel == "github"]
    # The rerun read GitHub (one post fewer) and the forum with nothing tracked; GitLab not at all.
    state_table.upsert_snapshot(engine, github[:1], T, channels=["github", "forum"])
    assert [r.url for r in state_table.snapshot(engine)] == [github[0].url]
    # A run that could not read the forum leaves the forum's rows of T alone.
    state_table.upsert_snapshot(engine, rows_at(T), T)
    state_table.upsert_snapshot(engine, github, T, channels=["github"])
    assert {r.channel for r in state_table.snapshot(engine)} == {"github", "forum"}


def test_a_post_the_run_could_not_read_keeps_its_last_row_marked_until_read(engine: sa.Engine) -> None:
    """A post a run named as unreadable has no row of its own at that T: it kept the row of the run
    that last read it, marked with that run's T, instead of leaving the snapshot (and the page's
    queue) without a word. One with no earlier row, or of a channel the run did not read, gets none."""
    day1, day2 = T - 2 * DAY, T - DAY
    unread = ("github", "o/r#2")
    first = by_key(rows_at(day1))[unread]
    state_table.upsert_snapshot(engine, rows_at(day1), day1)

    def without_it(as_of: datetime) -> list[StateRow]:
        return [r for r in rows_at(as_of) if (r.channel, r.source_id) != unread]

    named = [unread, ("github", "o/r#9"), ("gitlab", "g/p#1")]
    written = state_table.upsert_snapshot(engine, without_it(day2), day2, ["github", "forum"], unread=named)
    assert written == 3
    at_day2 = by_key(state_table.snapshot(engine, day2))
    assert sorted(at_day2) == sorted(by_key(rows_at(day2)))
    assert at_day2[unread] == replace(first, as_of=day2)
    assert state_table.carried(engine, day2) == {unread: day1}
    # Not read the next day either: still the first day's row, last read on the first day.
    state_table.upsert_snapshot(engine, without_it(T), T, ["github", "forum"], unread=[unread])
    assert by_key(state_table.snapshot(engine, T))[unread] == replace(first, as_of=T)
    assert state_table.carried(engine, T) == {unread: day1}
    # Read again (T run again): its own row, no longer marked.
    state_table.upsert_snapshot(engine, rows_at(T), T)
    assert by_key(state_table.snapshot(engine, T)) == by_key(rows_at(T))
    assert state_table.carried(engine, T) == {}
    assert state_table.carried(engine, day2) == {unread: day1}


@pytest.mark.parametrize(
    ("rows", "channels", "error"),
    [
        pytest.param([replace(rows_at(T)[0], as_of=T - DAY)], None, "not as of", id="another T"),
        pytest.param(rows_at(T), ["github"], "not being replaced", id="a channel not named"),
    ],
)
def test_inconsistent_writes_are_refused(
    engine: sa.Engine, rows: list[StateRow], channels: list[str] | None, error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        state_table.upsert_snapshot(engine, rows, T, channels)
    assert state_table.snapshot(engine) == []


def test_an_older_table_gets_the_columns_it_lacks(engine: sa.Engine) -> None:
    older = ("channel", "source_id", "as_of", "url", "title", "author", "post_type", "created_at")
    older += ("first_response_at", "answer_state")
    columns = [c for c in state_table.TABLE.columns if c.name in older]
    table = sa.Table(
        state_table.TABLE_NAME,
        sa.MetaData(),
        *(sa.Column(c.name, c.type, primary_key=c.primary_key) for c in columns),
    )
    table.create(engine)
    state_table.upsert_snapshot(engine, rows_at(T), T)
    assert by_key(state_table.snapshot(engine)) == by_key(rows_at(T))
    assert {c["name"] for c in sa.inspect(engine).get_columns(state_table.TABLE_NAME)} == {
        *health.STATE_COLUMNS,
        "last_read",
    }


def test_the_page_reads_a_table_the_daily_run_has_not_given_last_read_yet(engine: sa.Engine) -> None:
    """The Community page opened between a deploy and the next daily run (which adds ``last_read``
    in place) reads a table without the column: nothing there was carried, and the page's queue
    shows, instead of failing on a column that is not there yet."""
    columns = [c for c in state_table.TABLE.columns if c.name != "last_read"]
    table = sa.Table(
        state_table.TABLE_NAME,
        sa.MetaData(),
        *(sa.Column(c.name, c.type, primary_key=c.primary_key) for c in columns),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{n: getattr(r, n) for n in health.STATE_COLUMNS} for r in rows_at(T)])
    assert by_key(state_table.snapshot(engine, T)) == by_key(rows_at(T))
    assert state_table.carried(engine, T) == {}


@pytest.mark.parametrize(
    ("retention_days", "kept"),
    [
        pytest.param(0, [T, T - 60 * DAY, T - 61 * DAY, T - 400 * DAY], id="0 keeps every snapshot"),
        pytest.param(60, [T, T - 60 * DAY], id="the T exactly 60 days back stays"),
        pytest.param(400, [T, T - 60 * DAY, T - 61 * DAY, T - 400 * DAY], id="nothing old enough"),
    ],
)
def test_snapshots_older_than_the_retention_are_deleted(
    engine: sa.Engine, retention_days: int, kept: list[datetime]
) -> None:
    recorded = [T, T - 60 * DAY, T - 61 * DAY, T - 400 * DAY]
    for at in recorded:  # the same three rows at each T
        state_table.upsert_snapshot(engine, [replace(r, as_of=at) for r in rows_at(T)], at)
    deleted = state_table.prune_snapshots(engine, T, retention_days)
    assert state_table.recorded_as_of(engine) == kept
    assert deleted == 3 * (len(recorded) - len(kept))
    # What stays is untouched.
    assert by_key(state_table.snapshot(engine, T)) == by_key(rows_at(T))


def test_a_t_later_than_now_prunes_by_the_snapshots_age_today(engine: sa.Engine) -> None:
    """A manual run whose as_of was mistyped ten years ahead keeps every snapshot younger than the
    retention counted from now."""
    recorded = [T, T - 60 * DAY, T - 500 * DAY]
    for at in recorded:
        state_table.upsert_snapshot(engine, [replace(r, as_of=at) for r in rows_at(T)], at)
    state_table.prune_snapshots(engine, T + 3650 * DAY, 400, now=T)
    assert state_table.recorded_as_of(engine) == [T, T - 60 * DAY]
    # A T in the past still counts back from itself.
    state_table.prune_snapshots(engine, T, 30, now=T + 3650 * DAY)
    assert state_table.recorded_as_of(engine) == [T]


def test_pruning_a_table_never_written_does_nothing(engine: sa.Engine) -> None:
    assert state_table.prune_snapshots(engine, T, 60) == 0
    assert not sa.inspect(engine).has_table(state_table.TABLE_NAME)


def test_the_minimum_state_retention_covers_the_community_pages_charts() -> None:
    """Whatever weekday and hour T is, the oldest week a chart reads is within the minimum retention."""
    from community_monitoring.health_rendering import chart_weeks
    from community_monitoring.settings import MIN_STATE_RETENTION_DAYS

    for hours in range(0, 7 * 24, 5):
        at = T + timedelta(hours=hours)
        assert at - chart_weeks(at)[0] <= timedelta(days=MIN_STATE_RETENTION_DAYS)


def test_open_engine_is_the_ledgers_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ledger.db"
    monkeypatch.setenv("AIRFLOW_CONN_COMMUNITY_MONITORING_DB", f'{{"conn_type": "sqlite", "host": "{path}"}}')
    state_table.upsert_snapshot(state_table.open_engine(), rows_at(T), T)
    assert len(state_table.snapshot(sa.create_engine(f"sqlite:///{path}"))) == 3


def test_archive_file_keeps_bytes_beside_the_messages_markdown(tmp_path: Path) -> None:
    outbox = Outbox(
        "community_weekly_stale_review",
        T,
        SETTINGS,
        decide_write_policy("backfill"),
        open_ledger=lambda: None,
        webhook=lambda conn_id, username: lambda text: None,
        archive_root=lambda: tmp_path,
    )
    markdown = Path(outbox.archive("weekly_review", ["[Weekly Review] x"]))
    chart = Path(outbox.archive_file("weekly_review", "community-health.png", b"\x89PNG..."))
    assert chart.parent == markdown.parent
    assert chart.name == "weekly_review.community-health.png"
    assert chart.read_bytes() == b"\x89PNG..."
    assert not list(tmp_path.rglob("*.partial"))
