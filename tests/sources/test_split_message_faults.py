"""A digest split into several posts (SPEC §7 "(2/3)") whose part 2 fails, then its task's retry and a
rerun of its T, through the real webhook client, the ledger and the sandbox (SPEC §6): part 1 is never
sent again; a part that may have arrived (a 5xx, a reset, a stall after it was sent) is never re-sent
and every try says which part it is; a part provably not taken (a refusal) is sent by the next try, and
only it and the parts after it. No error names the webhook id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_endpoint_faults import HOOK_ID, WRITE_POLICY, connection, write_scenario_for

from community_monitoring.errors import UncertainDelivery, WritesFailed
from community_monitoring.ledger import NotificationLedger
from community_monitoring.mattermost import MattermostWebhook
from community_sandbox import Sandbox

KEY = "community_daily_monitoring:triage:2026-11-18T09:00:00+00:00"
PARTS = [f"[Triage] ({n}/3)\n\nitems of part {n}" for n in (1, 2, 3)]
# Part 2 only, on each request the first try makes for it (a 3-attempt policy retries
# only a 503 or 429 within the wait allowed); the hook takes posts again after that.
IN_DOUBT: dict[str, dict[str, Any]] = {
    "500": {"status": 500},
    "reset": {"kind": "reset"},
    "stall past the read timeout": {"kind": "stall", "seconds": 2},
}
REFUSED: dict[str, dict[str, Any]] = {
    "403 (the hook refused)": {"status": 403, "times": 1},
    "429 asking for longer than allowed": {"status": 429, "retry_after": 100, "times": 1},
    "503 past the retries": {"status": 503, "retry_after": 1, "times": 3},
}


@pytest.fixture
def digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[Sandbox, Callable[[str], Any]]]:
    """``digest(fault)`` → (the sandbox, ``deliver(owner)``: one try of the split digest)."""
    started: list[Sandbox] = []

    def start(fault: dict[str, Any]) -> tuple[Sandbox, Callable[[str], Any]]:
        # The first post goes through (a slow answer after no wait), the fault takes the next.
        hook = {"service": "mattermost", "method": "POST", "path": r"^/hooks/"}
        part_1 = {**hook, "kind": "slow", "seconds": 0, "times": 1}
        faults = [part_1, {**hook, **fault}]
        running = Sandbox(write_scenario_for(tmp_path / "s", faults)).start()
        started.append(running)
        connection(monkeypatch, running.base_url, password=HOOK_ID)
        ledger = NotificationLedger.from_url(f"sqlite:///{tmp_path / 'ledger.db'}")

        def deliver(owner: str) -> Any:
            post = MattermostWebhook("w_t", http=WRITE_POLICY, sleep=lambda _: None).post
            return ledger.deliver_once(KEY, "triage", "w_t", PARTS, post, owner=owner)

        return running, deliver

    yield start
    for running in started:
        running.stop()


def posted(running: Sandbox) -> list[str]:
    return [entry["body"]["text"].split("\n", 1)[0] for entry in running.outbox]


@pytest.mark.parametrize("kind", list(IN_DOUBT))
def test_a_part_in_doubt_is_named_never_resent_and_the_rest_go_out_once(digest: Any, kind: str) -> None:
    running, deliver = digest({"times": 1, **IN_DOUBT[kind]})
    errors = []
    for owner in ("daily/run-1/post_triage_list/1", "daily/run-1/post_triage_list/2", "daily/run-2/post"):
        with pytest.raises(UncertainDelivery) as err:
            deliver(owner)
        errors.append(str(err.value))
    tried = [r for r in running.requests_log if r["path"].startswith("/hooks/")]
    # Part 2 was sent once (it may have arrived): never again, by the retry or the rerun.
    assert len(tried) == 3, [(r["fault"], r["status"]) for r in tried]
    assert [p for p in posted(running) if p != "[Triage] (2/3)"] == ["[Triage] (1/3)", "[Triage] (3/3)"]
    assert "part 2/3: " in errors[0], errors[0]
    assert "the other 2 part(s) were sent" in errors[0], errors[0]
    for error in errors[1:]:
        assert "part 2/3: " in error, error
        assert "not sent again" in error, error
    assert not [e for e in errors if HOOK_ID in e]


@pytest.mark.parametrize("kind", list(REFUSED))
def test_a_part_refused_is_named_and_the_next_try_sends_it_and_the_rest_only(digest: Any, kind: str) -> None:
    running, deliver = digest(REFUSED[kind])
    # Which part was not sent, and that the one before it was: the alert shows this error.
    with pytest.raises(
        WritesFailed,
        match=rf"^{re.escape(KEY)} part 2/3 was not sent \(1 part\(s\) before it were sent; .*\): mattermost \(w_t\): POST /hooks/… ",
    ) as first:
        deliver("daily/run-1/post_triage_list/1")
    assert posted(running) == ["[Triage] (1/3)"]
    assert HOOK_ID not in str(first.value)
    # The run is cleared (or its task retried) once the hook takes posts again.
    assert deliver("daily/run-2/post_triage_list/1").status == "resumed"
    assert deliver("daily/run-3/post_triage_list/1").status == "already_sent"
    assert posted(running) == ["[Triage] (1/3)", "[Triage] (2/3)", "[Triage] (3/3)"]
