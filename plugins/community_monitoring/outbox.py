"""Every write a run makes goes through here: digests, alerts, upstream writes, the sheet, archives.

The outbox holds the run's :class:`WritePolicy` and the ledger, so a task never decides for
itself whether it may write, and nothing is sent twice: each write has a key (``keys.py``)
recorded in the ledger before it goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from community_monitoring import keys
from community_monitoring.errors import ClaimHeld, UncertainDelivery, WritesFailed
from community_monitoring.policy import WritePolicy
from community_monitoring.timeutil import archive_folder_name

if TYPE_CHECKING:
    from community_monitoring.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """What became of one write: sent, resumed, already_sent, archived_only, not_allowed, skipped."""

    key: str
    status: str
    parts_sent: int = 0

    @property
    def sent_now(self) -> bool:
        return self.parts_sent > 0


class Outbox:
    def __init__(
        self,
        dag_id: str,
        as_of: datetime,
        settings: Settings,
        policy: WritePolicy,
        open_ledger: Callable[[], Any],
        webhook: Callable[[str, str], Callable[[str], None]],
        archive_root: Callable[[], Any],
        owner: str = "",
        redact: Callable[[str], str] = str,
    ) -> None:
        self.dag_id = dag_id
        # Who claims writes in the ledger (DAG, run, task): its own next try may take a claim over.
        self.owner = owner
        # Removes secrets (webhook ids, tokens) from error text before it is stored or shown.
        self.redact = redact
        self.as_of = as_of
        self.settings = settings
        self.policy = policy
        self._open_ledger = open_ledger
        self._webhook = webhook
        self._archive_root = archive_root
        self._ledger: Any = None

    @property
    def ledger(self) -> Any:
        if self._ledger is None:
            self._ledger = self._open_ledger()
        return self._ledger

    def archive(self, kind: str, parts: Sequence[str], full_text: str = "") -> str:
        """Keep a digest as Markdown, one file per (DAG, T, kind), whether or not it is posted.

        ``full_text``: a capped digest's whole list (SPEC §7), kept beside it as ``<kind>.full.md``,
        the file its "… and N more" lines name. Returns the digest's path.
        """
        folder = self._archive_root() / self.dag_id / archive_folder_name(self.as_of)
        folder.mkdir(parents=True, exist_ok=True)
        if full_text:
            # Written first: a digest in the archive never names a full list that is not there.
            self._write_atomically(folder, f"{kind}.full.md", self.redact(full_text) + "\n")
        return self._write_atomically(folder, f"{kind}.md", self.redact("\n\n---\n\n".join(parts)) + "\n")

    def archive_file(self, kind: str, name: str, data: bytes) -> str:
        """Keep a file that goes with a message (a chart) beside its Markdown, as ``<kind>.<name>``,
        written atomically, whether or not the message is posted. Returns its path."""
        folder = self._archive_root() / self.dag_id / archive_folder_name(self.as_of)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{kind}.{name}"
        tmp = folder / f"{kind}.{name}.partial"
        with tmp.open("wb") as stream:
            stream.write(data)
        tmp.rename(path)
        return str(path)

    @staticmethod
    def _write_atomically(folder: Any, name: str, text: str) -> str:
        path = folder / name
        tmp = folder / f"{name}.partial"
        with tmp.open("w", encoding="utf-8") as stream:
            stream.write(text)
        tmp.rename(path)
        return str(path)

    def post_message(self, kind: str, parts: Sequence[str], key: str | None = None) -> Delivery:
        """Post a rendered message to its Mattermost connection, once per key (default: DAG, kind, T)."""
        key = key or keys.digest_key(self.dag_id, kind, self.as_of)
        if not parts:
            return Delivery(key, "skipped")
        if not self.policy.post_messages:
            log.info("%s archived, not posted: %s", kind, self.policy.reason)
            return Delivery(key, "archived_only")
        target = self.settings.mattermost.targets[kind]  # type: ignore[index]
        send = self._webhook(target, self.settings.mattermost.username)
        # The alert names each message in doubt as people know it ("[Help Wanted]"), not by its
        # ledger key alone; one finished first in doubt does not hold this one back.
        # One that fails again (a part refused for good) does not hold it back either: its T's
        # catch-up would wait behind it through every clear; the task fails naming it, after.
        finished, doubts, failures = self._finish_cut_short(kind, key, target, send)
        try:
            result = self._deliver(key, kind, target, list(parts), send)
        except UncertainDelivery as exc:
            doubts.append(f"{message_label(parts[0])} to {target}: {exc}")
        except Exception as exc:
            if not (doubts or failures):
                raise
            # This message failed too: the error (and so the alert) names it and every digest of its
            # T left unfinished or in doubt, not this one alone. A retry sends it again, as after any
            # failed message; one in doubt stays unsent and is named again.
            failed = f"{message_label(parts[0])} to {target}: {self.redact(f'{type(exc).__name__}: {exc}')}"
            raise WritesFailed("; ".join([failed, *doubts, *failures])) from exc
        if doubts:
            raise UncertainDelivery("; ".join(doubts + failures))
        if failures:
            raise WritesFailed("; ".join(failures))
        if result.status == "already_sent":
            log.info(
                "%s as of %s was already posted to %s: %s",
                kind,
                self.as_of,
                target,
                f"{finished} part(s) of another digest of its T sent first" if finished else "nothing sent",
            )
        return Delivery(key, result.status, result.parts_sent_now + finished)

    def _finish_cut_short(
        self, kind: str, key: str, target: str, send: Callable[[str], Any]
    ) -> tuple[int, list[str], list[str]]:
        """Send the rest of each digest of ``key``'s T that counts as gone out (``earlier_deliveries``)
        but is not done, when ``key`` is another of them; returns the parts sent, those of its parts
        that may or may not have arrived, each named, and the digests whose rest failed, each named.

        A [Triage] sent without a channel whose part 2 failed for good (or whose sender died in a
        retry's wait, its claim left) is followed, in a run that reads the channel, by a catch-up
        under a key of its own (``keys.covered_digest_key``): its message holds the channel's posts
        alone, so the first digest's unsent parts would go out never. The ledger's stored parts are
        sent, before the digest that follows them. One in doubt (``uncertain``) is named, never re-sent.
        """
        as_of = keys.digest_time(keys.kind_prefix(self.dag_id, kind), key)
        if as_of is None:  # no digest's key (a closeout summary's): no other of its T
            return 0, [], []
        sent, doubts, failures = 0, [], []
        base = keys.digest_key(self.dag_id, kind, as_of)
        # In the order they first went out: the first digest of the T (``base``, or ``base`` sent
        # without channels), then its catch-ups as they were made (the ledger lists them by key,
        # ``:recovered:`` before ``:without:``).
        entries = sorted(
            self.ledger.entries_under(base),
            key=lambda e: (keys.RECOVERED in e.key[len(base) :], e.created_at, e.key),
        )
        for entry in entries:
            if entry.key == key or entry.status == "sent" or not _may_have_arrived(entry):
                continue  # done, or provably sent nothing (its posts are in ``key``'s)
            # One in doubt is not re-sent: the ledger raises, naming it, so the run stays red as a
            # rerun that meets it under its own key does, rather than passing it over as sent.
            if entry.status != "uncertain":
                log.warning(
                    "%s: %d of %d part(s) went out, then its sending stopped; sending the rest first",
                    entry.key,
                    entry.parts_sent,
                    len(entry.parts),
                )
            try:
                sent += self._deliver(entry.key, kind, target, entry.parts, send).parts_sent_now
            except ClaimHeld as exc:  # another worker is sending it (or one that died lately holds it)
                log.warning("Not finished now: %s", exc)
            except UncertainDelivery as exc:
                doubts.append(f"{message_label(entry.parts[0])} to {target}: {exc}")
            except Exception as exc:  # the ledger keeps it failed: a retry or clear sends the rest
                # The ledger's error names the part and starts with the key, said once here.
                detail = str(exc).removeprefix(f"{entry.key} ")
                failure = f"{message_label(entry.parts[0])} to {target}: {entry.key} not finished: {detail}"
                log.error("%s", self.redact(failure))
                failures.append(self.redact(failure))
        return sent, doubts, failures

    def earlier_deliveries(self, kind: str) -> dict[str, bool]:
        """The ledger's keys for ``kind`` at this T (its digest key and the keys extending it) →
        whether something of theirs may have arrived; nothing when this run posts nothing."""
        if not self.policy.post_messages:
            return {}
        return self._may_have_arrived(keys.digest_key(self.dag_id, kind, self.as_of))

    def deliveries_of(self, kind: str) -> dict[str, bool]:
        """``earlier_deliveries`` at every T: the ledger's keys of this DAG's ``kind`` → whether
        something of theirs may have arrived; nothing when this run posts nothing."""
        if not self.policy.post_messages:
            return {}
        return self._may_have_arrived(keys.kind_prefix(self.dag_id, kind))

    def _may_have_arrived(self, prefix: str) -> dict[str, bool]:
        # A try that provably sent nothing does not count.
        return {entry.key: _may_have_arrived(entry) for entry in self.ledger.entries_under(prefix)}

    def alert(self, text: str, about: str = "") -> Delivery:
        """One alert per run and T to the CM (the first task that failed for good); one more for
        each ``about`` (a post that may or may not have arrived, which every alert must name, or
        that was not made)."""
        key = keys.alert_key(self.dag_id, self.as_of) + (f":{about}" if about else "")
        target = self.settings.mattermost.targets["alert"]
        send = self._webhook(target, self.settings.mattermost.username)
        result = self._deliver(key, "alert", target, [self.redact(text)], send)
        return Delivery(key, result.status, result.parts_sent_now)

    def _deliver(
        self,
        key: str,
        kind: str,
        target: str,
        parts: Sequence[str],
        send: Callable[[str], Any],
        read_back: Callable[[str], bool] | None = None,
    ) -> Any:
        # Every text that leaves: an upstream title may carry a credential (SPEC §6), and what is sent
        # is what the ledger keeps.
        parts = [self.redact(part) for part in parts]
        return self.ledger.deliver_once(
            key, kind, target, parts, send, owner=self.owner, read_back=read_back, redact=self.redact
        )

    def write_upstream(
        self,
        key: str,
        kind: str,
        target: str,
        text: str,
        send: Callable[[str], Any],
        policy: WritePolicy | None = None,
        read_back: Callable[[str], bool] | None = None,
    ) -> Delivery:
        """A write to an upstream (reply, status update), once per key, if the run may write.

        ``read_back`` looks the write up upstream: after an ambiguous failure it decides between
        "arrived" and "send again"; without it the write is recorded as uncertain.
        """
        allowed = policy or self.policy
        if not allowed.write_upstream:
            log.info("Not written upstream (%s): %s", allowed.reason or "not allowed", key)
            return Delivery(key, "not_allowed")
        result = self._deliver(key, kind, target, [text], send, read_back)
        return Delivery(key, result.status, result.parts_sent_now)

    def record_done_elsewhere(self, key: str, kind: str, target: str, text: str) -> None:
        """Upstream already shows this write (made by hand or by another deployment): never make it."""
        self._deliver(key, kind, target, [text], lambda _: None)

    def record_nothing_to_send(self, kind: str, key: str, why: str) -> None:
        """Record ``key`` as done although nothing was sent: what it was owed holds nothing to send
        (``why``, kept as its text), so no later run builds it again. Nothing when this run posts
        nothing: such a run owes nothing either."""
        if not self.policy.post_messages:
            return
        target = self.settings.mattermost.targets[kind]  # type: ignore[index]
        self._deliver(key, kind, target, [f"(nothing sent: {why})"], lambda _: None)

    def already_done(self, key: str) -> bool:
        return self.done_at(key) is not None

    def done_at(self, key: str) -> str | None:
        """When ``key`` was sent (or found made elsewhere), as the ledger writes times ("" when it
        does not say); None when it is not done."""
        entry = self.ledger.get(key)
        return (entry.sent_at or "") if entry is not None and entry.status == "sent" else None

    def sent_by_this_task(self, key: str) -> bool:
        """Sent, and by this task of this run (an earlier try of it), not by an earlier run."""
        entry = self.ledger.get(key)
        return (
            entry is not None
            and entry.status == "sent"
            and bool(self.owner)
            and entry.claim_owner == self.owner
        )

    def update_sheet(
        self,
        path: str,
        rows: Sequence[Any],
        policy: WritePolicy | None = None,
        *,
        released_versions: Sequence[str] | None = None,
        named_versions: Sequence[Sequence[str]] | None = None,
        release_days: Sequence[Sequence[str]] = (),
    ) -> Any:
        """Upsert tracking-sheet rows, if the run may change the sheet; returns the upsert result.

        With ``released_versions`` (the daily DAG's planned rows and the versions released at T),
        the rows the sheet already holds whose fixVersion moved to a later release are flagged
        too, decided from the sheet as it is under the write lock; ``named_versions`` (the
        (suggestion id, version) pairs the linked tickets name at T) tells a version that shipped
        from one the suggestion slipped from on the day it shipped; ``release_days`` (suggestion id,
        version, day Jira released it) dates the rows of another product's released versions.
        """
        from functools import partial

        from community_monitoring.sheet_plan import daily_sheet_rows
        from community_monitoring.tracking_sheet import update_rows, upsert_rows

        allowed = policy or self.policy
        if not allowed.update_sheet:
            log.info("Tracking sheet left as it is (%s)", allowed.reason or "not allowed")
            return None
        rows = [self._redacted_row(row) for row in rows]
        if released_versions is None:
            return upsert_rows(path, rows)
        named = None if named_versions is None else [(sid, version) for sid, version in named_versions]
        plan = partial(
            daily_sheet_rows,
            planned_rows=list(rows),
            released=tuple(released_versions),
            named=named,
            release_days=[tuple(entry) for entry in release_days],
        )
        return update_rows(path, plan)

    def _redacted_row(self, row: Any) -> Any:
        """A sheet row whose upstream texts (title, link, nominator) show no credential (SPEC §6)."""
        from dataclasses import replace

        texts = {name: getattr(row, name, "") for name in ("title", "url", "nominator")}
        redacted = {name: self.redact(text) for name, text in texts.items() if text}
        changed = {name: text for name, text in redacted.items() if text != texts[name]}
        return replace(row, **changed) if changed else row


def _may_have_arrived(entry: Any) -> bool:
    """Whether something of a ledger row's message may be in the channel: a try that provably
    sent nothing does not count."""
    return entry.status != "failed" or entry.parts_sent > 0 or bool(entry.uncertain_parts)


def message_label(first_part: str) -> str:
    """The kind a message starts with ("[Help Wanted]"; SPEC §7), or "a message" if it has none."""
    head = first_part.split("]", 1)[0]
    return head + "]" if head.startswith("[") and "\n" not in head and len(head) < 40 else "a message"
