"""Credentials of the product's connections never reach a message, the ledger or an archive, even
when an upstream text carries one (SPEC §6): the outbox's redaction knows every connection's."""

from __future__ import annotations

import json

import pytest

from builders import SETTINGS
from community_monitoring.channels import CHANNELS
from community_monitoring.pipeline.run import connection_secrets, product_redactor


def define(monkeypatch: pytest.MonkeyPatch, conn_id: str, conn: dict[str, object]) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def test_each_connection_gives_its_password_and_its_extras_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    define(monkeypatch, "cm_hook", {"conn_type": "http", "host": "mm.test", "password": "hook-id-one"})
    define(
        monkeypatch,
        "cm_forum",
        {
            "conn_type": "http",
            "host": "forum.test",
            "extra": {
                "Api-Key": "forum-api-key-1",
                "Api-Username": "system",
                "client_secret": "shh-shh-2",
                "ssh_passphrase": "phrase-3",
                "Authorization": "Basic abc-4",
            },
        },
    )
    define(monkeypatch, "cm_short", {"conn_type": "http", "host": "x.test", "password": "k"})
    monkeypatch.delenv("AIRFLOW_CONN_CM_MISSING", raising=False)
    found = connection_secrets(["cm_hook", "cm_forum", "cm_short", "cm_missing", "cm_hook"])
    # Not the user name; not a one-letter password (every "k" of a message would become "***").
    assert found == ("Basic abc-4", "forum-api-key-1", "hook-id-one", "phrase-3", "shh-shh-2")


def test_the_product_redactor_hides_every_connection_credential_in_a_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The task that posts has not read the sources' connections: their credentials are still hidden."""
    github_conn = next(conn for conn in CHANNELS["github"].connections)
    cm_target = SETTINGS.mattermost.targets["triage"]
    define(monkeypatch, github_conn, {"conn_type": "github", "password": "ghp_0123456789abcdef"})
    define(
        monkeypatch, cm_target, {"conn_type": "http", "host": "chat.example.com", "password": "cm-hook-9z8y"}
    )
    redact = product_redactor(SETTINGS)
    text = "Webhook broken: https://chat.example.com/hooks/cm-hook-9z8y (token ghp_0123456789abcdef)"
    assert redact(text) == "Webhook broken: https://chat.example.com/hooks/*** (token ***)"
    assert redact("nothing secret here") == "nothing secret here"


@pytest.mark.parametrize(
    ("title", "author", "shown_title", "shown_author"),
    [
        pytest.param(
            "Hook https://chat.example.com/hooks/cm-hook-9z8y fails",
            "alice",
            "Hook https://chat.example.com/hooks/*** fails",
            "alice",
            id="a webhook URL in the title",
        ),
        pytest.param("Login fails", "cm-hook-9z8y", "Login fails", "***", id="a credential as the author"),
        pytest.param("Login fails", "alice", "Login fails", "alice", id="nothing secret: the row as it was"),
        pytest.param(
            "Posting to /hooks/cm%2Dhook%2D9z8y fails",
            "alice",
            "Posting to /hooks/*** fails",
            "alice",
            id="URL-encoded: the quick search finds the forms the scrubber hides",
        ),
    ],
)
def test_the_state_tables_rows_show_no_credential(
    monkeypatch: pytest.MonkeyPatch, title: str, author: str, shown_title: str, shown_author: str
) -> None:
    """The Community page reads the state table: its rows pass the messages' redactor."""
    from datetime import UTC, datetime

    from community_monitoring.health import StateRow
    from community_monitoring.pipeline.health import shown_rows

    cm_target = SETTINGS.mattermost.targets["triage"]
    define(
        monkeypatch, cm_target, {"conn_type": "http", "host": "chat.example.com", "password": "cm-hook-9z8y"}
    )
    at = datetime(2026, 11, 18, 9, tzinfo=UTC)
    row = StateRow("github", "o/r#1", "https://example.test/1", title, author, "bug", at, None, None,
                   "unanswered", "", "", 0, at)  # fmt: skip
    # As the task reads them: the redactor only where one search finds a credential.
    [shown] = shown_rows([row], product_redactor(SETTINGS, only_where_found=True))
    assert (shown.title, shown.author) == (shown_title, shown_author)
    assert (shown.channel, shown.source_id, shown.url, shown.as_of) == (
        row.channel,
        row.source_id,
        row.url,
        at,
    )
    if (title, author) == (shown_title, shown_author):
        assert shown is row
