"""Reply drafts go upstream only where switched on, only once per post, whatever runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import CONFIG, post
from community_monitoring.config import ConfigError, load_config
from community_monitoring.ledger import NotificationLedger
from community_monitoring.records import Post
from community_monitoring.replies import channels_posting_replies, post_replies


def test_off_by_default() -> None:
    assert channels_posting_replies(CONFIG) == frozenset()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"forum": True}, r"cannot be posted to: \['forum'\]"),
        ({"github": "yes"}, r"'replies.post_upstream.github' must be true or false"),
    ],
)
def test_bad_setting_is_named(setting: dict, message: str) -> None:
    config = load_config(overrides={"replies": {"post_upstream": setting}})
    with pytest.raises(ConfigError, match=message):
        channels_posting_replies(config)


def test_each_post_gets_one_reply_across_runs(tmp_path: Path) -> None:
    ledger = NotificationLedger.from_url(f"sqlite:///{tmp_path / 'ledger.db'}")
    sent: list[tuple[str, str]] = []

    def sender() -> object:
        return lambda p, body: sent.append((p.url, body))

    senders = {"github": sender, "gitlab": sender}
    items: list[tuple[Post, str]] = [
        (post(number=1), "Hi alice"),
        (post(number=2, channel="gitlab"), "Hi bob"),
        (post(number=3, channel="forum"), "Hi carol"),
    ]
    first = post_replies(items, frozenset({"github"}), ledger, senders)
    second = post_replies(items, frozenset({"github"}), ledger, senders)
    assert sent == [("https://example.test/github/1", "Hi alice")]
    assert first == {"github": 1}
    assert second == {"github": 0}
