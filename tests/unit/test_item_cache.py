"""The item cache: what was read per upstream item, served again only while the item is unchanged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from community_monitoring import item_cache
from community_monitoring.item_cache import IDLE_DAYS, KEYS_PER_QUERY, TABLE_NAME, CachedItem, ItemCache

LINKS = "jira.remote_links.v1"
NOTES = "gitlab.notes.v2"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def test_served_only_at_the_version_it_was_read_at(db_url: str) -> None:
    cache = ItemCache.from_url(db_url)
    cache.put_many(LINKS, [CachedItem("MM-1", "t1", ["https://a"]), CachedItem("MM-2", "t1", [])])
    assert cache.get_many(LINKS, {"MM-1": "t1", "MM-2": "t1"}) == {"MM-1": ["https://a"], "MM-2": []}
    # Changed since (another version), never read (no row): not served, so the caller reads them.
    assert cache.get_many(LINKS, {"MM-1": "t2", "MM-3": "t1"}) == {}


def test_a_new_read_replaces_the_old_one(db_url: str) -> None:
    cache = ItemCache.from_url(db_url)
    cache.put_many(LINKS, [CachedItem("MM-1", "t1", ["https://a"])])
    cache.put_many(LINKS, [CachedItem("MM-1", "t2", ["https://a", "https://b"])])
    assert cache.get_many(LINKS, {"MM-1": "t1"}) == {}
    assert cache.get_many(LINKS, {"MM-1": "t2"}) == {"MM-1": ["https://a", "https://b"]}
    with sa.create_engine(db_url).connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {TABLE_NAME}")).scalar() == 1


def test_channels_do_not_share_keys(db_url: str) -> None:
    cache = ItemCache.from_url(db_url)
    cache.put_many(LINKS, [CachedItem("k", "v", ["link"])])
    cache.put_many(NOTES, [CachedItem("k", "v", [{"id": 1}])])
    assert cache.get_many(LINKS, {"k": "v"}) == {"k": ["link"]}
    assert cache.get_many(NOTES, {"k": "v"}) == {"k": [{"id": 1}]}


def test_rows_survive_a_new_cache_on_the_same_file(db_url: str) -> None:
    ItemCache.from_url(db_url).put_many(NOTES, [CachedItem("acme/w#1", "v1", [{"id": 11, "body": "é"}])])
    assert ItemCache.from_url(db_url).get_many(NOTES, {"acme/w#1": "v1"}) == {
        "acme/w#1": [{"id": 11, "body": "é"}]
    }


def test_the_table_is_created_on_first_use_only(db_url: str) -> None:
    cache = ItemCache.from_url(db_url)
    engine = sa.create_engine(db_url)
    assert TABLE_NAME not in sa.inspect(engine).get_table_names()
    assert cache.get_many(LINKS, {"MM-1": "t1"}) == {}
    assert TABLE_NAME in sa.inspect(engine).get_table_names()
    columns = {c["name"] for c in sa.inspect(engine).get_columns(TABLE_NAME)}
    assert columns == {"channel", "item_key", "updated", "payload", "read_at", "used_at"}


def test_more_keys_than_one_query_takes(db_url: str) -> None:
    cache = ItemCache.from_url(db_url)
    count = KEYS_PER_QUERY * 2 + 7
    cache.put_many(LINKS, [CachedItem(f"MM-{n}", "t", [str(n)]) for n in range(count)])
    versions = {f"MM-{n}": "t" for n in range(count)}
    assert cache.get_many(LINKS, versions) == {f"MM-{n}": [str(n)] for n in range(count)}
    cache.put_many(LINKS, [CachedItem(f"MM-{n}", "u", []) for n in range(count)])
    assert cache.get_many(LINKS, versions) == {}


def test_in_memory_keeps_rows_and_disabled_keeps_none() -> None:
    memory = ItemCache.in_memory()
    memory.put_many(LINKS, [CachedItem("MM-1", "t", ["x"])])
    assert memory.get_many(LINKS, {"MM-1": "t"}) == {"MM-1": ["x"]}
    disabled = ItemCache.disabled()
    disabled.put_many(LINKS, [CachedItem("MM-1", "t", ["x"])])
    assert disabled.get_many(LINKS, {"MM-1": "t"}) == {}
    assert not disabled.enabled


def test_an_unusable_database_only_means_reading_everything(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ItemCache.from_url(f"sqlite:///{tmp_path / 'no-such-folder' / 'ledger.db'}")
    with caplog.at_level(logging.WARNING, logger="community_monitoring.item_cache"):
        assert cache.get_many(LINKS, {"MM-1": "t"}) == {}
        cache.put_many(LINKS, [CachedItem("MM-1", "t", ["x"])])  # no error either
    assert not cache.enabled
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1  # said once, then the database is left alone for the run
    assert "every item will be read" in warnings[0]


def test_from_connection_opens_the_ledgers_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ledger.db"
    monkeypatch.setenv("AIRFLOW_CONN_COMMUNITY_MONITORING_DB", f'{{"conn_type": "sqlite", "host": "{path}"}}')
    ItemCache.from_connection().put_many(LINKS, [CachedItem("MM-1", "t", ["x"])])
    assert ItemCache.from_url(f"sqlite:///{path}").get_many(LINKS, {"MM-1": "t"}) == {"MM-1": ["x"]}


def test_the_first_use_on_a_fresh_deployment_makes_the_databases_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a fresh deployment an extract may read the cache before any task made the ledger's folder.
    path = tmp_path / "not" / "made" / "yet" / "ledger.db"
    monkeypatch.setenv("AIRFLOW_CONN_COMMUNITY_MONITORING_DB", f'{{"conn_type": "sqlite", "host": "{path}"}}')
    cache = ItemCache.from_connection()
    assert cache.get_many(LINKS, {"MM-1": "t"}) == {}
    cache.put_many(LINKS, [CachedItem("MM-1", "t", ["x"])])
    assert cache.enabled
    assert ItemCache.from_url(f"sqlite:///{path}").get_many(LINKS, {"MM-1": "t"}) == {"MM-1": ["x"]}


class Clock:
    """The cache's notion of now, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
        monkeypatch.setattr(item_cache, "_now", lambda: self.now)

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


def stored_keys(db_url: str) -> set[tuple[str, str]]:
    with sa.create_engine(db_url).connect() as conn:
        return {tuple(row) for row in conn.execute(sa.text(f"SELECT channel, item_key FROM {TABLE_NAME}"))}


def test_rows_no_run_asks_for_are_deleted_once_idle(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)

    def run() -> ItemCache:  # each run (a task) opens its own cache
        return ItemCache.from_url(db_url)

    first = run()
    first.put_many(LINKS, [CachedItem("MM-1", "t", ["a"]), CachedItem("MM-2", "t", ["b"])])
    first.put_many(NOTES, [CachedItem("acme/w#1", "v", [])])
    clock.advance(IDLE_DAYS - 1)
    # MM-1 is still in a run's window (asked for, served); MM-2 and the notes are not.
    assert run().get_many(LINKS, {"MM-1": "t"}) == {"MM-1": ["a"]}
    assert stored_keys(db_url) == {(LINKS, "MM-1"), (LINKS, "MM-2"), (NOTES, "acme/w#1")}
    clock.advance(2)
    # A run's first lookup deletes what no run asked for in IDLE_DAYS, of every channel.
    assert run().get_many(LINKS, {"MM-1": "t"}) == {"MM-1": ["a"]}
    assert stored_keys(db_url) == {(LINKS, "MM-1")}
    # Asked for at another version (it changed): still used, so kept until read again.
    clock.advance(IDLE_DAYS - 1)
    assert run().get_many(LINKS, {"MM-1": "t2"}) == {}
    clock.advance(IDLE_DAYS - 1)
    assert run().get_many(NOTES, {"acme/w#9": "v"}) == {}
    assert stored_keys(db_url) == {(LINKS, "MM-1")}
    clock.advance(2)
    assert run().get_many(NOTES, {"acme/w#9": "v"}) == {}
    assert stored_keys(db_url) == set()


def test_a_run_deletes_idle_rows_once_not_at_every_lookup(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    ItemCache.from_url(db_url).put_many(LINKS, [CachedItem("MM-1", "t", ["a"])])
    clock.advance(IDLE_DAYS + 1)
    cache = ItemCache.from_url(db_url)
    cache.get_many(NOTES, {"acme/w#1": "v"})
    assert stored_keys(db_url) == set()
    cache.put_many(LINKS, [CachedItem("MM-2", "t", ["b"])])
    clock.advance(IDLE_DAYS + 1)
    cache.get_many(NOTES, {"acme/w#1": "v"})  # the same run, later pages: no second sweep
    assert stored_keys(db_url) == {(LINKS, "MM-2")}


def test_rows_of_a_table_from_before_used_at_start_their_idle_time_at_the_upgrade(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The earlier version wrote read_at only when it read an item, never when it served one: rows
    served every day for a year still carry their first read. They are kept, and count from now."""
    clock = Clock(monkeypatch)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE TABLE {TABLE_NAME} (channel VARCHAR(64), item_key VARCHAR(512), updated VARCHAR(80) "
                "NOT NULL, payload TEXT NOT NULL, read_at VARCHAR(40) NOT NULL, PRIMARY KEY (channel, item_key))"
            )
        )
        for key in ("MM-served-daily", "MM-left-the-window"):
            read_at = (clock.now - timedelta(days=300)).isoformat(timespec="seconds")
            conn.execute(
                sa.text(f"INSERT INTO {TABLE_NAME} VALUES (:c, :k, 't', '[\"x\"]', :r)"),
                {"c": LINKS, "k": key, "r": read_at},
            )
    # Another channel's lookup comes first, as the extracts run in any order.
    assert ItemCache.from_url(db_url).get_many(NOTES, {"acme/w#1": "v"}) == {}
    assert "used_at" in {c["name"] for c in sa.inspect(engine).get_columns(TABLE_NAME)}
    assert ItemCache.from_url(db_url).get_many(LINKS, {"MM-served-daily": "t"}) == {"MM-served-daily": ["x"]}
    assert stored_keys(db_url) == {(LINKS, "MM-served-daily"), (LINKS, "MM-left-the-window")}
    for _ in range(2):
        clock.advance(IDLE_DAYS - 10)
        assert ItemCache.from_url(db_url).get_many(LINKS, {"MM-served-daily": "t"}) == {
            "MM-served-daily": ["x"]
        }
    assert stored_keys(db_url) == {(LINKS, "MM-served-daily")}


def test_upkeep_that_fails_still_serves_what_was_read(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ItemCache.from_url(db_url)
    cache.put_many(LINKS, [CachedItem("MM-1", "t", ["a"])])

    def locked(*args: object) -> None:
        raise sa.exc.OperationalError("UPDATE", {}, Exception("database is locked"))

    monkeypatch.setattr(ItemCache, "_mark_used", staticmethod(locked))
    with caplog.at_level(logging.WARNING, logger="community_monitoring.item_cache"):
        assert cache.get_many(LINKS, {"MM-1": "t"}) == {"MM-1": ["a"]}
    assert cache.enabled  # the next lookup uses the database again
    assert "could not mark" in caplog.text
    assert "database is locked" in caplog.text
