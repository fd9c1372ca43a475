"""The ledger sends each message once across retries, reruns and repeated runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from community_monitoring.ledger import NotificationLedger


@pytest.fixture
def ledger(tmp_path: Path) -> NotificationLedger:
    return NotificationLedger.from_url(f"sqlite:///{tmp_path / 'ledger.db'}")


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
    with pytest.raises(ConnectionError):
        ledger.deliver_once("k", "help_wanted", "mm", ["part 1", "part 2", "part 3"], flaky)
    entry = ledger.get("k")
    assert entry is not None
    assert (entry.status, entry.parts_sent) == ("failed", 1)
    assert "webhook down" in (entry.last_error or "")
    # The rerun rendered different text (upstream changed); the stored parts are what goes out.
    result = ledger.deliver_once("k", "help_wanted", "mm", ["other 1", "other 2"], flaky)
    assert sent == ["part 1", "part 2", "part 3"]
    assert result.status == "resumed"


def test_ledger_survives_a_new_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    sent: list[str] = []
    NotificationLedger.from_url(url).deliver_once("k", "triage", "mm", ["x"], sent.append)
    NotificationLedger.from_url(url).deliver_once("k", "triage", "mm", ["x"], sent.append)
    assert sent == ["x"]
    assert [e.key for e in NotificationLedger.from_url(url).entries("triage")] == ["k"]
