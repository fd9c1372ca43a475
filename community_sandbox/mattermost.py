"""Mattermost incoming webhooks: ``POST /hooks/{id}`` answers ``200 ok`` like the real server.

There are no files: what matters is what the product posts, which the server records in the
outbox (only accepted posts: a rejected one never reached the channel).
"""

from __future__ import annotations

import json
from typing import Any

from community_sandbox.routing import (
    Request,
    Response,
    Service,
    ServiceContext,
    json_response,
    reason,
    text_response,
)

ERROR_IDS = {
    400: "web.incoming_webhook.text.app_error",
    404: "api.context.404.app_error",
    429: "api.context.rate_limit.app_error",
}


class MattermostService(Service):
    name = "mattermost"
    prefix = "/hooks"

    def __init__(self, data: Any, context: ServiceContext) -> None:
        super().__init__(data, context)
        self.route("POST", r"/(?P<hook_id>[A-Za-z0-9_-]+)", self.post_webhook)

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: int | None = None
    ) -> Response:
        text = message or ("Sorry, we could not find the page." if status == 404 else reason(status))
        body = {
            "id": ERROR_IDS.get(status, "web.incoming_webhook.error"),
            "message": text,
            "detailed_error": "",
            "request_id": "",
            "status_code": status,
        }
        return json_response(body, status)

    def post_webhook(self, request: Request) -> Response:
        # Mattermost accepts a JSON body or a form field ``payload`` holding the same JSON.
        try:
            if "application/x-www-form-urlencoded" in request.header("content-type"):
                payload = json.loads((request.form().get("payload") or ["null"])[-1])
            else:
                payload = request.json()
        except ValueError:
            return self.error_response(400, "Unable to parse incoming data")
        if not isinstance(payload, dict):
            return self.error_response(400, "Unable to parse incoming data")
        text = payload.get("text")
        if not (isinstance(text, str) and text.strip()) and not payload.get("attachments"):
            return self.error_response(400, "No text specified")
        return text_response("ok")
