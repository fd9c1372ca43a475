"""Post messages to Mattermost through incoming webhooks (one Airflow HTTP connection per channel).

The connection's host is the Mattermost server and its password the webhook id (the secret part
of ``https://chat.example.com/hooks/<id>``); ``extra`` may set ``username``, ``icon_url``, ``channel``.

A webhook post cannot be read back, so it is re-sent only when Mattermost provably did not get
it: connection refused or a connect timeout (nothing was sent), 429 or 503. After a read timeout,
a connection reset once the post was sent, another 5xx, or a 2xx that is not Mattermost's own
``ok`` (something answered in its place), ``AmbiguousWriteError`` is raised and nothing is
re-sent (the outbox records the post as uncertain). The webhook id is a secret: errors
and log lines show ``/hooks/…``, and it is handed to Airflow's secrets masker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from community_monitoring.sources.http import AmbiguousWriteError, ApiClient, HttpPolicy, UpstreamError

log = logging.getLogger(__name__)

HOOK_PREFIX = "/hooks/"
SHOWN_ENDPOINT = "/hooks/…"
# What Mattermost answers to every webhook post it took (200, text/plain).
WEBHOOK_OK = "ok"


# What to do about Mattermost's own refusals of a webhook post (the ``id`` of its error answer).
WEBHOOK_HINTS = {
    "web.incoming_webhook.invalid.app_error": (
        "the webhook was deleted or its id is wrong: put the current id (the part after /hooks/) "
        "in connection {conn}'s password"
    ),
    "web.incoming_webhook.disabled.app_error": (
        "incoming webhooks are turned off on this server: a system admin turns them on "
        "(System Console > Integrations > Integration Management); nothing was posted"
    ),
    "web.incoming_webhook.channel.app_error": (
        "the channel named in connection {conn}'s extra 'channel' does not exist (renamed, archived?)"
    ),
    "app.channel.get.existing.app_error": "the webhook's channel no longer exists: make a new webhook",
    "web.incoming_webhook.channel_locked.app_error": (
        "the webhook is locked to its own channel: remove 'channel' from connection {conn}'s extra"
    ),
    "web.incoming_webhook.permissions.app_error": (
        "the webhook's owner may not post in that channel: add them to it or make a new webhook"
    ),
    "web.incoming_webhook.user.app_error": "the webhook's owner is deactivated: make a new webhook",
}


def _with_hint(exc: UpstreamError, conn_id: str) -> UpstreamError:
    """``exc`` with what to do, when Mattermost named its refusal (its error's ``id``)."""
    body = exc.error_body
    hint = WEBHOOK_HINTS.get(str(body.get("id"))) if isinstance(body, dict) else None
    if hint is None:
        return exc
    hinted = type(exc)(
        exc.service, exc.method, exc.endpoint, exc.status, f"{exc.detail}; {hint.format(conn=repr(conn_id))}"
    )
    hinted.error_body = body
    return hinted


def _shown(endpoint: str) -> str:
    return SHOWN_ENDPOINT if endpoint.startswith(HOOK_PREFIX) else endpoint.split("?", 1)[0]


class MattermostWebhook:
    def __init__(
        self,
        conn_id: str,
        username: str = "Community Monitor",
        *,
        http: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``http``: the ``http`` settings section (timeouts and retry bounds; defaults otherwise)."""
        self.conn_id = conn_id
        self.username = username
        self._api = ApiClient(
            conn_id,
            f"mattermost ({conn_id})",
            policy=HttpPolicy.from_settings(http),
            shown_endpoint=_shown,
            sleep=sleep,
        )
        self._endpoint: str | None = None
        self._extra: dict[str, Any] = {}

    def _resolve(self) -> str:
        if self._endpoint is None:
            from airflow.sdk.bases.hook import BaseHook

            conn = BaseHook.get_connection(self.conn_id)
            extra = conn.extra_dejson or {}
            hook_id = conn.password or extra.get("webhook_id")
            if not hook_id:
                raise ValueError(
                    f"connection {self.conn_id!r} has no webhook id: put it in the password field "
                    "(the part after /hooks/ of the incoming webhook URL)"
                )
            self._api.add_secrets([str(hook_id)])
            self._extra = {k: extra[k] for k in ("username", "icon_url", "channel") if extra.get(k)}
            self._endpoint = f"{HOOK_PREFIX}{hook_id}"
        return self._endpoint

    def post(self, text: str) -> None:
        """One webhook post; raises UpstreamError (or AmbiguousWriteError: it may have been posted)."""
        endpoint = self._resolve()
        body = {"text": text, "username": self.username, **self._extra}
        try:
            answer = self._api.post_json(endpoint, body)
        except UpstreamError as exc:
            raise _with_hint(exc, self.conn_id) from None
        if answer.text.strip().lower() != WEBHOOK_OK:
            # Mattermost answers every post it took with "200 ok" (text/plain), in every version.
            # Another 2xx came from something in its place (a gateway's or single sign-on's JSON, a
            # proxy that queues): whether the post reached the channel cannot be told, nor read back.
            # Scrubbed whole before it is cut: an id the answer echoes across the cut would show its start.
            shown = " ".join(self._api.scrub_start(answer.text, 400).split())[:200] or "(empty body)"
            detail = (
                f'not Mattermost\'s "ok" but {shown!r}: something else may have '
                "taken the post in its place, so it may not have arrived; it is not re-sent"
            )
            raise self._api.call("POST", endpoint).error(answer.status, detail, AmbiguousWriteError)
