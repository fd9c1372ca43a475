"""The point-in-time rules of SPEC §4, as pure functions over :class:`Post` records.

Everything is evaluated *as of T*: a post, reply or closure after T does not exist for that run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter

from community_monitoring import classify
from community_monitoring.answers import (
    AnswerState,
    HelpWantedSection,
    LadderStep,
    answer_state,
    day_on_list,
    has_accepted_answer_at,
    is_last_call,
    is_open_at,
    is_reply_bot,
    joined_list_at,
    ladder_step,
    replies_at,
    reply_to_staff_question,
    says_something,
)

# Re-exported: reading a thread moved to answers.py, and callers still import these from here.
from community_monitoring.answers import asks_a_question as asks_a_question
from community_monitoring.answers import is_reply_staff as is_reply_staff
from community_monitoring.channels import channel as channel_of
from community_monitoring.records import Post, Release, Reply, responder_key
from community_monitoring.roster import StaffRoster
from community_monitoring.routing import route_owner
from community_monitoring.settings import Settings
from community_monitoring.timeutil import day_window

JIRA_BROWSE_URL = re.compile(r"https?://[^\s<>()\[\]\"']+/browse/[A-Z][A-Z0-9_]*-\d+(?![\w/-])")
# What JIRA_BROWSE_URL finds, in linear time: searched from every "http" of a long run of URL
# characters, it read the run to its end from each ("http://" 10,000 times: seconds, a million
# characters: hours). A run holds a match exactly when "/browse/KEY-N" follows its first "://" and
# at least one character, so each run is read once, from its first "http".
_URL_RUN = re.compile(r"https?://[^\s<>()\[\]\"']")
_URL_RUN_END = re.compile(r"[\s<>()\[\]\"']|\Z")
_BROWSE_KEY = re.compile(r"/browse/[A-Z][A-Z0-9_]*-\d+(?![\w/-])")


def links_jira_ticket(text: str) -> bool:
    """Whether ``text`` holds a URL ending in ``/browse/<KEY>-<number>`` (as JIRA_BROWSE_URL finds)."""
    position = 0
    while (start := _URL_RUN.search(text, position)) is not None:
        end = _URL_RUN_END.search(text, start.end())
        stop = end.start() if end is not None else len(text)
        # Read up to the run's end only: the character there is none of "\w/-", as the end of the text.
        if _BROWSE_KEY.search(text, start.end(), stop) is not None:
            return True
        position = stop
    return False


def exists_at(post: Post | Reply, as_of: datetime) -> bool:
    return post.created_at <= as_of


def is_author_staff(post: Post, roster: StaffRoster) -> bool:
    return roster.is_staff(post.channel, post.author, post.author_platform_staff)


def is_author_bot(post: Post, roster: StaffRoster) -> bool:
    return roster.is_bot(post.author, post.author_is_bot)


def is_community_post(post: Post, roster: StaffRoster) -> bool:
    """Neither staff nor a bot wrote it: the only posts the digests list."""
    return not is_author_bot(post, roster) and not is_author_staff(post, roster)


def has_response(post: Post, roster: StaffRoster, as_of: datetime, config: Settings) -> bool:
    """Someone other than the author, and not a bot, replied something substantive by T.

    A me-too ("+1", "same here", emoji) by another user is no response.
    """
    return RulesAsOf(roster, config, as_of).has_response(post)


def is_help_wanted_from_jira(post: Post, config: Settings) -> bool:
    """A Help Wanted issue mirrored from Jira (SPEC §4): it carries a Help Wanted label and links a
    Jira ticket in its body, or the Jira sync account opened it (every issue that account opens is
    a mirrored ticket: the seed's "automatically created from JIRA tickets")."""
    wanted = frozenset(label.casefold() for label in config.github.help_wanted_labels)
    return _mirrors_jira(post, wanted, config.github.jira_sync_account.casefold())


def _mirrors_jira(post: Post, wanted: frozenset[str], sync_account: str) -> bool:
    if not channel_of(post.channel).mirrors_jira_help_wanted:
        return False
    if sync_account and post.author.casefold() == sync_account:
        return True
    return any(label.casefold() in wanted for label in post.labels) and links_jira_ticket(post.body)


def is_listable(post: Post, roster: StaffRoster, config: Settings, as_of: datetime) -> bool:
    """A post any list may show: it exists at T, is an issue not a PR, by the community, not Help Wanted."""
    return RulesAsOf(roster, config, as_of).is_listable(post)


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """Any of ``keywords`` as a whole word, case-insensitively, longest first (one compiled trie)."""
    return classify.keyword_pattern(keywords)


def latest_release(releases: Iterable[Release], as_of: datetime) -> Release | None:
    """The newest published release (not draft, not prerelease) at or before T."""
    published = [
        r
        for r in releases
        if not r.draft and not r.prerelease and r.published_at is not None and r.published_at <= as_of
    ]
    return max(published, key=lambda r: r.published_at or as_of, default=None)


@dataclass(frozen=True)
class HelpWantedEntry:
    """One [Help Wanted] item as of T: where it qualified, where the ball is, its step on the ladder."""

    post: Post
    # The section it qualified for; an escalated entry keeps it, to say where it came from.
    section: HelpWantedSection
    state: AnswerState
    joined_at: datetime
    day: int
    step: LadderStep
    last_call: bool
    # The routed owner (a Mattermost name without "@"), or "" when no route matches.
    owner: str

    @property
    def mentions_rotation(self) -> bool:
        """From the mention day on, the item line names the developer on rotation."""
        return self.step != "listed"

    @property
    def mentions_owner(self) -> bool:
        """From the escalation day on, the item line names its routed owner (SPEC §4 "Routing")."""
        return self.step == "escalated" and bool(self.owner)


@dataclass(frozen=True)
class HelpWantedSections:
    """The digest's sections; an entry at the escalation day sits in ``escalated`` only."""

    waiting_for_first_response: tuple[HelpWantedEntry, ...]
    after_the_release: tuple[HelpWantedEntry, ...]
    new_reply_to_core_team_question: tuple[HelpWantedEntry, ...]
    release: Release | None
    escalated: tuple[HelpWantedEntry, ...] = ()

    @property
    def total(self) -> int:
        return (
            len(self.escalated)
            + len(self.waiting_for_first_response)
            + len(self.after_the_release)
            + len(self.new_reply_to_core_team_question)
        )

    @property
    def entries(self) -> tuple[HelpWantedEntry, ...]:
        """Every entry, in the digest's order: escalated first."""
        return (
            *self.escalated,
            *self.waiting_for_first_response,
            *self.after_the_release,
            *self.new_reply_to_core_team_question,
        )


def is_waiting_for_first_response(post: Post, roster: StaffRoster, config: Settings, as_of: datetime) -> bool:
    """A forum topic or GitHub issue, open and listable, created in the first-response window (older
    than ``first_response_min_age_days``, younger than ``max_age_days``), with no response and no
    accepted answer by T."""
    return RulesAsOf(roster, config, as_of).is_waiting_for_first_response(post)


def is_after_release_topic(
    post: Post,
    roster: StaffRoster,
    config: Settings,
    as_of: datetime,
    release: Release | None,
    watch: re.Pattern[str] | None,
) -> bool:
    """A forum topic created in the interval, within ``release_window_days`` after ``release``,
    whose title or first post names a watched keyword (``watch``)."""
    return RulesAsOf(roster, config, as_of).is_after_release_topic(post, release, watch)


def has_new_reply_to_staff_question(
    post: Post, roster: StaffRoster, config: Settings, as_of: datetime
) -> bool:
    """The latest staff post before T asks a question and a community member answered it since.

    A me-too after the question ("+1", "same here") is no answer to it.
    """
    return RulesAsOf(roster, config, as_of).has_new_reply_to_staff_question(post)


class RulesAsOf:
    """The list rules of SPEC §4 as of T, in one place: the functions above are each one post's
    answer from here.

    The digests read every post of the day's channels (SPEC §9: 100,000 a day) through one reader:
    what is the same for all posts (windows, label sets) is worked out once, bots and staff once per
    name, and a reply's text is judged once however many threads it appears in ("+1", "Same here.").
    """

    def __init__(self, roster: StaffRoster, config: Settings, as_of: datetime) -> None:
        self.roster, self.config, self.as_of = roster, config, as_of
        self.responses = config.responses
        self.wanted = frozenset(label.casefold() for label in config.github.help_wanted_labels)
        self.sync_account = config.github.jira_sync_account.casefold()
        self.newest = as_of - timedelta(days=config.digest.first_response_min_age_days)
        self.oldest = as_of - timedelta(days=config.digest.max_age_days)
        self.release_window = timedelta(days=config.digest.release_window_days)
        self.interval = day_window(as_of)
        self._says_something: dict[str, bool] = {}
        self._bots: dict[str, bool] = {}
        self._staff: dict[str, dict[str, bool]] = {}

    def is_bot(self, username: str, platform_says_bot: bool) -> bool:
        """``roster.is_bot``, once per name."""
        if platform_says_bot:
            return True
        known = self._bots.get(username)
        if known is None:
            known = self._bots[username] = self.roster.is_bot(username)
        return known

    def is_staff(self, channel: str, username: str, platform_says_staff: bool) -> bool:
        """``roster.is_staff``, once per channel and name."""
        if platform_says_staff:
            return True
        names = self._staff.get(channel)
        if names is None:
            names = self._staff[channel] = {}
        known = names.get(username)
        if known is None:
            known = names[username] = self.roster.is_staff(channel, username)
        return known

    def is_help_wanted_from_jira(self, post: Post) -> bool:
        """A Help Wanted issue mirrored from Jira (see :func:`is_help_wanted_from_jira`)."""
        return _mirrors_jira(post, self.wanted, self.sync_account)

    def is_listable(self, post: Post) -> bool:
        """It exists at T, is an issue not a PR, by neither staff nor a bot, not Help Wanted from Jira.

        Read for every post of the day: the memo lookups of ``is_bot`` are inlined."""
        if post.created_at > self.as_of or post.is_pull_request or post.author_is_bot:
            return False
        author = post.author
        bot = self._bots.get(author)
        if bot is None:
            bot = self._bots[author] = self.roster.is_bot(author)
        if bot or self.is_staff(post.channel, author, post.author_platform_staff):
            return False
        return not self.is_help_wanted_from_jira(post)

    def says_something(self, reply: Reply) -> bool:
        """:func:`answers.says_something` under the rules file's ``responses``."""
        said = self._says_something.get(reply.body)
        if said is None:
            said = self._says_something[reply.body] = says_something(reply, self.responses)
        return said

    def has_response(self, post: Post) -> bool:
        """Someone other than the author, and not a bot, replied something substantive by T (a
        me-too by the rules file's ``responses`` is none)."""
        # ``records.may_be_the_author``, inlined: a deleted account's reply on a deleted account's
        # post may be its author's own.
        author = responder_key(post.author)
        as_of = self.as_of
        author_id = post.author_id  # where names are not unique, the account decides
        return any(
            r.created_at <= as_of
            and (
                (r.author_id != author_id) if author_id and r.author_id else responder_key(r.author) != author
            )
            and not self.is_bot(r.author, r.author_is_bot)
            and self.says_something(r)
            for r in post.replies
        )

    def is_waiting_for_first_response(self, post: Post) -> bool:
        """Open, listable, created in the first-response window, no response and no accepted
        answer (a solution marked by its author: nothing is waiting) by T."""
        return (
            self.oldest < post.created_at <= self.newest
            and channel_of(post.channel).waits_for_first_response
            and is_open_at(post, self.as_of)
            and self.is_listable(post)
            and not self.has_response(post)
            and not has_accepted_answer_at(post, self.as_of)
        )

    def is_after_release_topic(
        self, post: Post, release: Release | None, watch: re.Pattern[str] | None
    ) -> bool:
        """A forum topic created in the interval, within ``release_window_days`` after ``release``,
        whose title or first post names a watched keyword (``watch``)."""
        if not channel_of(post.channel).forum_sections:
            return False
        if release is None or release.published_at is None or watch is None:
            return False
        if self.as_of - release.published_at > self.release_window:
            return False
        start, end = self.interval
        return (
            start < post.created_at <= end
            and self.is_listable(post)
            and is_open_at(post, self.as_of)
            and (watch.search(post.title) is not None or watch.search(post.body) is not None)
        )

    def has_new_reply_to_staff_question(self, post: Post) -> bool:
        """The latest staff post before T asks a question and a community member answered it since."""
        as_of = self.as_of
        # Without a reply nothing answers a question (most posts of a day): checked first.
        if not post.replies or not channel_of(post.channel).forum_sections:
            return False
        if not post.created_at <= as_of or not is_open_at(post, as_of):
            return False
        if self.is_bot(post.author, post.author_is_bot):
            return False
        return self.staff_question_answered(post)

    def staff_question_answered(self, post: Post) -> bool:
        """:func:`answers.community_reply_to_staff_question` found a reply, judged through this
        reader's memoised bots, staff and me-toos."""
        channel = post.channel
        found = reply_to_staff_question(
            post,
            self.as_of,
            is_bot=lambda r: self.is_bot(r.author, r.author_is_bot),
            is_staff=lambda author, platform_staff: self.is_staff(channel, author, platform_staff),
            says=self.says_something,
        )
        return found is not None


def help_wanted_entry(
    post: Post, section: HelpWantedSection, roster: StaffRoster, config: Settings, as_of: datetime
) -> HelpWantedEntry:
    joined = joined_list_at(post, section, roster, config, as_of)
    day = day_on_list(joined, as_of)
    return HelpWantedEntry(
        post=post,
        section=section,
        state=answer_state(post, roster, config, as_of),
        joined_at=joined,
        day=day,
        step=ladder_step(day, config.escalation),
        # Only the first-response section has an age window to leave: a new reply to a core-team
        # question stays listed however old its topic (and an after-the-release topic is a day old).
        last_call=section == "waiting_for_first_response" and is_last_call(post, config, as_of),
        owner=route_owner(post, config.routing),
    )


_CREATED_AND_URL = attrgetter("created_at", "url")  # (created_at, url): the lists' order


def _oldest_first(entries: Iterable[HelpWantedEntry]) -> tuple[HelpWantedEntry, ...]:
    return tuple(sorted(entries, key=lambda e: (e.post.created_at, e.post.url)))


def find_help_wanted_sections(
    posts: Iterable[Post],
    roster: StaffRoster,
    config: Settings,
    as_of: datetime,
    releases: Sequence[Release] = (),
) -> HelpWantedSections:
    """The sections of the daily [Help Wanted] digest; a post shows in its first section only.

    An item at the escalation day or later moves from its section to the Escalated one at the top.
    """
    release = latest_release(releases, as_of)
    watch = keyword_pattern(
        (*config.release_watch.enterprise_keywords, *config.release_watch.upgrade_keywords)
    )
    found: dict[HelpWantedSection, list[HelpWantedEntry]] = {
        "waiting_for_first_response": [],
        "after_the_release": [],
        "new_reply_to_core_team_question": [],
    }
    escalated: list[HelpWantedEntry] = []
    reader = RulesAsOf(roster, config, as_of)
    # Only a release published within the window makes after-the-release topics (see is_after_release_topic).
    release_topics = (
        watch is not None
        and release is not None
        and release.published_at is not None
        and as_of - release.published_at <= timedelta(days=config.digest.release_window_days)
    )
    for post in posts:
        section: HelpWantedSection
        if not post.public:  # the digest goes to the public channel
            continue
        if reader.is_waiting_for_first_response(post):
            section = "waiting_for_first_response"
        elif release_topics and reader.is_after_release_topic(post, release, watch):
            section = "after_the_release"
        elif reader.has_new_reply_to_staff_question(post):
            section = "new_reply_to_core_team_question"
        else:
            continue
        entry = help_wanted_entry(post, section, roster, config, as_of)
        (escalated if entry.step == "escalated" else found[section]).append(entry)
    return HelpWantedSections(
        waiting_for_first_response=_oldest_first(found["waiting_for_first_response"]),
        after_the_release=_oldest_first(found["after_the_release"]),
        new_reply_to_core_team_question=_oldest_first(found["new_reply_to_core_team_question"]),
        release=release,
        escalated=_oldest_first(escalated),
    )


def find_new_posts(
    posts: Iterable[Post], roster: StaffRoster, config: Settings, as_of: datetime
) -> list[Post]:
    """Posts created in the daily interval (T − 1 day, T], for the CM [Triage] list, in list order."""
    return sorted(new_posts_of(posts, roster, config, as_of), key=_CREATED_AND_URL)


def new_posts_of(
    posts: Iterable[Post], roster: StaffRoster, config: Settings, as_of: datetime
) -> Iterator[Post]:
    """``find_new_posts`` as a stream, in the order read: a day of posts need not be held whole."""
    start, end = day_window(as_of)
    listable = RulesAsOf(roster, config, as_of).is_listable
    return (p for p in posts if start < p.created_at <= end and listable(p))


@dataclass(frozen=True)
class StaleItem:
    post: Post
    last_activity: datetime
    last_actor: str
    state: AnswerState


def last_activity(post: Post, roster: StaffRoster, as_of: datetime) -> tuple[datetime, str]:
    """The latest of the post's creation and its replies by anyone but a bot, before T.

    Label edits and bot comments are not activity (system notes never become replies).
    """
    latest, actor = post.created_at, post.author
    for reply in replies_at(post, as_of):
        if not is_reply_bot(reply, roster) and reply.created_at > latest:
            latest, actor = reply.created_at, reply.author
    return latest, actor


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
    listable = RulesAsOf(roster, config, as_of).is_listable
    for post in posts:
        if post.channel not in found or not oldest < post.created_at or not post.public:
            continue
        if not listable(post) or not is_open_at(post, as_of):
            continue
        if has_accepted_answer_at(post, as_of):
            continue
        latest, actor = last_activity(post, roster, as_of)
        if latest < quiet_since:
            state = answer_state(post, roster, config, as_of)
            found[post.channel].append(StaleItem(post, latest, actor, state))
    return {
        channel: sorted(items, key=lambda i: (i.last_activity, i.post.url))
        for channel, items in found.items()
        if items
    }


# Still waiting for the team: the states an aged-out post is listed in.
WAITING_FOR_AN_ANSWER: frozenset[AnswerState] = frozenset({"unanswered", "waiting_on_us"})


@dataclass(frozen=True)
class AgedOutItem:
    """A post that left the [Help Wanted] window without an answer (SPEC §4: never silently)."""

    post: Post
    state: AnswerState
    last_activity: datetime
    last_actor: str


def find_aged_out(
    posts: Iterable[Post], roster: StaffRoster, config: Settings, as_of: datetime
) -> list[AgedOutItem]:
    """Posts older than the [Help Wanted] window (``digest.max_age_days``) but younger than the
    weekly review's (``weekly.max_age_days``), open and still unanswered or waiting on us at T, on
    ``weekly.aged_out_channels``; oldest first."""
    left_list = as_of - timedelta(days=config.digest.max_age_days)
    oldest = as_of - timedelta(days=config.weekly.max_age_days)
    channels = set(config.weekly.aged_out_channels)
    found: list[AgedOutItem] = []
    listable = RulesAsOf(roster, config, as_of).is_listable
    for post in posts:
        if post.channel not in channels or not oldest < post.created_at <= left_list or not post.public:
            continue
        if not listable(post) or not is_open_at(post, as_of):
            continue
        state = answer_state(post, roster, config, as_of)
        if state in WAITING_FOR_AN_ANSWER:
            found.append(AgedOutItem(post, state, *last_activity(post, roster, as_of)))
    return sorted(found, key=lambda i: (i.post.created_at, i.post.url))
