"""A reply draft posted upstream (a GitHub comment, a GitLab note), through the real client and the
sandbox: a 2xx that does not show the comment made is no proof it was made (SPEC §6)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from community_monitoring.ledger import NotificationLedger
from community_monitoring.sources import github, gitlab
from community_monitoring.sources.http import AmbiguousWriteError
from community_sandbox import Sandbox
from scenario_files import days, github_issue, write_scenario
from scenario_files_more import gitlab_issue, write_more_scenario

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)
WHERE = {"github": "mattermost/mattermost", "gitlab": "acme/widgets"}
KEY = "reply:{channel}:{where}#3"


def scenario(root: Path, channel: str, faults: list[dict[str, Any]]) -> Path:
    where = WHERE[channel]
    if channel == "github":
        issue = github_issue(where, 3, "Blank window", "asker", NOW - days(1))
        return write_scenario(root, NOW, github={where: {"issues": [issue]}}, faults=faults)
    issue = gitlab_issue(where, 3, "Blank window", "asker", NOW - days(1))
    return write_more_scenario(root, NOW, gitlab={where: {"issues": [issue], "notes": []}}, faults=faults)


@pytest.fixture
def replying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, list[dict[str, Any]]], tuple[Sandbox, Callable[[], Any]]]]:
    """Start a sandbox of ``channel`` with ``faults``; returns it and one delivery of the reply
    through the ledger, with the source's sender and reader (a task's try: call it again to retry)."""
    started: list[Sandbox] = []

    def start(channel: str, faults: list[dict[str, Any]]) -> tuple[Sandbox, Callable[[], Any]]:
        running = Sandbox(scenario(tmp_path / channel, channel, faults)).start()
        started.append(running)
        host = f"{running.base_url}/api/v3" if channel == "github" else f"{running.base_url}/gitlab/"
        conn = {"conn_type": channel if channel == "github" else "http", "host": host, "password": "t0ken"}
        monkeypatch.setenv("AIRFLOW_CONN_REPLY_TEST", json.dumps(conn))
        source = github if channel == "github" else gitlab
        send, has_reply = source.reply_sender("reply_test"), source.reply_reader("reply_test")
        where = WHERE[channel]
        key = KEY.format(channel=channel, where=where)
        text = f"Thanks for the report!\n\n<!-- community-monitoring:{key} -->"
        ledger = NotificationLedger.from_url(f"sqlite:///{tmp_path / 'ledger.db'}")

        def deliver() -> Any:
            return ledger.deliver_once(
                key,
                "upstream_reply",
                channel,
                [text],
                lambda part: send(where, 3, part),
                read_back=lambda _: has_reply(where, 3, f"<!-- community-monitoring:{key} -->"),
            )

        return running, deliver

    yield start
    for running in started:
        running.stop()


def made(running: Sandbox) -> list[str]:
    return [e["body"]["body"] for e in running.outbox if e["method"] == "POST"]


@pytest.mark.parametrize("channel", ["github", "gitlab"])
@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(201, "", id="201 with no body"),
        pytest.param(201, {}, id="201 with an empty object"),
        pytest.param(202, {"status": "queued"}, id="a gateway's 202 that queued it"),
        pytest.param(200, [], id="200 with a list"),
    ],
)
def test_a_2xx_that_does_not_show_the_comment_made_is_read_back_not_taken_as_made(
    replying: Callable[[str, list[dict[str, Any]]], tuple[Sandbox, Callable[[], Any]]],
    channel: str,
    status: int,
    body: Any,
) -> None:
    """Something in the service's place answered (a gateway, a proxy that queues) and the comment is
    not there: taken as made, the reply was lost for good (its key recorded sent). It is looked up:
    not found, the try fails and the retry posts it, once."""
    fault = {
        "service": channel,
        "method": "POST",
        "path": r"/issues/3/(comments|notes)$",
        "kind": "body",
        "status": status,
        "body": body,
        "content_type": "application/json",
        "times": 1,
    }
    running, deliver = replying(channel, [fault])
    with pytest.raises(AmbiguousWriteError, match=r"does not show the (comment|note) made"):
        deliver()
    assert made(running) == []
    assert deliver().status == "resumed"
    assert deliver().status == "already_sent"
    assert len(made(running)) == 1


@pytest.mark.parametrize("channel", ["github", "gitlab"])
def test_the_services_own_answer_is_a_comment_made(
    replying: Callable[[str, list[dict[str, Any]]], tuple[Sandbox, Callable[[], Any]]], channel: str
) -> None:
    running, deliver = replying(channel, [])
    assert deliver().status == "sent"
    assert len(made(running)) == 1
    assert not [r for r in running.requests_log if r["method"] == "GET"]  # nothing looked up
