"""UserVoice (v2 admin API): suggestions, statuses, comments, status updates, through HttpHook.

The connection holds the API client's id (login) and secret (password). UserVoice wants a bearer
token from ``/api/v2/oauth/token``; :class:`UserVoiceTokenAuth` fetches and caches it, so every
HttpHook request carries ``Authorization: Bearer ...`` instead of Basic auth.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from community_monitoring.records import Post, Reply
from community_monitoring.sources import Fetched, FetchRequest
from community_monitoring.sources.http import (
    RETRY_STATUSES,
    ApiClient,
    UpstreamError,
    http_base_delay,
    http_max_attempts,
    retry_after_seconds,
)
from community_monitoring.timeutil import parse_time

log = logging.getLogger(__name__)

USERVOICE_CONN_ID = "uservoice_default"
USERVOICE_SALES_CONN_ID = "uservoice_sales"
API_PREFIX = "/api/v2"
PER_PAGE = 100
MAX_PAGES = 10_000


class UserVoiceTokenAuth(AuthBase):
    """Client-credentials bearer token, fetched once per (site, client) and reused."""

    _tokens: ClassVar[dict[tuple[str, str], str]] = {}
    _lock = threading.Lock()

    def __init__(self, client_id: str | None = None, client_secret: str | None = None) -> None:
        # HttpHook calls auth_type() with no arguments when the connection has no login.
        if not client_id or not client_secret:
            raise ValueError(
                "uservoice: the connection needs the API client id as login and its secret as password"
            )
        self.client_id = client_id
        self.client_secret = client_secret

    @staticmethod
    def _site(url: str) -> str:
        parts = urlsplit(url)
        path = parts.path.split(API_PREFIX + "/", 1)[0]
        return f"{parts.scheme}://{parts.netloc}{path}"

    def token(self, site: str) -> str:
        key = (site, self.client_id)
        with self._lock:
            if key not in self._tokens:
                self._tokens[key] = self._request_token(site)
            return self._tokens[key]

    def _request_token(self, site: str) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        attempts = http_max_attempts()
        for attempt in range(1, attempts + 1):
            try:
                response = requests.post(f"{site}{API_PREFIX}/oauth/token", data=form, timeout=30)
            except requests.RequestException as exc:
                if attempt == attempts:
                    raise UpstreamError(
                        "uservoice", "POST", "/oauth/token", 0, f"unreachable: {exc}"
                    ) from exc
                time.sleep(http_base_delay() * 2 ** (attempt - 1))
                continue
            if response.status_code == 200:
                return str(response.json()["access_token"])
            if response.status_code not in RETRY_STATUSES or attempt == attempts:
                raise UpstreamError(
                    "uservoice", "POST", "/oauth/token", response.status_code, response.text[:200]
                )
            wait = retry_after_seconds(response.headers)
            time.sleep(wait if wait is not None else http_base_delay() * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token(self._site(str(request.url)))}"
        return request


class UserVoiceClient:
    def __init__(self, api: ApiClient) -> None:
        self._api = api

    @classmethod
    def from_connection(cls, conn_id: str = USERVOICE_CONN_ID) -> UserVoiceClient:
        return cls(ApiClient(conn_id, f"uservoice ({conn_id})", auth_type=UserVoiceTokenAuth))

    @property
    def request_count(self) -> int:
        return self._api.request_count

    def _pages(
        self, endpoint: str, key: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        for page in range(1, MAX_PAGES):
            data = self._api.get_json(
                f"{API_PREFIX}{endpoint}", {**(params or {}), "page": page, "per_page": PER_PAGE}
            ).data
            data = data or {}
            yield from data.get(key) or []
            pagination = data.get("pagination") or {}
            if page >= int(pagination.get("total_pages") or 0):
                return

    def statuses(self) -> dict[int, str]:
        data = self._api.get_json(f"{API_PREFIX}/admin/statuses").data or {}
        return {int(s["id"]): str(s["name"]) for s in data.get("statuses") or []}

    def categories(self) -> dict[int, str]:
        return {
            int(c["id"]): str(c.get("name") or "") for c in self._pages("/admin/categories", "categories")
        }

    def users(self) -> dict[int, str]:
        return {
            int(u["id"]): str(u.get("name") or u.get("email") or u["id"])
            for u in self._pages("/admin/users", "users")
        }

    def suggestions(self) -> Iterator[dict[str, Any]]:
        yield from self._pages("/admin/suggestions", "suggestions")

    def comments(self) -> Iterator[dict[str, Any]]:
        yield from self._pages("/admin/comments", "comments")

    def status_updates(self, suggestion_id: int) -> list[dict[str, Any]]:
        data = (
            self._api.get_json(f"{API_PREFIX}/admin/status_updates", {"suggestion": suggestion_id}).data or {}
        )
        return list(data.get("status_updates") or [])

    def post_status_update(
        self, suggestion_id: int, status_id: int, body: str, notify: bool = True
    ) -> dict[str, Any]:
        payload = {
            "status_update": {
                "body": body,
                "notify_supporters": notify,
                "links": {"suggestion": suggestion_id, "status": status_id},
            }
        }
        response = self._api.post_json(f"{API_PREFIX}/admin/status_updates", payload)
        updates = (response.data or {}).get("status_updates") or [{}]
        return dict(updates[0])


def normalise_suggestion(
    raw: dict[str, Any],
    statuses: dict[int, str],
    categories: dict[int, str],
    users: dict[int, str],
    comments: list[dict[str, Any]],
) -> Post:
    links = raw.get("links") or {}
    creator_id = links.get("created_by")
    creator = users.get(int(creator_id), str(creator_id)) if creator_id is not None else "anonymous"
    status_id = links.get("status")
    closed_at = raw.get("closed_at")
    replies = [
        Reply(
            reply_id=str(c["id"]),
            author=users.get(int((c.get("links") or {}).get("created_by") or 0), "anonymous"),
            created_at=parse_time(c["created_at"]),
            body=str(c.get("body") or ""),
            kind="comment",
        )
        for c in comments
    ]
    return Post(
        channel="uservoice",
        source_id=str(raw["id"]),
        url=str(raw.get("portal_url") or ""),
        title=str(raw.get("title") or ""),
        body=str(raw.get("body") or ""),
        author=creator,
        created_at=parse_time(raw["created_at"]),
        state="closed" if closed_at else "open",
        closed_at=parse_time(closed_at) if closed_at else None,
        category=categories.get(int(links["category"]), "") if links.get("category") else "",
        labels=tuple(str(label) for label in links.get("labels") or ()),
        container="uservoice",
        replies=tuple(sorted(replies, key=lambda r: (r.created_at, r.reply_id))),
        number=int(raw["id"]),
        status=statuses.get(int(status_id), "") if status_id is not None else "",
        admin_responded=bool(raw.get("admin_response")),
    )


def fetch_uservoice_suggestions(client: UserVoiceClient, until: datetime) -> Iterator[Post]:
    """Every suggestion created by ``until`` with its comments, statuses and categories resolved."""
    statuses = client.statuses()
    categories = client.categories()
    users = client.users()
    by_suggestion: dict[int, list[dict[str, Any]]] = {}
    for comment in client.comments():
        suggestion = (comment.get("links") or {}).get("suggestion")
        if suggestion is not None:
            by_suggestion.setdefault(int(suggestion), []).append(comment)
    count = 0
    for raw in client.suggestions():
        if parse_time(raw["created_at"]) > until:
            continue
        count += 1
        yield normalise_suggestion(raw, statuses, categories, users, by_suggestion.get(int(raw["id"]), []))
    log.info("UserVoice: %d suggestions in %d requests", count, client.request_count)


def fetch(request: FetchRequest) -> Fetched:
    """Every suggestion created by T (the review needs old ones too), and the statuses upstream has."""
    client = UserVoiceClient.from_connection()
    statuses = client.statuses()
    return Fetched(posts=fetch_uservoice_suggestions(client, request.until), statuses=statuses)
