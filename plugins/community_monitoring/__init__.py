"""Community monitoring: watch community channels and post what needs an answer to Mattermost."""

from __future__ import annotations

CHANNEL_KEYS: tuple[str, ...] = ("github", "gitlab", "forum", "stackoverflow", "uservoice", "jira")
