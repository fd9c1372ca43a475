"""The ledger sends each message once across retries, reruns and repeated runs.

Every test runs on SQLite (the default ledger) and on Postgres (production, SPEC §11): the Postgres
variant needs a server, named by ``COMMUNITY_TEST_POSTGRES_URL`` (an empty database the tests may
drop tables in). ``make test-cluster`` starts one and runs this file against it; without the
variable the Postgres variant is skipped, saying so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from builders import database_url
from community_monitoring.errors import AmbiguousWrite, ClaimHeld, UncertainDelivery, WritesFailed
from community_monitoring.ledger import TABLE_NAME, NotificationLedger


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty ledger database: a SQLite file, or the Postgres test database (table dropped)."""
    yield from database_url(request.param, tmp_path, TABLE_NAME)


@pytest.fixture
def ledger(ledger_url: str) -> NotificationLedger:
    return NotificationLedger.from_url(ledger_url)


def test_second_delivery_sends_nothing(ledger: NotificationLedger) -> None:
    sent: list[str] = []
    first = ledger.deliver_once("dag:help_wanted:T", "help_wanted", "mm", ["a", "b"], sent.append)
    second = ledger.deliver_once("dag:help_wanted:T", "help_wanted", "mm", ["a", "b"], sent.append)
    assert sent == ["a", "b"]
    assert (first.status, first.parts_sent_now) == ("sent", 2)
    assert (second.status, second.parts_sent_now) == ("already_sent", 0)


def test_other_key_is_sent(ledger: NotificationLedger) -> None:
    sent: list[str] = []
    ledger.deliver_once("dag:help_wanted:T1", "help_wanted", "mm", ["a"], sent.append)
    ledger.deliver_once("dag:help_wanted:T2", "help_wanted", "mm", ["b"], sent.append)
    assert sent == ["a", "b"]


def test_retry_resumes_after_the_delivered_parts_with_the_stored_text(ledger: NotificationLedger) -> None:
    sent: list[str] = []

    def flaky(text: str) -> None:
        if text == "part 2" and "part 2" not in failed:
            failed.append(text)
            raise ConnectionError("webhook down")
        sent.append(text)

    failed: list[str] = []
    with pytest.raises(
        WritesFailed, match=r"^k part 2/3 was not sent \(1 part\(s\) before it were sent; .*\): webhook down$"
    ):
        ledger.deliver_once("k", "help_wanted", "mm", ["part 1", "part 2", "part 3"], flaky)
    entry = ledger.get("k")
    assert entry is not None
    assert (entry.status, entry.parts_sent) == ("failed", 1)
    assert "webhook down" in (entry.last_error or "")
    # The rerun rendered different text (upstream changed); the stored parts are what goes out.
    result = ledger.deliver_once("k", "help_wanted", "mm", ["other 1", "other 2"], flaky)
    assert sent == ["part 1", "part 2", "part 3"]
    assert result.status == "resumed"


def test_ledger_survives_a_new_process(ledger_url: str) -> None:
    url = ledger_url
    sent: list[str] = []
    NotificationLedger.from_url(url).deliver_once("k", "triage", "mm", ["x"], sent.append)
    NotificationLedger.from_url(url).deliver_once("k", "triage", "mm", ["x"], sent.append)
    assert sent == ["x"]
    assert [e.key for e in NotificationLedger.from_url(url).entries("triage")] == ["k"]


# -- exclusive claims, takeover, ambiguous writes (SPEC §6) -------------------------------------


def test_two_workers_racing_for_one_key_send_once(ledger_url: str) -> None:
    url = ledger_url
    NotificationLedger.from_url(url)  # the table exists before the race
    sent: list[str] = []
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def worker(n: int) -> None:
        ledger = NotificationLedger.from_url(url)
        barrier.wait()
        try:
            ledger.deliver_once("k", "triage", "mm", ["x"], sent.append, owner=f"worker-{n}")
            outcomes.append("delivered")
        except ClaimHeld:
            outcomes.append("held")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sent == ["x"]
    assert len(outcomes) == 8


def test_a_live_claim_of_another_owner_is_not_taken(ledger: NotificationLedger) -> None:
    ledger.claim("k", "triage", "mm", ["x"], owner="run-a/post")
    with pytest.raises(ClaimHeld, match="run-a/post"):
        ledger.deliver_once("k", "triage", "mm", ["x"], lambda _: None, owner="run-b/post")


def test_a_dead_workers_claim_is_taken_over_after_the_timeout(ledger: NotificationLedger) -> None:
    sent: list[str] = []
    ledger.claim("k", "triage", "mm", ["x"], owner="run-a/post")
    result = ledger.deliver_once(
        "k", "triage", "mm", ["x"], sent.append, owner="run-b/post", takeover_after=timedelta(0)
    )
    assert (result.status, sent) == ("sent", ["x"])


def _die_mid_request(ledger: NotificationLedger, parts: list[str], before: int = 0) -> None:
    """A sender that claimed, sent ``before`` parts, then died with the next request out."""

    class WorkerDied(BaseException):
        pass

    def send(part: str) -> None:
        if parts.index(part) == before:
            raise WorkerDied  # not an Exception: nothing in the sender gets to record an outcome

    with pytest.raises(WorkerDied):
        ledger.deliver_once("k", "triage", "mm", parts, send, owner="dag/run/post")


def test_a_webhook_post_cut_off_by_a_dead_worker_is_uncertain_not_resent(ledger: NotificationLedger) -> None:
    _die_mid_request(ledger, ["a", "b"], before=1)
    entry = ledger.get("k")
    assert entry is not None
    assert entry.in_flight_since
    sent: list[str] = []
    with pytest.raises(UncertainDelivery, match="stopped mid-request"):
        ledger.deliver_once("k", "triage", "mm", ["a", "b"], sent.append, owner="dag/run/post")
    assert sent == []
    entry = ledger.get("k")
    assert entry is not None
    assert (entry.status, entry.parts_sent, entry.in_flight_since) == ("uncertain", 2, None)
    assert [note.split(":")[0] for note in entry.uncertain_parts] == ["part 2/2"]


def test_the_parts_after_one_cut_off_by_a_dead_worker_are_sent(ledger: NotificationLedger) -> None:
    _die_mid_request(ledger, ["a", "b", "c"], before=0)
    sent: list[str] = []
    with pytest.raises(UncertainDelivery, match=r"part 1/3: the sender stopped mid-request .* other 2 part"):
        ledger.deliver_once("k", "triage", "mm", ["a", "b", "c"], sent.append, owner="dag/run/post")
    assert sent == ["b", "c"]


def test_a_readable_write_cut_off_by_a_dead_worker_is_looked_up_first(ledger: NotificationLedger) -> None:
    _die_mid_request(ledger, ["a"])
    sent: list[str] = []
    arrived = ledger.deliver_once(
        "k", "reply", "github", ["a"], sent.append, owner="dag/run/post", read_back=lambda _: True
    )
    assert (arrived.status, sent) == ("resumed", [])


def test_a_failure_with_a_known_outcome_leaves_nothing_in_flight(ledger: NotificationLedger) -> None:
    def refused(_: str) -> None:
        raise ConnectionRefusedError("refused")

    with pytest.raises(ConnectionRefusedError):
        ledger.deliver_once("k", "triage", "mm", ["a"], refused, owner="dag/run/post")
    entry = ledger.get("k")
    assert entry is not None
    assert (entry.status, entry.in_flight_since) == ("failed", None)
    sent: list[str] = []
    ledger.deliver_once("k", "triage", "mm", ["a"], sent.append, owner="dag/run/post")
    assert sent == ["a"]


def test_the_same_tasks_next_try_takes_its_own_claim_at_once(ledger: NotificationLedger) -> None:
    sent: list[str] = []
    ledger.claim("k", "triage", "mm", ["x"], owner="dag/run/post")
    ledger.deliver_once("k", "triage", "mm", ["x"], sent.append, owner="dag/run/post")
    assert sent == ["x"]


def ambiguous(_: str) -> None:
    raise AmbiguousWrite("read timed out after the request was sent")


def test_an_ambiguous_webhook_post_is_uncertain_and_never_resent(ledger: NotificationLedger) -> None:
    with pytest.raises(UncertainDelivery, match="may or may not have arrived"):
        ledger.deliver_once("k", "triage", "mm", ["x"], ambiguous)
    entry = ledger.get("k")
    assert entry is not None
    assert entry.status == "uncertain"
    sent: list[str] = []
    # A rerun neither sends it again nor passes it over as sent: it fails, naming it.
    with pytest.raises(UncertainDelivery, match="may or may not have arrived in an earlier try"):
        ledger.deliver_once("k", "triage", "mm", ["x"], sent.append)
    assert sent == []


def test_the_parts_after_an_uncertain_one_are_still_sent_once(ledger: NotificationLedger) -> None:
    """A split digest whose first part's answer was lost: the first is never re-sent, the others
    were never sent at all and go out (they used to be dropped, and a rerun ended green)."""
    sent: list[str] = []

    def first_lost(part: str) -> None:
        if part == "1":
            ambiguous(part)
        sent.append(part)

    with pytest.raises(
        UncertainDelivery, match=r"part 1/3: read timed out .*the other 2 part\(s\) were sent"
    ):
        ledger.deliver_once("k", "triage", "mm", ["1", "2", "3"], first_lost)
    assert sent == ["2", "3"]
    entry = ledger.get("k")
    assert entry is not None
    assert (entry.status, entry.parts_sent, len(entry.uncertain_parts)) == ("uncertain", 3, 1)
    rerun: list[str] = []
    with pytest.raises(UncertainDelivery, match="in an earlier try"):
        ledger.deliver_once("k", "triage", "mm", ["1", "2", "3"], rerun.append)
    assert rerun == []


def test_a_later_failure_keeps_the_uncertain_part_for_the_retry(ledger: NotificationLedger) -> None:
    def lost_then_refused(part: str) -> None:
        if part == "1":
            ambiguous(part)
        raise ConnectionRefusedError("refused")

    with pytest.raises(
        WritesFailed, match=r"part 2/2 was not sent \(no part before it was sent, part 1/2: .*\): refused$"
    ):
        ledger.deliver_once("k", "triage", "mm", ["1", "2"], lost_then_refused, owner="o")
    sent: list[str] = []
    with pytest.raises(UncertainDelivery, match="part 1/2"):
        ledger.deliver_once("k", "triage", "mm", ["1", "2"], sent.append, owner="o")
    assert sent == ["2"]


def test_a_row_left_uncertain_before_later_parts_were_sent_on_sends_them(ledger: NotificationLedger) -> None:
    """Written by the version that stopped at an uncertain part: the parts after it never went out."""
    with pytest.raises(UncertainDelivery):
        ledger.deliver_once("k", "triage", "mm", ["1", "2", "3"], ambiguous)
    ledger._update("k", parts_sent=0, uncertain_parts=None, last_error="part 1/3: reset")  # as it was left
    sent: list[str] = []
    with pytest.raises(UncertainDelivery, match="part 1/3: reset"):
        ledger.deliver_once("k", "triage", "mm", ["1", "2", "3"], sent.append)
    assert sent == ["2", "3"]


def test_an_ambiguous_write_that_arrived_is_recorded_sent(ledger: NotificationLedger) -> None:
    result = ledger.deliver_once("k", "thank", "uv", ["x"], ambiguous, read_back=lambda _: True)
    assert result.status == "sent"
    again: list[str] = []
    assert ledger.deliver_once("k", "thank", "uv", ["x"], again.append).status == "already_sent"
    assert again == []


def test_an_ambiguous_write_not_found_upstream_is_sent_again(ledger: NotificationLedger) -> None:
    with pytest.raises(AmbiguousWrite):
        ledger.deliver_once("k", "thank", "uv", ["x"], ambiguous, read_back=lambda _: False)
    sent: list[str] = []
    result = ledger.deliver_once("k", "thank", "uv", ["x"], sent.append, read_back=lambda _: False)
    assert (result.status, sent) == ("resumed", ["x"])


def test_a_resend_looks_the_write_up_first_and_finds_it_arrived_late(ledger: NotificationLedger) -> None:
    """Not found just after the failure, there by the retry (upstream processed it late): no resend."""
    with pytest.raises(AmbiguousWrite):
        ledger.deliver_once("k", "reply", "github", ["x"], ambiguous, read_back=lambda _: False)
    sent: list[str] = []
    result = ledger.deliver_once("k", "reply", "github", ["x"], sent.append, read_back=lambda _: True)
    assert (result.status, sent) == ("resumed", [])
    entry = ledger.get("k")
    assert entry is not None
    assert entry.status == "sent"


def lookup_fails(_: str) -> bool:
    raise ConnectionError("GET /issues/3/comments failed: read timeout")


def test_a_write_in_doubt_that_could_not_be_looked_up_is_looked_up_by_the_next_run(
    ledger: NotificationLedger,
) -> None:
    """The answer was lost and upstream could not be asked: the claim stayed held, so another run
    (a closeout triggered again) met "being sent by another worker" until the takeover timeout."""
    with pytest.raises(ConnectionError):
        ledger.deliver_once("k", "thank", "uv", ["x"], ambiguous, owner="run-a/post", read_back=lookup_fails)
    entry = ledger.get("k")
    assert entry is not None
    assert entry.status == "unconfirmed"
    assert entry.last_error is not None
    assert "may have arrived (read timed out" in entry.last_error
    assert "looking it up failed: GET /issues/3/comments" in entry.last_error
    sent: list[str] = []
    result = ledger.deliver_once(
        "k", "thank", "uv", ["x"], sent.append, owner="run-b/post", read_back=lambda _: True
    )
    assert (result.status, sent) == ("resumed", [])


def test_a_lookup_that_fails_again_keeps_the_write_in_doubt_and_sends_it_only_once_found_missing(
    ledger: NotificationLedger,
) -> None:
    with pytest.raises(ConnectionError):
        ledger.deliver_once("k", "thank", "uv", ["x"], ambiguous, owner="run-a/post", read_back=lookup_fails)
    sent: list[str] = []
    with pytest.raises(ConnectionError):
        ledger.deliver_once(
            "k", "thank", "uv", ["x"], sent.append, owner="run-b/post", read_back=lookup_fails
        )
    entry = ledger.get("k")
    assert entry is not None
    assert (entry.status, sent) == ("unconfirmed", [])
    assert entry.last_error is not None
    assert entry.last_error.count("looking it up failed") == 1  # the first doubt, the last lookup
    result = ledger.deliver_once(
        "k", "thank", "uv", ["x"], sent.append, owner="run-c/post", read_back=lambda _: False
    )
    assert (result.status, sent) == ("resumed", ["x"])


def test_a_first_send_never_reads_back(ledger: NotificationLedger) -> None:
    looked: list[str] = []

    def read_back(part: str) -> bool:
        looked.append(part)
        return True

    sent: list[str] = []
    ledger.deliver_once("k", "reply", "github", ["x"], sent.append, read_back=read_back)
    assert (sent, looked) == (["x"], [])


def test_errors_are_stored_without_secrets(ledger: NotificationLedger) -> None:
    def fail(_: str) -> None:
        raise ConnectionError("POST http://chat/hooks/s3cret-hook-id failed")

    with pytest.raises(ConnectionError):
        ledger.deliver_once(
            "k", "triage", "mm", ["x"], fail, redact=lambda t: t.replace("s3cret-hook-id", "***")
        )
    entry = ledger.get("k")
    assert entry is not None
    assert "s3cret" not in (entry.last_error or "")


def test_a_ledger_of_the_earlier_schema_gains_the_claim_columns(ledger_url: str) -> None:
    import sqlalchemy as sa

    url = ledger_url
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE community_notifications (key VARCHAR(512) PRIMARY KEY, kind VARCHAR(64) NOT NULL,"
                " target VARCHAR(256) NOT NULL, status VARCHAR(16) NOT NULL, parts TEXT NOT NULL,"
                " parts_sent INTEGER NOT NULL, created_at VARCHAR(40) NOT NULL, sent_at VARCHAR(40), last_error TEXT)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO community_notifications VALUES ('old', 'triage', 'mm', 'sent', '[\"x\"]', 1,"
                " '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00', NULL)"
            )
        )
    sent: list[str] = []
    ledger = NotificationLedger.from_url(url)
    assert ledger.deliver_once("old", "triage", "mm", ["x"], sent.append).status == "already_sent"
    assert ledger.deliver_once("new", "triage", "mm", ["y"], sent.append).status == "sent"
    assert sent == ["y"]


def test_workers_opening_a_new_ledger_at_once_all_get_it(ledger_url: str) -> None:
    """The first run's post tasks, on several workers, may each create the table at the same moment."""
    barrier = threading.Barrier(6)
    opened: list[NotificationLedger] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            opened.append(NotificationLedger.from_url(ledger_url))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    sent: list[str] = []
    for ledger in opened:
        ledger.deliver_once("k", "triage", "mm", ["x"], sent.append, owner="dag/run/post")
    assert sent == ["x"]


def test_entries_under_a_key_take_its_extensions_and_nothing_else(ledger: NotificationLedger) -> None:
    base = "community_daily_monitoring:triage:2026-11-18T09:00:00+00:00"
    for key in (
        base,
        base + ":recovered:forum",
        "community_daily_monitoring:triage:2026-11-19T09:00:00+00:00",
    ):
        ledger.deliver_once(key, "triage", "mattermost_cm", ["text"], lambda _: None)
    # "_" in a key is a character, not a LIKE wildcard.
    ledger.deliver_once(base.replace("_", "x", 1), "triage", "mattermost_cm", ["text"], lambda _: None)
    assert [e.key for e in ledger.entries_under(base)] == [base, base + ":recovered:forum"]
