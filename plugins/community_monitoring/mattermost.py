"""Post messages to Mattermost through incoming webhooks (one Airflow HTTP connection per channel).

The connection's host is the Mattermost server and its password the webhook id (the secret part
of ``https://chat.example.com/hooks/<id>``); ``extra`` may set ``username``, ``icon_url``, ``channel``.
"""

from __future__ import annotations

import logging
from typing import Any

from community_monitoring.sources.http import ApiClient, UpstreamError

log = logging.getLogger(__name__)


class MattermostWebhook:
    def __init__(self, conn_id: str, username: str = "Community Monitor") -> None:
        self.conn_id = conn_id
        self.username = username
        self._api = ApiClient(conn_id, f"mattermost ({conn_id})")
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
            self._extra = {k: extra[k] for k in ("username", "icon_url", "channel") if extra.get(k)}
            self._endpoint = f"/hooks/{hook_id}"
        return self._endpoint

    def post(self, text: str) -> None:
        endpoint = self._resolve()
        body = {"text": text, "username": self.username, **self._extra}
        response = self._api.post_json(endpoint, body)
        if response.status != 200:
            raise UpstreamError(self._api.service, "POST", "/hooks/…", response.status, response.text[:200])
