"""The notification ledger: what was sent, keyed so that nothing is ever sent twice (SPEC §6).

A message is claimed with its rendered parts before the first part goes out; each part is
marked as it is delivered. A retry resumes from the first part not yet delivered, using the
parts stored at claim time, so a rerun whose upstream data changed still cannot post a second,
different copy of the same digest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

LEDGER_CONN_ID = "community_monitoring_db"
TABLE_NAME = "community_notifications"


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    kind: str
    target: str
    status: str
    parts: tuple[str, ...]
    parts_sent: int
    created_at: str
    sent_at: str | None
    last_error: str | None


@dataclass(frozen=True)
class DeliveryResult:
    key: str
    status: str  # "sent", "already_sent", "resumed"
    parts_sent_now: int
    parts_total: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class NotificationLedger:
    """Ledger table on any SQLAlchemy engine (SQLite file by default, Postgres in production)."""

    def __init__(self, engine: Engine) -> None:
        import sqlalchemy as sa

        self._engine = engine
        self._metadata = sa.MetaData()
        self._table = sa.Table(
            TABLE_NAME,
            self._metadata,
            sa.Column("key", sa.String(512), primary_key=True),
            sa.Column("kind", sa.String(64), nullable=False),
            sa.Column("target", sa.String(256), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("parts", sa.Text, nullable=False),
            sa.Column("parts_sent", sa.Integer, nullable=False, default=0),
            sa.Column("created_at", sa.String(40), nullable=False),
            sa.Column("sent_at", sa.String(40)),
            sa.Column("last_error", sa.Text),
        )
        self._metadata.create_all(engine)

    @classmethod
    def from_connection(cls, conn_id: str = LEDGER_CONN_ID) -> NotificationLedger:
        """Open the ledger behind an Airflow connection (any DB-API connection type)."""
        from airflow.sdk.bases.hook import BaseHook

        hook = BaseHook.get_connection(conn_id).get_hook()
        get_engine = getattr(hook, "get_sqlalchemy_engine", None)
        if get_engine is None:
            raise ValueError(f"connection {conn_id!r} is not a SQL database connection")
        return cls(get_engine())

    @classmethod
    def from_url(cls, url: str) -> NotificationLedger:
        import sqlalchemy as sa

        return cls(sa.create_engine(url))

    def _row_to_entry(self, row: object) -> LedgerEntry:
        data = row._mapping  # type: ignore[attr-defined]
        return LedgerEntry(
            key=data["key"],
            kind=data["kind"],
            target=data["target"],
            status=data["status"],
            parts=tuple(json.loads(data["parts"])),
            parts_sent=data["parts_sent"],
            created_at=data["created_at"],
            sent_at=data["sent_at"],
            last_error=data["last_error"],
        )

    def get(self, key: str) -> LedgerEntry | None:
        with self._engine.connect() as conn:
            row = conn.execute(self._table.select().where(self._table.c.key == key)).first()
        return self._row_to_entry(row) if row else None

    def entries(self, kind: str | None = None) -> list[LedgerEntry]:
        query = self._table.select().order_by(self._table.c.created_at, self._table.c.key)
        if kind:
            query = query.where(self._table.c.kind == kind)
        with self._engine.connect() as conn:
            return [self._row_to_entry(row) for row in conn.execute(query)]

    def claim(self, key: str, kind: str, target: str, parts: Sequence[str]) -> LedgerEntry:
        """Record the message under ``key`` unless it is there already; return what is stored."""
        import sqlalchemy as sa

        existing = self.get(key)
        if existing:
            return existing
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    self._table.insert().values(
                        key=key,
                        kind=kind,
                        target=target,
                        status="claimed",
                        parts=json.dumps(list(parts), ensure_ascii=False),
                        parts_sent=0,
                        created_at=_now(),
                    )
                )
        except sa.exc.IntegrityError:
            log.info("Another attempt claimed %s first; using its record", key)
        entry = self.get(key)
        assert entry is not None
        return entry

    def mark_part_sent(self, key: str, parts_sent: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                self._table.update()
                .where(self._table.c.key == key)
                .values(parts_sent=parts_sent, last_error=None)
            )

    def mark_sent(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                self._table.update()
                .where(self._table.c.key == key)
                .values(status="sent", sent_at=_now(), last_error=None)
            )

    def mark_failed(self, key: str, error: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                self._table.update()
                .where(self._table.c.key == key)
                .values(status="failed", last_error=error[:2000])
            )

    def deliver_once(
        self, key: str, kind: str, target: str, parts: Sequence[str], send: Callable[[str], None]
    ) -> DeliveryResult:
        """Send each part of a message exactly once across retries, reruns and repeated runs."""
        entry = self.claim(key, kind, target, parts)
        if entry.status == "sent":
            log.info(
                "Already sent %s (%d part(s)) at %s; sending nothing", key, len(entry.parts), entry.sent_at
            )
            return DeliveryResult(key, "already_sent", 0, len(entry.parts))
        resumed = entry.parts_sent > 0 or entry.status == "failed"
        if resumed:
            log.warning(
                "Resuming %s: %d of %d part(s) were delivered before; sending the rest",
                key,
                entry.parts_sent,
                len(entry.parts),
            )
        sent_now = 0
        for index in range(entry.parts_sent, len(entry.parts)):
            try:
                send(entry.parts[index])
            except Exception as exc:
                self.mark_failed(key, f"part {index + 1}/{len(entry.parts)}: {exc}")
                raise
            self.mark_part_sent(key, index + 1)
            sent_now += 1
            log.info("Sent %s part %d/%d to %s", key, index + 1, len(entry.parts), target)
        self.mark_sent(key)
        return DeliveryResult(key, "resumed" if resumed else "sent", sent_now, len(entry.parts))
