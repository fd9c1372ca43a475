"""Small builders for records and settings used across the tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from community_monitoring.records import JiraTicket, Post, Release, Reply
from community_monitoring.roster import StaffRoster
from community_monitoring.settings import load_settings

T = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
SETTINGS = load_settings()
ROSTER = StaffRoster.parse(
    {
        "github": ["staffer"],
        "forum": ["forum.staffer"],
        "bots": ["helper-bot"],
        "gitlab": [],
        "stackoverflow": [],
    }
)


def ago(days: float = 0, hours: float = 0) -> datetime:
    return T - timedelta(days=days, hours=hours)


def reply(author: str = "someone", at: datetime | None = None, **kwargs: Any) -> Reply:
    created = at or ago(hours=1)
    return Reply(
        reply_id=kwargs.pop("reply_id", f"{author}-{created.isoformat()}"),
        author=author,
        created_at=created,
        **kwargs,
    )


def post(
    channel: str = "github",
    author: str = "alice",
    created: datetime | None = None,
    replies: tuple[Reply, ...] = (),
    **kwargs: Any,
) -> Post:
    number = kwargs.pop("number", 1)
    return Post(
        channel=channel,
        source_id=kwargs.pop("source_id", f"o/r#{number}"),
        url=kwargs.pop("url", f"https://example.test/{channel}/{number}"),
        title=kwargs.pop("title", "Something is wrong"),
        author=author,
        created_at=created or ago(days=3),
        replies=replies,
        number=number,
        **kwargs,
    )


def jira_ticket(
    key: str = "MM-61501", summary: str = "Schedule messages to be sent later", **kwargs: Any
) -> JiraTicket:
    """A ticket, by default resolved Done in v11.1 (shipped once ``release("v11.1.0", …)`` is out)."""
    fields: dict[str, Any] = {
        "status": "Done",
        "status_category": "Done",
        "resolution": "Fixed",
        "fix_versions": ("v11.1",),
        "labels": (),
        "linked_urls": (),
        **kwargs,
    }
    return JiraTicket(key=key, url=f"https://jira.test/browse/{key}", summary=summary, **fields)


def release(tag: str, days_ago: float, **kwargs: Any) -> Release:
    return Release(tag=tag, name=tag, published_at=ago(days=days_ago), **kwargs)


# A new feature proposal that the default ``jira_ticket`` (shipped in 11.1) is about.
SCHEDULE_IDEA = post(
    title="Feature request: schedule a message to be sent later",
    body="It would be nice to schedule messages so they are sent later, e.g. tomorrow morning.",
    number=11,
    created=ago(hours=2),
)


# Words that answer: a reply with a body that is no me-too (``reply`` has an empty body).
ANSWER_TEXT = "Try restarting the server with the new TLS settings; that usually clears it."


def answer(
    author: str = "someone", at: datetime | None = None, body: str = ANSWER_TEXT, **kwargs: Any
) -> Reply:
    """A substantive reply: it says something beyond a me-too."""
    return reply(author, at=at, body=body, **kwargs)


# The Postgres variant of a database test needs an empty database it may drop tables in: ``make
# test-cluster`` starts a server and names one here; without it those variants are skipped, saying so.
POSTGRES_URL_VARIABLE = "COMMUNITY_TEST_POSTGRES_URL"


def database_url(kind: str, folder: Path, table: str) -> Iterator[str]:
    """For a fixture: the URL of a database without ``table``: a SQLite file in ``folder``
    (``kind`` "sqlite"), or the test Postgres database with the table dropped before and after;
    a test asking for Postgres without one is skipped."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'ledger.db'}"
        return
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"no Postgres server: {POSTGRES_URL_VARIABLE} is not set (make test-cluster sets it)")
    engine = sa.create_engine(url)

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))

    drop()
    try:
        yield url
    finally:
        drop()
        engine.dispose()


def rsa_private_key() -> str:
    """A fresh PEM private key a GitHub App connection can sign its tokens with."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode()
