"""The notification ledger: what was sent, keyed so that nothing is ever sent twice (SPEC §6).

A message is claimed with its rendered parts before the first part goes out; each part is
marked as it is delivered. A retry resumes from the first part not yet delivered, using the
parts stored at claim time, so a rerun whose upstream data changed still cannot post a second,
different copy of the same digest.

Claims are exclusive: a claim is taken with an insert or a compare-and-set update, so of two
workers racing for one key exactly one sends. A claim left by a worker that died is taken over
by the same task's next try at once, and by anyone else after ``takeover_after``.

Statuses: ``sending`` (claimed), ``sent``, ``failed`` (provably not delivered: may be sent
again), ``uncertain`` (may have arrived and cannot be checked: never re-sent by itself).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from community_monitoring import keys, write_requests
from community_monitoring.errors import AmbiguousWrite, ClaimHeld, UncertainDelivery, WritesFailed

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

LEDGER_CONN_ID = "community_monitoring_db"
TABLE_NAME = "community_notifications"
# A claim older than this, left by another owner, is taken to belong to a dead worker.
DEFAULT_TAKEOVER_AFTER = timedelta(minutes=15)
# Statuses a new claim may replace: nothing was delivered for sure, or the claimant is gone.
_CLAIMABLE = ("failed", "sending", "claimed", "unconfirmed")
# Nobody holds the claim: the last try failed, or it left a write in doubt that upstream could not
# be asked about ("unconfirmed": any next try looks it up before any resend).
_RELEASED = ("failed", "unconfirmed")


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
    claim_owner: str | None = None
    claimed_at: str | None = None
    claim_token: str | None = None
    # Set just before a part's request goes out, cleared once its outcome is known: a claim taken
    # over with this set belongs to a sender that died mid-request (the part may have arrived).
    in_flight_since: str | None = None
    # The parts that may or may not have arrived (a webhook post whose answer was lost), each with
    # why: never re-sent, named in the failure alert; the parts after them are still sent.
    uncertain_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeliveryResult:
    key: str
    status: str  # "sent", "already_sent", "resumed" (one still uncertain raises UncertainDelivery)
    parts_sent_now: int
    parts_total: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sql_engine(conn_id: str = LEDGER_CONN_ID) -> Engine:
    """The SQLAlchemy engine behind an Airflow connection (any DB-API connection type).

    The ledger, the post state table (``state_table.py``) and other tables kept beside the ledger
    all live in this database.
    """
    from airflow.sdk.bases.hook import BaseHook

    hook = BaseHook.get_connection(conn_id).get_hook()
    get_engine = getattr(hook, "get_sqlalchemy_engine", None)
    if get_engine is None:
        raise ValueError(f"connection {conn_id!r} is not a SQL database connection")
    engine: Engine = get_engine()
    _make_sqlite_folder(engine)
    return engine


def _make_sqlite_folder(engine: Engine) -> None:
    """SQLite creates its file but not the folders above it: on a fresh deployment the first task
    to open the database (an extract reading the item cache) may come before anything made them."""
    url = engine.url
    database = url.database or ""
    if (
        url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
    ):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_tables(metadata: MetaData, engine: Engine, attempts: int = 5) -> None:
    """``metadata.create_all(engine)``, then the columns a table written by an earlier version lacks
    added in place; safe when several workers do it at once.

    Postgres lets two sessions race on CREATE TABLE (the loser fails on its catalog's unique index)
    and on ADD COLUMN; SQLite answers "already exists": whoever loses looks again and finds the
    tables as the winner left them. For every table kept beside the ledger.
    """
    import sqlalchemy as sa

    for attempt in range(1, attempts + 1):
        try:
            metadata.create_all(engine)
            _add_missing_columns(metadata, engine)
            return
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.OperationalError) as error:
            if attempt == attempts:
                raise
            log.info("Another worker is creating the tables (%s); looking again", type(error).__name__)
            time.sleep(0.05 * attempt)


def _add_missing_columns(metadata: MetaData, engine: Engine) -> None:
    """Add the columns this version declares and an existing table lacks. They are added without
    NOT NULL or a default, so the rows already there read NULL in them."""
    import sqlalchemy as sa

    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c for c in table.columns if c.name not in present]
        if not missing:
            continue
        with engine.begin() as conn:
            for column in missing:
                kind = column.type.compile(dialect=engine.dialect)
                log.info("Adding column %s to %s", column.name, table.name)
                conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))


class NotificationLedger:
    """Ledger table on any SQLAlchemy engine (SQLite file by default, Postgres in production)."""

    def __init__(self, engine: Engine) -> None:
        import sqlalchemy as sa

        self._engine = engine
        self._metadata = sa.MetaData()
        self._table = sa.Table(
            TABLE_NAME,
            self._metadata,
            sa.Column("key", sa.String(keys.KEY_MAX_CHARS), primary_key=True),
            sa.Column("kind", sa.String(64), nullable=False),
            sa.Column("target", sa.String(256), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("parts", sa.Text, nullable=False),
            sa.Column("parts_sent", sa.Integer, nullable=False, default=0),
            sa.Column("created_at", sa.String(40), nullable=False),
            sa.Column("sent_at", sa.String(40)),
            sa.Column("last_error", sa.Text),
            sa.Column("claim_owner", sa.String(512)),
            sa.Column("claim_token", sa.String(64)),
            sa.Column("claimed_at", sa.String(40)),
            sa.Column("in_flight_since", sa.String(40)),
            sa.Column("uncertain_parts", sa.Text),
        )
        self._create_table()

    def _create_table(self) -> None:
        # A ledger written by an earlier version gets the claim and in-flight columns it lacks.
        create_tables(self._metadata, self._engine)

    @classmethod
    def from_connection(cls, conn_id: str = LEDGER_CONN_ID) -> NotificationLedger:
        """Open the ledger behind an Airflow connection (any DB-API connection type)."""
        return cls(sql_engine(conn_id))

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
            claim_owner=data["claim_owner"],
            claimed_at=data["claimed_at"],
            claim_token=data["claim_token"],
            in_flight_since=data["in_flight_since"],
            uncertain_parts=tuple(json.loads(data["uncertain_parts"] or "[]")),
        )

    def get(self, key: str) -> LedgerEntry | None:
        with self._engine.connect() as conn:
            row = conn.execute(self._table.select().where(self._table.c.key == key)).first()
        return self._row_to_entry(row) if row else None

    def entries_under(self, key: str) -> list[LedgerEntry]:
        """The entry of ``key`` and those of the keys that extend it (``key`` + anything)."""
        query = self._table.select().where(self._table.c.key.startswith(key, autoescape=True))
        with self._engine.connect() as conn:
            return [self._row_to_entry(row) for row in conn.execute(query.order_by(self._table.c.key))]

    def entries(self, kind: str | None = None) -> list[LedgerEntry]:
        query = self._table.select().order_by(self._table.c.created_at, self._table.c.key)
        if kind:
            query = query.where(self._table.c.kind == kind)
        with self._engine.connect() as conn:
            return [self._row_to_entry(row) for row in conn.execute(query)]

    def claim(
        self,
        key: str,
        kind: str,
        target: str,
        parts: Sequence[str],
        owner: str = "",
        takeover_after: timedelta = DEFAULT_TAKEOVER_AFTER,
    ) -> tuple[LedgerEntry, bool]:
        """Claim ``key`` for ``owner``; returns what is stored and whether this caller holds the claim."""
        import sqlalchemy as sa

        token = uuid.uuid4().hex
        existing = self.get(key)
        if existing is None:
            try:
                with self._engine.begin() as conn:
                    conn.execute(
                        self._table.insert().values(
                            key=key,
                            kind=kind,
                            target=target,
                            status="sending",
                            parts=json.dumps(list(parts), ensure_ascii=False),
                            parts_sent=0,
                            created_at=_now(),
                            claim_owner=owner,
                            claim_token=token,
                            claimed_at=_now(),
                        )
                    )
                return self._must_get(key), True
            except sa.exc.IntegrityError:
                log.info("Another worker claimed %s first", key)
                existing = self._must_get(key)
        if not self._may_take(existing, owner, takeover_after):
            return existing, False
        # Compare-and-set on the row as read: of two workers taking over, one wins.
        table = self._table
        with self._engine.begin() as conn:
            same_claim = (
                table.c.claim_token.is_(None)
                if existing.claim_token is None
                else table.c.claim_token == existing.claim_token
            )
            won = conn.execute(
                table.update()
                .where(table.c.key == key, table.c.status == existing.status, same_claim)
                .values(status="sending", claim_owner=owner, claim_token=token, claimed_at=_now())
            ).rowcount
        return self._must_get(key), won == 1

    @staticmethod
    def _may_take(entry: LedgerEntry, owner: str, takeover_after: timedelta) -> bool:
        if entry.status not in _CLAIMABLE:
            return False
        if entry.status in _RELEASED or (owner and entry.claim_owner == owner):
            # Nothing in flight: the last try ended, or it was this very task's earlier try.
            return True
        claimed = datetime.fromisoformat(entry.claimed_at or entry.created_at)
        return datetime.now(UTC) - claimed >= takeover_after

    def _must_get(self, key: str) -> LedgerEntry:
        entry = self.get(key)
        assert entry is not None, key
        return entry

    def _update(self, key: str, **values: object) -> None:
        with self._engine.begin() as conn:
            conn.execute(self._table.update().where(self._table.c.key == key).values(**values))

    def mark_in_flight(self, key: str) -> None:
        self._update(key, in_flight_since=_now())

    def set_in_flight(self, key: str, out: bool) -> None:
        self._update(key, in_flight_since=_now() if out else None)

    def mark_part_sent(self, key: str, parts_sent: int) -> None:
        self._update(key, parts_sent=parts_sent, last_error=None, in_flight_since=None)

    def mark_part_uncertain(self, key: str, parts_sent: int, notes: Sequence[str]) -> None:
        """A part that may have arrived is passed over (never re-sent): the next one is sent."""
        self._update(
            key,
            parts_sent=parts_sent,
            uncertain_parts=json.dumps(list(notes), ensure_ascii=False),
            last_error=None,
            in_flight_since=None,
        )

    def mark_sent(self, key: str) -> None:
        self._update(key, status="sent", sent_at=_now(), last_error=None, in_flight_since=None)

    def mark_failed(self, key: str, error: str) -> None:
        self._update(key, status="failed", last_error=error[:2000], in_flight_since=None)

    def mark_uncertain(self, key: str, error: str) -> None:
        self._update(key, status="uncertain", last_error=error[:2000], in_flight_since=None)

    def _read_back(
        self,
        key: str,
        where: str,
        part: str,
        read_back: Callable[[str], bool],
        doubt: str,
        redact: Callable[[str], str],
    ) -> bool:
        """``read_back(part)``. When upstream cannot be asked, the write stays in doubt, unclaimed:
        the next try, of this run or another, looks it up again before any resend. (Left claimed,
        another run met "being sent by another worker" until the takeover timeout.)"""
        try:
            return read_back(part)
        except Exception as exc:
            # A lookup failing again keeps the first doubt, not a note nested in a note.
            first = doubt.split("; looking it up failed: ", 1)[0]
            note = (
                first
                if first.startswith(f"{where}: may have arrived")
                else f"{where}: may have arrived ({doubt})"
            )
            note += f"; looking it up failed: {redact(str(exc))}"
            self._update(key, status="unconfirmed", last_error=note[:2000], in_flight_since=None)
            raise

    def deliver_once(
        self,
        key: str,
        kind: str,
        target: str,
        parts: Sequence[str],
        send: Callable[[str], None],
        *,
        owner: str = "",
        read_back: Callable[[str], bool] | None = None,
        redact: Callable[[str], str] = str,
        takeover_after: timedelta = DEFAULT_TAKEOVER_AFTER,
    ) -> DeliveryResult:
        """Send each part of a message exactly once across retries, reruns, repeated runs and workers.

        ``read_back(part)`` tells whether a part arrived after an ambiguous failure (a write that
        carries a marker and can be looked up upstream); without it, such a part is ``uncertain``.
        """
        entry, owned = self.claim(key, kind, target, parts, owner, takeover_after)
        if entry.status == "sent":
            log.info(
                "Already sent %s (%d part(s)) at %s; sending nothing", key, len(entry.parts), entry.sent_at
            )
            return DeliveryResult(key, "already_sent", 0, len(entry.parts))
        if (
            entry.status == "uncertain"
            and entry.parts_sent + 1 < len(entry.parts)
            and not entry.uncertain_parts
        ):
            # Recorded before the parts after an uncertain one were sent on: they never went out.
            note = entry.last_error or f"part {entry.parts_sent + 1}/{len(entry.parts)}"
            self._update(
                key, status="failed", parts_sent=entry.parts_sent + 1, uncertain_parts=json.dumps([note])
            )
            entry, owned = self.claim(key, kind, target, parts, owner, takeover_after)
        if entry.status == "uncertain":
            # Still in doubt from an earlier try: not sent again, and not passed over as sent either
            # (a rerun stays red until someone looks in the channel; README "Failures").
            log.warning("%s may have been delivered (%s): not sent again", key, entry.last_error)
            raise UncertainDelivery(
                f"{key} may or may not have arrived in an earlier try ({entry.last_error or 'no answer'}): "
                "not sent again; look in the channel, and delete its ledger row to send it"
            )
        if not owned:
            raise ClaimHeld(
                f"{key} is being sent by {entry.claim_owner or 'another worker'} since {entry.claimed_at}"
            )
        resumed = entry.parts_sent > 0 or entry.last_error is not None or entry.in_flight_since is not None
        if resumed:
            log.warning(
                "Resuming %s: %d of %d part(s) were delivered before; sending the rest",
                key,
                entry.parts_sent,
                len(entry.parts),
            )
        sent_now = 0
        uncertain = list(entry.uncertain_parts)
        for index in range(entry.parts_sent, len(entry.parts)):
            where = f"part {index + 1}/{len(entry.parts)}"
            earlier = entry.last_error or "an earlier try"
            if (
                resumed
                and read_back is not None
                and self._read_back(key, where, entry.parts[index], read_back, earlier, redact)
            ):
                # A write that can be looked up is looked up before any resend: an earlier attempt
                # (a dead worker, a lost answer) may have made it after all.
                log.warning("%s %s: already upstream (read back); not sent again", key, where)
                self.mark_part_sent(key, index + 1)
                continue
            if index == entry.parts_sent and entry.in_flight_since and read_back is None:
                # The sender died while this part's request was out: it may have arrived, and it
                # cannot be looked up. Never re-sent by itself (SPEC §6); the parts after it are sent.
                uncertain.append(f"{where}: the sender stopped mid-request at {entry.in_flight_since}")
                self.mark_part_uncertain(key, index + 1, uncertain)
                continue
            self.mark_in_flight(key)
            try:
                # The HTTP layer clears the mark when an answer proves a try was not processed.
                with write_requests.listening(lambda out, key=key: self.set_in_flight(key, out)):
                    send(entry.parts[index])
            except AmbiguousWrite as exc:
                error = redact(str(exc))
                if read_back is None:
                    # It may have arrived: never re-sent; the parts after it are still sent.
                    log.warning("%s %s may or may not have arrived: %s", key, where, error)
                    uncertain.append(f"{where}: {error}")
                    self.mark_part_uncertain(key, index + 1, uncertain)
                    continue
                if not self._read_back(key, where, entry.parts[index], read_back, error, redact):
                    # Looked up and not there: it provably did not take effect; a retry may send it.
                    self.mark_failed(key, f"{where}: not found upstream after {error}")
                    raise
                log.warning("%s %s: the answer was lost but the write arrived (read back)", key, where)
            except Exception as exc:
                self.mark_failed(key, f"{where}: {redact(str(exc))}")
                if len(entry.parts) > 1:
                    # The alert shows this error: it says which part did not go out, and that the
                    # ones before it did (a split digest's first part in the channel alone).
                    raise WritesFailed(
                        _part_not_sent(key, where, index, uncertain, redact(str(exc)))
                    ) from exc
                raise
            self.mark_part_sent(key, index + 1)
            sent_now += 1
            log.info("Sent %s %s to %s", key, where, target)
        if uncertain:
            notes = "; ".join(uncertain)
            self.mark_uncertain(key, notes)
            others = (
                f" (the other {len(entry.parts) - len(uncertain)} part(s) were sent)"
                if len(entry.parts) > 1
                else ""
            )
            raise UncertainDelivery(f"{key} {notes}: may or may not have arrived{others}")
        self.mark_sent(key)
        return DeliveryResult(key, "resumed" if resumed else "sent", sent_now, len(entry.parts))


def _part_not_sent(key: str, where: str, index: int, uncertain: Sequence[str], error: str) -> str:
    """A part of a split message that provably did not go out, after ``index`` parts that did or may
    have; what became of the message comes before the upstream's answer, which the alert may cut."""
    sent = index - len(uncertain)
    before = f"{sent} part(s) before it were sent" if sent else "no part before it was sent"
    doubt = f", {'; '.join(uncertain)}: may or may not have arrived" if uncertain else ""
    return (
        f"{key} {where} was not sent ({before}{doubt}; the next try sends it and the parts after it, "
        f"never those before it again): {error}"
    )
