"""The post state table (SPEC §10): one snapshot of every tracked post per T, in the ledger's database.

Table ``community_post_states`` in the database of the connection ``community_monitoring_db`` (SQLite
by default, Postgres in production), created on first write; a table written by an earlier version
gets the columns it lacks added in place. Primary key (channel, source_id, as_of): each daily run
writes its T's snapshot (``health.state_rows``), and writing T again (a retry, a rerun, a backfill)
replaces that T's rows of the channels it read, so a snapshot is always exactly one run's rows.
Times are stored as UTC (naive ``TIMESTAMP`` columns) and read back as aware UTC datetimes.

Read it with ``snapshot`` (the posts as they stood at one T: the live queue; ``carried`` says which
of them that run could not read, shown from the row of the run that last did) and ``newest_frame`` (each
post's newest row over a period, chosen by the database: the metrics' input). ``prune_snapshots``
deletes the snapshots older than the retention (``health.state_retention_days``) the daily run keeps.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from community_monitoring.health import (
    STATE_COLUMNS,
    TIME_COLUMNS,
    StateRow,
    columns_frame,
    rows_frame,
    stored_times,
)
from community_monitoring.ledger import LEDGER_CONN_ID, create_tables, sql_engine

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

TABLE_NAME = "community_post_states"
PRIMARY_KEY = ("channel", "source_id", "as_of")


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC, read back as aware UTC, on every database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive time cannot be stored as UTC: {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


METADATA = sa.MetaData()
TABLE = sa.Table(
    TABLE_NAME,
    METADATA,
    sa.Column("channel", sa.String(32), primary_key=True),
    # Text: a GitLab id is its project's full path (nested groups, each name up to 255 characters).
    sa.Column("source_id", sa.Text, primary_key=True),
    sa.Column("as_of", UtcDateTime(), primary_key=True),
    # Text, not VARCHAR(n): Postgres refuses a longer value ("value too long for type character
    # varying"), and one long forum URL or display name failed the whole day's snapshot.
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("post_type", sa.String(32), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("first_response_at", UtcDateTime()),
    sa.Column("first_staff_response_at", UtcDateTime()),
    sa.Column("answer_state", sa.String(32), nullable=False),
    sa.Column("owner", sa.Text, nullable=False, default=""),
    sa.Column("escalation", sa.String(32), nullable=False, default=""),
    sa.Column("day_on_list", sa.Integer, nullable=False, default=0),
    # Null for a row the run at ``as_of`` read. A post that run named as unreadable keeps its row of
    # the snapshot before, carried into this one: then the T of the run that last read it.
    sa.Column("last_read", UtcDateTime()),
    sa.Index("ix_community_post_states_as_of", "as_of"),
)


# The columns in ``StateRow``'s field order (``last_read`` is the table's own: not a post's state).
ROW_COLUMNS = tuple(TABLE.c[name] for name in STATE_COLUMNS)


def open_engine(conn_id: str = LEDGER_CONN_ID) -> Engine:
    """The engine of the ledger's database (the Airflow connection ``community_monitoring_db``)."""
    return sql_engine(conn_id)


def ensure_table(engine: Engine) -> None:
    """Create the table if it is missing and add the columns an older version's table lacks; safe
    when several workers do it at once (``ledger.create_tables``)."""
    create_tables(METADATA, engine)
    _widen_to_text(engine)


# The columns an earlier version declared VARCHAR(1024) or VARCHAR(256), text from upstream.
TEXT_COLUMNS = ("source_id", "url", "author", "owner")
# How long the widening waits for the table's exclusive lock (milliseconds). Behind a long read (a
# report, the Community page) it would otherwise wait as long, and every new read of the table
# would queue behind it; given up, it is tried again on the next run.
WIDEN_LOCK_TIMEOUT_MS = 5000


def _widen_to_text(engine: Engine) -> None:
    """On Postgres, the upstream text columns of a table an earlier version created as VARCHAR(n)
    made TEXT (no rewrite: the two are stored alike). SQLite never enforced the length."""
    if engine.dialect.name != "postgresql":
        return
    columns = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns(TABLE_NAME)}
    narrow = [n for n in TEXT_COLUMNS if getattr(columns.get(n), "length", None) is not None]
    if not narrow:
        return
    log.info("Widening %s of %s to text", ", ".join(narrow), TABLE_NAME)
    for name in narrow:
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f"SET LOCAL lock_timeout = {int(WIDEN_LOCK_TIMEOUT_MS)}"))
                conn.execute(sa.text(f"ALTER TABLE {TABLE_NAME} ALTER COLUMN {name} TYPE TEXT"))
        except sa.exc.DBAPIError as exc:
            # A view or rule reading the column (a team's report): Postgres refuses to change its
            # type; or a long transaction holds the table past the lock timeout. The column stays
            # as it was, which holds every value that fits, as it always did; failing here failed
            # every day's snapshot, whatever its values.
            log.warning(
                "%s.%s stays %s, not widened to text (%s): a longer value still fails the snapshot",
                TABLE_NAME,
                name,
                columns[name],
                str(exc.orig).strip().splitlines()[0] if exc.orig is not None else exc,
            )


def _upsert_statement(engine: Engine) -> Any:
    """An insert that overwrites a row with the same key (SQLite, Postgres); a plain insert elsewhere."""
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        return TABLE.insert()
    insert = importlib.import_module(f"sqlalchemy.dialects.{name}").insert(TABLE)
    values = {c.name: insert.excluded[c.name] for c in TABLE.columns if c.name not in PRIMARY_KEY}
    return insert.on_conflict_do_update(index_elements=list(PRIMARY_KEY), set_=values)


ROWS_PER_BATCH = 5000


def _storable(value: Any) -> Any:
    """A value as every database stores it: text without U+0000, which Postgres text cannot hold
    (one title or name from upstream carrying it failed the whole snapshot, every channel's rows)."""
    return value.replace("\x00", "") if isinstance(value, str) and "\x00" in value else value


def upsert_snapshot(
    engine: Engine,
    rows: Sequence[StateRow],
    as_of: datetime,
    channels: Iterable[str] | None = None,
    unread: Iterable[tuple[str, str]] = (),
) -> int:
    """Make the snapshot at ``as_of`` of each of ``channels`` (default: the rows' channels) exactly
    ``rows``, in one transaction; returns how many rows were written.

    A channel named with no rows has its snapshot at ``as_of`` emptied; a channel not named (one
    the run could not read) keeps what an earlier write at ``as_of`` left.

    ``unread``: the posts (channel, source id) the run named as unreadable. Each that had a row in
    its channel's snapshot before ``as_of`` keeps that row, carried into this one with ``last_read``
    (``carried``): left out, it would leave the page's queue without a word, and the backlog would
    fall as though it were answered.
    """
    wrong = [r for r in rows if r.as_of != as_of]
    if wrong:
        raise ValueError(f"{len(wrong)} row(s) are not as of {as_of.isoformat()}: {wrong[0].url}")
    replaced = sorted(set(channels) if channels is not None else {r.channel for r in rows})
    stray = sorted({r.channel for r in rows} - set(replaced))
    if stray:
        raise ValueError(f"rows of channels not being replaced: {stray}")
    ensure_table(engine)
    with engine.begin() as conn:
        conn.execute(TABLE.delete().where(TABLE.c.as_of == as_of, TABLE.c.channel.in_(replaced)))
        statement = _upsert_statement(engine)
        # In batches: one executemany of 100,000 rows held every row's bound parameters at once.
        # Field by field: every value is a str, int or datetime, which dataclasses.asdict would
        # deep-copy.
        for start in range(0, len(rows), ROWS_PER_BATCH):
            batch = rows[start : start + ROWS_PER_BATCH]
            conn.execute(
                statement, [{name: _storable(getattr(r, name)) for name in STATE_COLUMNS} for r in batch]
            )
        read = {(r.channel, r.source_id) for r in rows}
        wanted = sorted({key for key in unread if key[0] in replaced and key not in read})
        kept = _rows_before(conn, wanted, as_of)
        if kept:
            conn.execute(statement, [{**row, "as_of": as_of} for row in kept])
    log.info("Post states as of %s: %d row(s) for %s", as_of.isoformat(), len(rows), ", ".join(replaced))
    if kept:
        log.warning(
            "Post states as of %s: %d post(s) could not be read and keep their row of an earlier run: %s",
            as_of.isoformat(),
            len(kept),
            ", ".join(f"{row['channel']}/{row['source_id']}" for row in kept[:20]),
        )
    return len(rows) + len(kept)


def _rows_before(conn: Any, keys: Sequence[tuple[str, str]], as_of: datetime) -> list[dict[str, Any]]:
    """The rows of ``keys`` (channel, source id) in their channel's newest snapshot before ``as_of``,
    as column → value, with ``last_read`` the T of the run that last read each (that snapshot's, or
    the one it was carried from)."""
    found: list[dict[str, Any]] = []
    by_channel: dict[str, list[str]] = {}
    for channel, source_id in keys:
        by_channel.setdefault(channel, []).append(source_id)
    for channel, source_ids in sorted(by_channel.items()):
        before = (
            sa.select(sa.func.max(TABLE.c.as_of))
            .where(TABLE.c.channel == channel, TABLE.c.as_of < as_of)
            .scalar_subquery()
        )
        for start in range(0, len(source_ids), ROWS_PER_BATCH):
            query = sa.select(*TABLE.columns).where(
                TABLE.c.channel == channel,
                TABLE.c.as_of == before,
                TABLE.c.source_id.in_(source_ids[start : start + ROWS_PER_BATCH]),
            )
            for row in conn.execute(query).mappings():
                values = dict(row)
                values["last_read"] = values["last_read"] or values["as_of"]
                found.append(values)
    return found


def prune_snapshots(engine: Engine, as_of: datetime, retention_days: int, now: datetime | None = None) -> int:
    """Delete the snapshots as of a T more than ``retention_days`` before ``as_of`` (0: none); returns
    how many rows went. One snapshot per transaction, through the ``as_of`` index: a table that grew
    for years before a retention was set loses its backlog in steps, never in one huge statement.
    A missing table has none.

    Given ``now``, the retention counts back from the earlier of the two: a manual run whose
    ``as_of`` was mistyped a year ahead must not delete every snapshot the table holds."""
    if not retention_days or not _exists(engine):
        return 0
    if now is not None and as_of > now:
        log.warning("T %s is later than now: snapshots are kept by their age today", as_of.isoformat())
        as_of = now
    before = as_of - timedelta(days=retention_days)
    old = [at for at in recorded_as_of(engine) if at < before]
    deleted = 0
    for at in old:
        with engine.begin() as conn:
            deleted += conn.execute(TABLE.delete().where(TABLE.c.as_of == at)).rowcount or 0
    log.info(
        "Post states: %d snapshot(s), %d row(s), before %s deleted (retention %d days)",
        len(old),
        deleted,
        before.isoformat(),
        retention_days,
    )
    return deleted


def _exists(engine: Engine) -> bool:
    return sa.inspect(engine).has_table(TABLE_NAME)


def _filtered(query: Any, channel: str | None, post_type: str | None) -> Any:
    if channel:
        query = query.where(TABLE.c.channel == channel)
    if post_type:
        query = query.where(TABLE.c.post_type == post_type)
    return query


def _rows(engine: Engine, query: Any) -> list[StateRow]:
    """``query``'s rows (``ROW_COLUMNS``) as ``StateRow``: by position (reading each row as a mapping
    by name took most of a 100,000-row read)."""
    with engine.connect() as conn:
        return [StateRow(*row) for row in conn.execute(query)]


def recorded_as_of(engine: Engine, until: datetime | None = None) -> list[datetime]:
    """Every T with a snapshot (at or before ``until`` if given), newest first."""
    if not _exists(engine):
        return []
    query = sa.select(TABLE.c.as_of).distinct().order_by(TABLE.c.as_of.desc())
    if until is not None:
        query = query.where(TABLE.c.as_of <= until)
    with engine.connect() as conn:
        return [value for (value,) in conn.execute(query)]


def latest_as_of(engine: Engine, until: datetime | None = None) -> datetime | None:
    """The newest T with a snapshot, at or before ``until`` if given; None when there is none."""
    if not _exists(engine):
        return None
    query = sa.select(sa.func.max(TABLE.c.as_of))
    if until is not None:
        query = query.where(TABLE.c.as_of <= until)
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    return UtcDateTime().process_result_value(value, engine.dialect)


def snapshot(
    engine: Engine, as_of: datetime | None = None, channel: str | None = None, post_type: str | None = None
) -> list[StateRow]:
    """The rows of the latest snapshot at or before ``as_of`` (default: the latest of all), optionally
    of one channel and one post type; ordered by channel, then creation (oldest first). [] when none."""
    at = latest_as_of(engine, as_of)
    if at is None:
        return []
    query = sa.select(*ROW_COLUMNS).where(TABLE.c.as_of == at).order_by(TABLE.c.channel, TABLE.c.created_at)
    return _rows(engine, _filtered(query, channel, post_type))


def carried(engine: Engine, as_of: datetime) -> dict[tuple[str, str], datetime]:
    """The posts of the snapshot at ``as_of`` that its run could not read, (channel, source id) →
    the T of the run that last read them: their rows are that run's (``upsert_snapshot``'s ``unread``).
    A table the daily run has not given ``last_read`` yet (the page opened after a deploy, before
    the next run adds it in place) carried nothing: {} rather than a page that fails."""
    if not _exists(engine):
        return {}
    if "last_read" not in {c["name"] for c in sa.inspect(engine).get_columns(TABLE_NAME)}:
        return {}
    query = sa.select(TABLE.c.channel, TABLE.c.source_id, TABLE.c.last_read).where(
        TABLE.c.as_of == as_of, TABLE.c.last_read.is_not(None)
    )
    with engine.connect() as conn:
        return {(channel, source_id): at for channel, source_id, at in conn.execute(query)}


def channels_gone(engine: Engine, as_of: datetime) -> list[str]:
    """The channels with rows in the snapshot before ``as_of`` and none at ``as_of``: a run that
    could not read a channel writes none of its rows (its earlier snapshots keep theirs), so the
    page says so rather than show that channel's posts as gone."""
    before = sa.select(sa.func.max(TABLE.c.as_of)).where(TABLE.c.as_of < as_of).scalar_subquery()
    with engine.connect() as conn:
        had = set(
            conn.execute(sa.select(TABLE.c.channel).where(TABLE.c.as_of == before).distinct()).scalars()
        )
        has = set(conn.execute(sa.select(TABLE.c.channel).where(TABLE.c.as_of == as_of).distinct()).scalars())
    return sorted(had - has)


def _newest_query(
    columns: Sequence[Any],
    since: datetime,
    until: datetime,
    channel: str | None,
    post_type: str | None,
    created_from: datetime | None,
) -> Any:
    """``columns`` of each post's newest row among the snapshots in (``since``, ``until``]; the
    database picks it, by the table's primary key."""
    newest = sa.select(TABLE.c.channel, TABLE.c.source_id, sa.func.max(TABLE.c.as_of).label("newest")).where(
        TABLE.c.as_of > since, TABLE.c.as_of <= until
    )
    if created_from is not None:
        newest = newest.where(TABLE.c.created_at >= created_from)
    # The type is the newest row's: filtered after the newest row is chosen, so a post the rules
    # (or the model) decided anew counts under its type now, not also under an old one.
    newest = _filtered(newest, channel, None).group_by(TABLE.c.channel, TABLE.c.source_id).subquery()
    query = sa.select(*columns).join(
        newest,
        sa.and_(
            TABLE.c.channel == newest.c.channel,
            TABLE.c.source_id == newest.c.source_id,
            TABLE.c.as_of == newest.c.newest,
        ),
    )
    return _filtered(query, None, post_type).order_by(TABLE.c.channel, TABLE.c.source_id)


def newest_frame(
    engine: Engine,
    since: datetime,
    until: datetime,
    channel: str | None = None,
    post_type: str | None = None,
    created_from: datetime | None = None,
) -> pd.DataFrame:
    """Each post's newest row among the snapshots with ``since`` < as_of ≤ ``until`` (of ``channel``,
    ``post_type`` and created at or after ``created_from`` when given), ordered by channel and id,
    as ``health.rows_frame`` makes a table of rows: the metrics' input.

    The database picks the newest row: a post is tracked for weeks, so reading every snapshot's
    rows to keep one per post moved dozens of rows per post (millions at 100,000 posts a day) into
    Python for each page and chart. The columns are read as the database stores them and pandas
    parses the times of each at once: a ``StateRow`` and a datetime of every value took seconds.
    """
    if not _exists(engine):
        return rows_frame([])
    columns = [
        sa.type_coerce(TABLE.c[name], sa.String()) if name in TIME_COLUMNS else TABLE.c[name]
        for name in STATE_COLUMNS
    ]
    with engine.connect() as conn:
        rows = conn.execute(_newest_query(columns, since, until, channel, post_type, created_from)).all()
    values = dict(zip(STATE_COLUMNS, zip(*rows, strict=True), strict=True)) if rows else {}
    return columns_frame(
        {
            name: stored_times(values.get(name, ()))
            if name in TIME_COLUMNS
            else pd.Series(values.get(name, ()), dtype=object)
            for name in STATE_COLUMNS
        }
    )
