"""A Mattermost target misspelt in the settings fails the run at its first task, before anything is
sent (SPEC §6), naming the key and the connection; the webhook id itself is never shown."""

from __future__ import annotations

import json

import pytest

from community_monitoring.errors import SettingsError
from community_monitoring.pipeline.common import check_mattermost_targets


def define(monkeypatch: pytest.MonkeyPatch, conn_id: str, conn: dict[str, object]) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def test_defined_targets_with_their_webhooks_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    define(monkeypatch, "mm_help", {"conn_type": "http", "host": "mm.test", "password": "hook-one"})
    define(
        monkeypatch, "mm_cm", {"conn_type": "http", "host": "mm.test", "extra": {"webhook_id": "hook-two"}}
    )
    check_mattermost_targets({"help_wanted": "mm_help", "triage": "mm_cm", "alert": "mm_cm"})


def test_an_undefined_or_hookless_target_is_named_and_its_webhook_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    define(monkeypatch, "mm_help", {"conn_type": "http", "host": "mm.test", "password": "secret-hook-id"})
    define(monkeypatch, "mm_nohook", {"conn_type": "http", "host": "mm.test"})
    monkeypatch.delenv("AIRFLOW_CONN_MM_CM_TYPO", raising=False)
    targets = {"help_wanted": "mm_help", "triage": "mm_cm_typo", "alert": "mm_nohook"}
    with pytest.raises(SettingsError) as raised:
        check_mattermost_targets(targets)
    message = str(raised.value)
    assert "mattermost.targets.triage: connection 'mm_cm_typo' is not defined" in message
    assert "mattermost.targets.alert: connection 'mm_nohook' has no webhook id" in message
    assert "help_wanted" not in message
    assert "secret-hook-id" not in message


def test_a_secrets_backend_that_fails_is_not_reported_as_a_missing_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.sdk.bases.hook import BaseHook

    def unreachable(conn_id: str) -> object:
        raise ConnectionError(f"secrets backend unreachable while reading {conn_id}")

    monkeypatch.setattr(BaseHook, "get_connection", unreachable)
    with pytest.raises(ConnectionError, match="secrets backend unreachable"):
        check_mattermost_targets({"triage": "mm_cm"})
