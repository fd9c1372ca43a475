"""The point-in-time rules of SPEC §4, as pure functions over :class:`Post` records.

Everything is evaluated *as of T*: a post, reply or closure after T does not exist for that run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from community_monitoring.channels import channel as channel_of
from community_monitoring.records import Post, Release, Reply
from community_monitoring.roster import StaffRoster
from community_monitoring.settings import Settings
from community_monitoring.timeutil import day_window

JIRA_BROWSE_URL = re.compile(r"https?://[^\s<>()\[\]\"']+/browse/[A-Z][A-Z0-9_]*-\d+(?![\w/-])")
_QUOTE_OR_CODE = re.compile(
    r"```.*?```|\[quote[^\]]*\].*?\[/quote\]|<blockquote>.*?</blockquote>|`[^`\n]*`|^>.*?$",
    re.DOTALL | re.IGNORECASE | re.MULTILINE,
)
_URL = re.compile(r"https?://\S+")


def exists_at(post: Post | Reply, as_of: datetime) -> bool:
    return post.created_at <= as_of


def is_open_at(post: Post, as_of: datetime) -> bool:
    if post.state == "open":
        return True
    # Closed now, but a closure after T had not happened yet at T. A closure with no known time
    # (e.g. a closed forum topic) is taken as already closed.
    return post.closed_at is not None and post.closed_at > as_of


def replies_at(post: Post, as_of: datetime) -> list[Reply]:
    return [r for r in post.replies if r.created_at <= as_of]


def is_author_staff(post: Post, roster: StaffRoster) -> bool:
    return roster.is_staff(post.channel, post.author, post.author_platform_staff)


def is_author_bot(post: Post, roster: StaffRoster) -> bool:
    return roster.is_bot(post.author, post.author_is_bot)


def is_reply_staff(post: Post, reply: Reply, roster: StaffRoster) -> bool:
    return roster.is_staff(post.channel, reply.author, reply.author_platform_staff)


def is_reply_bot(reply: Reply, roster: StaffRoster) -> bool:
    return roster.is_bot(reply.author, reply.author_is_bot)


def is_community_post(post: Post, roster: StaffRoster) -> bool:
    """Neither staff nor a bot wrote it: the only posts the digests list."""
    return not is_author_bot(post, roster) and not is_author_staff(post, roster)


def has_response(post: Post, roster: StaffRoster, as_of: datetime) -> bool:
    """Someone other than the author, and not a bot, replied by T."""
    author = post.author.casefold()
    return any(r.author.casefold() != author and not is_reply_bot(r, roster) for r in replies_at(post, as_of))


def is_help_wanted_from_jira(post: Post, config: Settings) -> bool:
    """A Help Wanted issue mirrored from Jira: the label, plus a Jira origin (link or sync account)."""
    if not channel_of(post.channel).mirrors_jira_help_wanted:
        return False
    wanted = {label.casefold() for label in config.github.help_wanted_labels}
    if not any(label.casefold() in wanted for label in post.labels):
        return False
    sync_account = config.github.jira_sync_account.casefold()
    by_sync_account = bool(sync_account) and post.author.casefold() == sync_account
    return by_sync_account or JIRA_BROWSE_URL.search(post.body) is not None


def is_listable(post: Post, roster: StaffRoster, config: Settings, as_of: datetime) -> bool:
    """A post any list may show: it exists at T, is an issue not a PR, by the community, not Help Wanted."""
    return (
        exists_at(post, as_of)
        and not post.is_pull_request
        and is_community_post(post, roster)
        and not is_help_wanted_from_jira(post, config)
    )


def asks_a_question(text: str) -> bool:
    """A ``?`` in the author's own words: quotes, code and URLs (query strings) do not count."""
    own_words = _URL.sub(" ", _QUOTE_OR_CODE.sub(" ", text))
    return "?" in own_words


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted({k.casefold() for k in keywords if k}, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(k)}(?!\w)" for k in ordered), re.IGNORECASE)


def latest_release(releases: Iterable[Release], as_of: datetime) -> Release | None:
    """The newest published release (not draft, not prerelease) at or before T."""
    published = [
        r
        for r in releases
        if not r.draft and not r.prerelease and r.published_at is not None and r.published_at <= as_of
    ]
    return max(published, key=lambda r: r.published_at or as_of, default=None)


@dataclass(frozen=True)
class HelpWantedSections:
    waiting_for_first_response: tuple[Post, ...]
    after_the_release: tuple[Post, ...]
    new_reply_to_core_team_question: tuple[Post, ...]
    release: Release | None

    @property
    def total(self) -> int:
        return (
            len(self.waiting_for_first_response)
            + len(self.after_the_release)
            + len(self.new_reply_to_core_team_question)
        )


def is_waiting_for_first_response(post: Post, roster: StaffRoster, config: Settings, as_of: datetime) -> bool:
    newest = as_of - timedelta(days=config.digest.first_response_min_age_days)
    oldest = as_of - timedelta(days=config.digest.max_age_days)
    return (
        channel_of(post.channel).waits_for_first_response
        and is_listable(post, roster, config, as_of)
        and is_open_at(post, as_of)
        and oldest < post.created_at <= newest
        and not has_response(post, roster, as_of)
    )


def is_after_release_topic(
    post: Post,
    roster: StaffRoster,
    config: Settings,
    as_of: datetime,
    release: Release | None,
    watch: re.Pattern[str] | None,
) -> bool:
    if not channel_of(post.channel).forum_sections:
        return False
    if release is None or release.published_at is None or watch is None:
        return False
    if as_of - release.published_at > timedelta(days=config.digest.release_window_days):
        return False
    start, end = day_window(as_of)
    return (
        is_listable(post, roster, config, as_of)
        and is_open_at(post, as_of)
        and start < post.created_at <= end
        and (watch.search(post.title) is not None or watch.search(post.body) is not None)
    )


def has_new_reply_to_staff_question(
    post: Post, roster: StaffRoster, config: Settings, as_of: datetime
) -> bool:
    """The latest staff post before T asks a question and a community member answered it since."""
    if not channel_of(post.channel).forum_sections:
        return False
    if not exists_at(post, as_of) or not is_open_at(post, as_of):
        return False
    if is_author_bot(post, roster):
        return False
    # The opening post counts as a post in the thread: staff may open a topic with a question.
    thread: list[tuple[bool, bool, str]] = [(is_author_staff(post, roster), False, post.body)]
    thread += [
        (is_reply_staff(post, r, roster), is_reply_bot(r, roster), r.body) for r in replies_at(post, as_of)
    ]
    staff_positions = [i for i, (staff, _, _) in enumerate(thread) if staff]
    if not staff_positions:
        return False
    last_staff = staff_positions[-1]
    if not asks_a_question(thread[last_staff][2]):
        return False
    return any(not staff and not bot for staff, bot, _ in thread[last_staff + 1 :])


def find_help_wanted_sections(
    posts: Iterable[Post],
    roster: StaffRoster,
    config: Settings,
    as_of: datetime,
    releases: Sequence[Release] = (),
) -> HelpWantedSections:
    """The three sections of the daily [Help Wanted] digest; a post shows in its first section only."""
    release = latest_release(releases, as_of)
    watch = keyword_pattern(
        (*config.release_watch.enterprise_keywords, *config.release_watch.upgrade_keywords)
    )
    waiting: list[Post] = []
    after_release: list[Post] = []
    core_question: list[Post] = []
    for post in posts:
        if is_waiting_for_first_response(post, roster, config, as_of):
            waiting.append(post)
        elif is_after_release_topic(post, roster, config, as_of, release, watch):
            after_release.append(post)
        elif has_new_reply_to_staff_question(post, roster, config, as_of):
            core_question.append(post)

    def oldest_first(items: list[Post]) -> tuple[Post, ...]:
        return tuple(sorted(items, key=lambda p: (p.created_at, p.url)))

    return HelpWantedSections(
        waiting_for_first_response=oldest_first(waiting),
        after_the_release=oldest_first(after_release),
        new_reply_to_core_team_question=oldest_first(core_question),
        release=release,
    )


def find_new_posts(
    posts: Iterable[Post], roster: StaffRoster, config: Settings, as_of: datetime
) -> list[Post]:
    """Posts created in the daily interval (T − 1 day, T], for the CM [Triage] list."""
    start, end = day_window(as_of)
    return sorted(
        (p for p in posts if start < p.created_at <= end and is_listable(p, roster, config, as_of)),
        key=lambda p: (p.created_at, p.url),
    )


@dataclass(frozen=True)
class StaleItem:
    post: Post
    last_activity: datetime
    last_actor: str


def last_activity(post: Post, roster: StaffRoster, as_of: datetime) -> tuple[datetime, str]:
    """The latest of the post's creation and its replies by anyone but a bot, before T.

    Label edits and bot comments are not activity (system notes never become replies).
    """
    latest, actor = post.created_at, post.author
    for reply in replies_at(post, as_of):
        if not is_reply_bot(reply, roster) and reply.created_at > latest:
            latest, actor = reply.created_at, reply.author
    return latest, actor


def has_accepted_answer_at(post: Post, as_of: datetime) -> bool:
    return post.accepted_at is not None and post.accepted_at <= as_of


def find_stale_posts(
    posts: Iterable[Post],
    roster: StaffRoster,
    config: Settings,
    as_of: datetime,
    *,
    channels: Sequence[str] = ("github", "gitlab", "stackoverflow"),
    stale_after_days: int = 7,
    max_age_days: int = 180,
) -> dict[str, list[StaleItem]]:
    """The weekly review: open community posts with no activity for ``stale_after_days``, by channel."""
    quiet_since = as_of - timedelta(days=stale_after_days)
    oldest = as_of - timedelta(days=max_age_days)
    found: dict[str, list[StaleItem]] = {channel: [] for channel in channels}
    for post in posts:
        if post.channel not in found or not oldest < post.created_at:
            continue
        if not is_listable(post, roster, config, as_of) or not is_open_at(post, as_of):
            continue
        if has_accepted_answer_at(post, as_of):
            continue
        latest, actor = last_activity(post, roster, as_of)
        if latest < quiet_since:
            found[post.channel].append(StaleItem(post, latest, actor))
    return {
        channel: sorted(items, key=lambda i: (i.last_activity, i.post.url))
        for channel, items in found.items()
        if items
    }
