"""What was read per upstream item, kept between runs so unchanged items are not read again (SPEC §9).

Jira remote links and GitLab notes have no batch endpoint: they are read one item at a time. An
item is read again only when its version (the upstream's own ``updated`` stamp, as the source
writes it) differs from the one stored with what was read last time; otherwise what was read is
served from here. A run as of an older T (a backfill) is served the same rows: the cached items
carry their own timestamps and the rules filter them as of T.

The rows live in the ledger's database (connection ``community_monitoring_db``), in the table
``upstream_item_cache``, created on first use. Each lookup marks the rows it asked for as used and
deletes the rows no run asked for in ``IDLE_DAYS`` (items that left every run's window, or a
payload form no source writes any more), so the table holds what runs still look at. The cache is
only an optimisation: when its database cannot be used, a warning is logged and every item is read
as if nothing were cached.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

TABLE_NAME = "upstream_item_cache"
# Keys per SELECT: well under SQLite's bound-parameter limit (999 before 3.32).
KEYS_PER_QUERY = 500
# Rows no lookup asked for in this many days are deleted. Longer than any gap between two runs that
# read the same items (the weekly ones read a week apart); deleting a row costs one read, never data.
IDLE_DAYS = 30


@dataclass(frozen=True)
class CachedItem:
    """What was read for one item, stored with the item's version at that moment."""

    item_key: str  # unique within its channel, e.g. the ticket's URL
    updated: str  # the item's version as the source writes it; a different one means "read again"
    payload: Any  # JSON-serialisable


@contextmanager
def kept_as_read(cache: ItemCache | None, channel: str) -> Iterator[list[CachedItem]]:
    """A list to add each item to once it is wholly read; stored in ``cache`` at the end, also when a
    later item's read fails: the task's retry, or the next run, then reads again only the items not
    read yet, not every item of the batch (SPEC §9)."""
    fresh: list[CachedItem] = []
    try:
        yield fresh
    finally:
        if cache is not None and fresh:
            cache.put_many(channel, fresh)  # never raises: a lost write only costs reads


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    # One format for every stamp, so that they compare as strings in any database.
    return moment.isoformat(timespec="seconds")


def _table(metadata: sa.MetaData) -> sa.Table:
    import sqlalchemy as sa

    return sa.Table(
        TABLE_NAME,
        metadata,
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("item_key", sa.String(512), primary_key=True),
        sa.Column("updated", sa.String(80), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("read_at", sa.String(40), nullable=False),
        # When a lookup last asked for the item (null in a table of an earlier version until the
        # first sweep, which starts their idle time then).
        sa.Column("used_at", sa.String(40)),
    )


class ItemCache:
    """Per-item reads keyed by (channel, item) and the item's version, on any SQLAlchemy engine.

    ``channel`` names what is cached and in which form (``"jira.remote_links.v1"``): a source that
    changes its payload's form changes the name, and the old rows are simply never matched.
    """

    def __init__(self, engine_factory: Callable[[], Engine] | None, *, refresh: bool = False) -> None:
        # The engine is made on first use: a channel that caches nothing opens no database.
        self._engine_factory = engine_factory
        # Serve nothing, store what is read: every item is read, and later runs are served it.
        self._refresh = refresh
        self._engine: Engine | None = None
        self._table: sa.Table | None = None
        self._broken = engine_factory is None
        self._swept = False  # idle rows are deleted once per cache

    @classmethod
    def from_engine(cls, engine: Engine) -> ItemCache:
        return cls(lambda: engine)

    @classmethod
    def from_url(cls, url: str, *, refresh: bool = False) -> ItemCache:
        import sqlalchemy as sa

        return cls(lambda: sa.create_engine(url), refresh=refresh)

    @classmethod
    def from_connection(cls, conn_id: str | None = None, *, refresh: bool = False) -> ItemCache:
        """The cache in the ledger's database (the same Airflow connection, any SQL type).

        ``refresh``: serve nothing and store every item read, for a read that must see each item as
        upstream has it now even if its version did not move (a Jira remote link added without the
        ticket's ``updated`` changing), while later runs are still served what it read."""

        def engine() -> Engine:
            from community_monitoring.ledger import LEDGER_CONN_ID, sql_engine

            return sql_engine(conn_id or LEDGER_CONN_ID)

        return cls(engine, refresh=refresh)

    @classmethod
    def in_memory(cls) -> ItemCache:
        """A private SQLite database in memory (one connection shared, so the rows persist)."""
        import sqlalchemy as sa
        from sqlalchemy.pool import StaticPool

        def engine() -> Engine:
            return sa.create_engine(
                "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
            )

        return cls(engine)

    @classmethod
    def disabled(cls) -> ItemCache:
        """Serves nothing and stores nothing: every item is read."""
        return cls(None)

    @property
    def enabled(self) -> bool:
        return not self._broken

    def _ready(self) -> tuple[Engine, sa.Table] | None:
        if self._broken:
            return None
        if self._engine is None or self._table is None:
            import sqlalchemy as sa

            assert self._engine_factory is not None
            engine = self._engine_factory()
            metadata = sa.MetaData()
            table = _table(metadata)
            # Several workers may create it at once (Postgres lets them race): the ledger's way.
            from community_monitoring.ledger import create_tables

            create_tables(metadata, engine)
            self._engine, self._table = engine, table
        return self._engine, self._table

    def _give_up(self, doing: str, exc: Exception) -> None:
        # Reading every item costs requests, never data: say so once and stop using the database.
        self._broken = True
        log.warning("Item cache unusable (%s: %s): every item will be read this run", doing, exc)

    def get_many(self, channel: str, versions: Mapping[str, str]) -> dict[str, Any]:
        """``item_key → payload`` for the items stored at exactly the version given for them."""
        if not versions or self._refresh:
            return {}
        try:
            ready = self._ready()
            if ready is None:
                return {}
            served = self._select(*ready, channel, versions)
        except Exception as exc:  # any database failure only means "not cached"
            self._give_up("reading", exc)
            return {}
        try:
            self._mark_used(*ready, channel, list(versions))
            if not self._swept:
                # Once per cache (a task's run), after its first marking: not at every page of it.
                self._swept = True
                self._forget_idle(*ready)
        except Exception as exc:  # upkeep only: what was served stays good
            log.warning("Item cache: could not mark %s rows as used or delete idle ones (%s)", channel, exc)
        return served

    @staticmethod
    def _select(engine: Engine, table: sa.Table, channel: str, versions: Mapping[str, str]) -> dict[str, Any]:
        keys = list(versions)
        served: dict[str, Any] = {}
        with engine.connect() as conn:
            for start in range(0, len(keys), KEYS_PER_QUERY):
                chunk = keys[start : start + KEYS_PER_QUERY]
                query = table.select().where(table.c.channel == channel, table.c.item_key.in_(chunk))
                for row in conn.execute(query):
                    if row.updated == versions[row.item_key]:
                        served[row.item_key] = json.loads(row.payload)
        return served

    @staticmethod
    def _mark_used(engine: Engine, table: sa.Table, channel: str, keys: list[str]) -> None:
        now = _stamp(_now())
        with engine.begin() as conn:
            for start in range(0, len(keys), KEYS_PER_QUERY):
                chunk = keys[start : start + KEYS_PER_QUERY]
                conn.execute(
                    table.update()
                    .where(table.c.channel == channel, table.c.item_key.in_(chunk))
                    .values(used_at=now)
                )

    @staticmethod
    def _forget_idle(engine: Engine, table: sa.Table) -> None:
        """Delete the rows, of every channel, no lookup asked for in IDLE_DAYS (a payload form that
        changed its name is never asked for again). Each statement in a transaction of its own: the
        rows a concurrent run marks are never held against this delete."""
        now = _now()
        with engine.begin() as conn:
            # Rows of a table written before ``used_at`` existed: their idle time starts now (their
            # ``read_at`` is their first read, however often they were served since).
            conn.execute(table.update().where(table.c.used_at.is_(None)).values(used_at=_stamp(now)))
        with engine.begin() as conn:
            idle_since = _stamp(now - timedelta(days=IDLE_DAYS))
            forgotten = conn.execute(table.delete().where(table.c.used_at < idle_since)).rowcount
        if forgotten:
            log.info("Item cache: %d row(s) no run asked for in %d days deleted", forgotten, IDLE_DAYS)

    def put_many(self, channel: str, items: Iterable[CachedItem]) -> None:
        """Store what was just read, replacing what was stored for those items."""
        now = _stamp(_now())
        rows = {
            item.item_key: {
                "channel": channel,
                "item_key": item.item_key,
                "updated": item.updated,
                "payload": json.dumps(item.payload, ensure_ascii=False, sort_keys=True),
                "read_at": now,
                "used_at": now,
            }
            for item in items
        }
        if not rows:
            return
        from sqlalchemy.exc import IntegrityError

        try:
            ready = self._ready()
            if ready is not None:
                self._replace(*ready, channel, list(rows.values()))
        except IntegrityError:
            # Another run stored the same items at the same moment: theirs are as good.
            log.info("Item cache: %d %s item(s) were stored by another run meanwhile", len(rows), channel)
        except Exception as exc:  # a lost write only means the items are read again next time
            self._give_up("writing", exc)

    @staticmethod
    def _replace(engine: Engine, table: sa.Table, channel: str, rows: list[dict[str, str]]) -> None:
        # Delete and insert in one transaction: portable across SQLite and Postgres. Two runs
        # storing the same item at once may collide: the second insert fails and stores nothing.
        with engine.begin() as conn:
            keys = [row["item_key"] for row in rows]
            for start in range(0, len(keys), KEYS_PER_QUERY):
                chunk = keys[start : start + KEYS_PER_QUERY]
                conn.execute(table.delete().where(table.c.channel == channel, table.c.item_key.in_(chunk)))
            conn.execute(table.insert(), rows)
