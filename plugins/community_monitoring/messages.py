"""Turn rule results into the rendered Mattermost messages of SPEC §7."""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from community_monitoring import answers
from community_monitoring.channels import channel as channel_of
from community_monitoring.channels import label as channel_label_of
from community_monitoring.channels import named as channel_named
from community_monitoring.classify import TYPE_HEADINGS, Classification, PostClassifier, classify_posts
from community_monitoring.drafts import DraftWriter
from community_monitoring.records import Post, chunks
from community_monitoring.related import Related, copy_state, fold_duplicates, split_own_copies
from community_monitoring.rendering import join_blocks, render_template, split_message
from community_monitoring.routing import route_owner
from community_monitoring.rules import AgedOutItem, HelpWantedEntry, HelpWantedSections, StaleItem
from community_monitoring.safety import safe_link, safe_text
from community_monitoring.settings import POST_TYPES, Settings
from community_monitoring.timeutil import archive_folder_name, day_window

if TYPE_CHECKING:
    from community_monitoring.closeout_plan import Nominee, ThankResult
    from community_monitoring.params import CloseoutParams
    from community_monitoring.roster import StaffRoster
    from community_monitoring.uservoice_review import StatusDrift, UserVoiceReview

KIND_PREFIX: dict[str, str] = {
    "help_wanted": "[Help Wanted]",
    "triage": "[Triage]",
    "weekly_review": "[Weekly Review]",
    "uservoice_review": "[UserVoice Review]",
    "release_closeout": "[Release Closeout]",
    "alert": "[Alert]",
}


# SPEC §7: at any scale, no digest needs more posts than this.
MAX_DIGEST_POSTS = 3

Entry = TypeVar("Entry")


@dataclass(frozen=True)
class RenderedMessage:
    kind: str
    parts: tuple[str, ...]
    # Every listed item, those a capped section leaves to its "… and N more" included.
    item_urls: tuple[str, ...]
    # Renders the whole, uncapped message when a section was capped; only the archive needs it, and
    # at 100,000 items it costs seconds.
    full_list: Callable[[], str] | None = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)

    @property
    def full_text(self) -> str:
        """The full list to archive as ``<kind>.full.md``; "" when every section was listed whole."""
        return self.full_list() if self.full_list else ""


def full_list_name(kind: str) -> str:
    """The archived full list's file name, beside the digest's own ``<kind>.md``."""
    return f"{kind}.full.md"


# The sections whose whole list the Community page can show from its state table (``web/page.py``'s
# ``digest_filter`` maps each one onto its rows): their "… and N more" links the page. The others
# link nothing but the archived full list, since the page has no rows for them: the weekly review's
# stale and aged-out posts (up to ``weekly.max_age_days`` old, chosen by their last activity; the
# table tracks the daily window), the UserVoice review's status drift, offers and questions, the
# [Help Wanted] section after a release, [Triage]'s posts that could not be read, the closeout's lists.
PAGE_SECTIONS: Mapping[str, frozenset[str]] = {
    "help_wanted": frozenset({"escalated", "waiting_for_first_response", "new_reply_to_core_team_question"}),
    "triage": frozenset(POST_TYPES),
}


def page_shows(kind: str, section: str) -> bool:
    """Whether the Community page lists what ``section`` of digest ``kind`` cut short."""
    return section in PAGE_SECTIONS.get(kind, frozenset())


def links_here(url_template: str, kind: str, section: str) -> bool:
    """Whether "… and N more" of ``section`` links ``digest.full_list_url``: a dashboard of the
    team's own may list anything; this Airflow's Community page (``…/community``) only its sections."""
    if not url_template:
        return False
    path = urlsplit(url_template).path.rstrip("/")
    return not path.endswith("/community") or page_shows(kind, section)


@dataclass
class SectionCap:
    """SPEC §7: each section of a digest shows its first ``limit`` entries, then "… and N more".

    Every digest renderer asks it for each section, in list order (escalated and oldest first), so
    the cap is decided in one place. ``limit=None`` is the full list. ``hidden`` counts what the
    sections left out: the renderer archives the full list when it is not 0.
    """

    kind: str
    as_of: datetime
    limit: int | None
    url_template: str = ""
    hidden: int = 0
    # The longest section asked about: a cap above it changes nothing.
    longest: int = 0
    # Where the full list is archived, as the archive's DAG folder names it ("<T>/<kind>.full.md"
    # by default): a [Triage] sent by a later run is archived in that run's folder, under its own name.
    full_list_at: str = ""

    def shown(self, section: str, entries: Sequence[Entry]) -> tuple[Sequence[Entry], str]:
        """The entries to list and the closing "… and N more" line ("" when all are listed)."""
        self.longest = max(self.longest, len(entries))
        if self.limit is None or len(entries) <= self.limit:
            return entries, ""
        more = len(entries) - self.limit
        self.hidden += more
        return entries[: self.limit], self.more_line(section, more)

    def more_line(self, section: str, more: int) -> str:
        # A list item of its own: a plain line right after a list would join its last item.
        words = f"… and {more:,} more"
        if links_here(self.url_template, self.kind, section):
            url = self.url_template.format(
                kind=self.kind,
                as_of=self.as_of.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                section=section,
            )
            return f"- {safe_link(words, url)}"
        archived = self.full_list_at or f"{archive_folder_name(self.as_of)}/{full_list_name(self.kind)}"
        return f"- {words} in the full list, archived as `{archived}`"

    def full_list(self) -> SectionCap:
        return SectionCap(self.kind, self.as_of, None, self.url_template, full_list_at=self.full_list_at)


def _render_capped(
    kind: str,
    template: str,
    context: Callable[[SectionCap], Mapping[str, Any]],
    config: Settings,
    as_of: datetime,
    item_urls: Iterable[str],
    separator: str = "\n",
    full_list_at: str = "",
) -> RenderedMessage:
    """Render a digest with each section capped, and its full list too when something was left out.
    ``full_list_at``: see ``SectionCap``.

    Items unusually long (titles full of Markdown to escape, very long URLs) could need a 4th post
    at the configured cap: then each section lists fewer, so that no digest needs more than
    ``MAX_DIGEST_POSTS`` (SPEC §7), and the full list holds the rest.
    """
    limit = (
        config.digest.triage_max_items_per_section
        if kind == "triage"
        else config.digest.max_items_per_section
    )
    while True:
        cap = SectionCap(kind, as_of, limit, config.digest.full_list_url, full_list_at=full_list_at)
        text = render_template(template, context(cap))
        parts = split_message(text, KIND_PREFIX[kind], config.digest.message_max_chars, separator=separator)
        listed = min(limit, cap.longest)
        if len(parts) <= MAX_DIGEST_POSTS or listed <= 1:
            break
        limit = max(min(listed - 1, listed * MAX_DIGEST_POSTS // len(parts)), 1)

    def full_list() -> str:
        return join_blocks(render_template(template, context(cap.full_list())), separator)

    return RenderedMessage(kind, tuple(parts), tuple(item_urls), full_list if cap.hidden else None)


def channel_label(post: Post) -> str:
    spec = channel_of(post.channel)
    label = spec.label if spec.key == post.channel else post.channel
    # Repositories and projects say where a post is; a single forum, site or portal needs no name.
    return f"{label} {post.container}" if spec.names_container and post.container else label


def _item(post: Post) -> dict[str, Any]:
    return {
        "url": post.url,
        "title": post.title,
        "author": post.author,
        "channel": post.channel,
        "channel_label": channel_label(post),
        "created_at": post.created_at,
        "state": post.state,
        "note": "",
    }


def _help_wanted_item(entry: HelpWantedEntry, rotation: str, mention: bool) -> dict[str, Any]:
    # From the mention day on, the line names the developer on rotation, from the escalation day
    # the routed owner too; both come from the rosters and the rules file, the only names that ping.
    return {
        **_item(entry.post),
        "answer": answers.ANSWER_STATE_WORDS[entry.state],
        "day": entry.day,
        "last_call": entry.last_call,
        "rotation_mention": rotation if mention and entry.mentions_rotation else "",
        "owner_mention": entry.owner if mention and entry.mentions_owner else "",
    }


def _help_wanted_sections(
    sections: HelpWantedSections, config: Settings, cm_lead: str
) -> list[tuple[str, str, Sequence[HelpWantedEntry], str]]:
    """(key, title, entries, who the heading calls), in the digest's order; the key names the
    section in a "… and N more" link. Only the Escalated section, the first, calls the CM lead."""
    return [
        (
            "escalated",
            f"Escalated (day {config.escalation.escalate_day}+ on the list)",
            sections.escalated,
            cm_lead,
        ),
        (
            "waiting_for_first_response",
            "Waiting for a first response",
            sections.waiting_for_first_response,
            "",
        ),
        (
            "after_the_release",
            # The tag is upstream text ("@here" is a legal tag name).
            f"After the release ({safe_text(sections.release.tag, 60)})"
            if sections.release
            else "After the release",
            sections.after_the_release,
            "",
        ),
        (
            "new_reply_to_core_team_question",
            "New reply to a core-team question",
            sections.new_reply_to_core_team_question,
            "",
        ),
    ]


def render_help_wanted_digest(
    sections: HelpWantedSections,
    config: Settings,
    as_of: datetime,
    rotation: str = "",
    missing_channels: Sequence[str] = (),
    backfill: bool = False,
    mention: bool = True,
    cm_lead: str = "",
) -> RenderedMessage:
    """``backfill`` dates the header; ``mention`` off (an older day of a catch-up) pings nobody.

    ``rotation`` and ``cm_lead`` are Mattermost names from the rosters ("" for none).
    """
    named = _help_wanted_sections(sections, config, cm_lead if mention else "")
    base = {
        "hashtags": config.digest.hashtags,
        "mentions": config.digest.mentions if mention else [],
        "backfill": backfill,
        "rotation": rotation,
        "community": config.community_name,
        "as_of": as_of,
        "missing_channels": [channel_named(c) for c in missing_channels],
        "title_max_chars": config.digest.title_max_chars,
    }

    def context(cap: SectionCap) -> dict[str, Any]:
        listed = [(title, lead, *cap.shown(key, entries)) for key, title, entries, lead in named if entries]
        return {
            **base,
            "sections": [
                {
                    "title": title,
                    "lead": lead,
                    "entries": [_help_wanted_item(e, rotation, mention) for e in shown],
                    "more": more,
                }
                for title, lead, shown, more in listed
            ],
        }

    urls = (e.post.url for _, _, entries, _ in named for e in entries)
    return _render_capped("help_wanted", "help_wanted.md.j2", context, config, as_of, urls)


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


@dataclass(frozen=True)
class TriageFindings:
    """What the run found about each new post besides its type, by the post's URL."""

    # The answer state at T (``answers.answer_state``).
    answer_states: Mapping[str, str] = field(default_factory=dict)
    # Related Jira tickets, suggestions, issues and topics (``related.find_related``).
    related: Mapping[str, Sequence[Related]] = field(default_factory=dict)
    # The same author's copies on other channels, folded into this item (``related.fold_duplicates``).
    also_posted: Mapping[str, Sequence[Post]] = field(default_factory=dict)


def _triage_entry(
    post: Post,
    config: Settings,
    decided: Classification,
    writer: DraftWriter,
    findings: TriageFindings,
    as_of: datetime,
) -> tuple[str, dict[str, Any]]:
    # The author's copies posted on another channel on an earlier day are found as related items.
    related, earlier_copies = split_own_copies(findings.related.get(post.url, ()))
    copies = (*findings.also_posted.get(post.url, ()), *earlier_copies)
    suggestion = writer.suggest(post, decided, related, as_of, also_posted=copies)
    owners = (route_owner(p, config.routing) for p in (post, *copies))
    entry = {
        **_item(post),
        "state": answers.state_at(post, as_of),
        "compact": False,
        "type_label": TYPE_HEADINGS[decided.post_type],
        "rule": decided.rule,
        "action": suggestion.action,
        "missing": list(suggestion.missing_details),
        "draft": _blockquote(suggestion.draft),
        "answer_state": answers.ANSWER_STATE_WORDS.get(findings.answer_states.get(post.url, ""), ""),
        # A copy folded into this item may be the one a route matches (a GitHub label the forum
        # topic lacks): its owner still hears of the item.
        "owner": next((o for o in owners if o), ""),
        "related": [{"key": r.key, "url": r.url, "state": r.state} for r in related],
        "also_posted": [
            {"channel_label": channel_label(copy), "url": copy.url, "state": copy_state(copy, as_of)}
            for copy in copies
        ],
    }
    return decided.post_type, entry


def listed_in_triage(
    posts: Sequence[Post], decisions: Sequence[Classification], config: Settings
) -> list[Post]:
    """The posts ``[Triage]`` shows whole (with a draft) in its sections: the first
    ``triage_drafts_per_section`` of each type, in list order. The others are one line each, in the
    section up to ``triage_max_items_per_section``, then in "… and N more" and the archived full list.

    What is worked out per shown item only (related items: a text comparison of each post with
    every candidate, which at 100,000 posts a day would be billions of pairs) is asked for these.
    """
    limit = config.digest.triage_whole_per_section
    shown = _shown_per_type((d.post_type for d in decisions), limit)
    return [post for post, is_shown in zip(posts, shown, strict=True) if is_shown]


def _shown_per_type(post_types: Iterable[str], limit: int) -> Iterator[bool]:
    """For each entry in list order, whether it is among the first ``limit`` of its type: the
    entries a capped ``[Triage]`` section shows."""
    per_type: dict[str, int] = dict.fromkeys(POST_TYPES, 0)
    for post_type in post_types:
        shown = per_type[post_type] < limit
        if shown:
            per_type[post_type] += 1
        yield shown


@dataclass(frozen=True, slots=True)
class CompactTriageLine:
    """An entry past the digest's cap, for the archived full list: one line, the suggested action the
    channel and type give, no related items and no draft (those are worked out for shown entries).

    Slotted, with its repeated words shared: at 100,000 posts a day these lines are most of what the
    task holds while the related items are looked up (a dictionary each took several times more)."""

    url: str
    title: str
    author: str
    channel_label: str
    created_at: datetime
    state: str
    type_label: str
    action: str
    answer_state: str
    owner: str
    compact: bool = True


def _compact_triage_entry(
    post: Post,
    config: Settings,
    decided: Classification,
    answer_state: str,
    shared: dict[str, str],
    as_of: datetime,
) -> CompactTriageLine:
    def one(text: str) -> str:  # the same words, one string: labels, actions and owners repeat
        return shared.setdefault(text, text)

    return CompactTriageLine(
        url=post.url,
        title=post.title,
        author=post.author,
        channel_label=one(channel_label(post)),
        created_at=post.created_at,
        state=one(answers.state_at(post, as_of)),
        type_label=TYPE_HEADINGS[decided.post_type],
        action=one(config.suggested_actions.for_post(post.channel, decided.post_type)),
        answer_state=answers.ANSWER_STATE_WORDS.get(answer_state, ""),
        owner=one(route_owner(post, config.routing)),
    )


@dataclass(frozen=True)
class TriageItem:
    """One [Triage] entry on its way to the message: the post itself when the digest can show it
    (its draft waits for the related items), else its line's fields already worked out, so that
    the day's posts need not be held while the related items are looked up."""

    post_type: str
    url: str
    copy_urls: tuple[str, ...]  # folded copies, which count as listed
    post: Post | None = None
    decided: Classification | None = None
    line: CompactTriageLine | None = None


def triage_items(
    posts: Sequence[Post],
    decisions: Sequence[Classification],
    config: Settings,
    findings: TriageFindings,
    as_of: datetime,
) -> list[TriageItem]:
    """The day's entries in list order: posts the digest can show (``listed_in_triage``) kept whole,
    the others as their one line (at 100,000 posts a day, drafts nobody reads took most of the
    task's time and memory)."""
    limit = config.digest.triage_whole_per_section
    shown = _shown_per_type((d.post_type for d in decisions), limit)
    shared: dict[str, str] = {}
    items = []
    for post, decided, is_shown in zip(posts, decisions, shown, strict=True):
        copies = tuple(copy.url for copy in findings.also_posted.get(post.url, ()))
        if is_shown:
            items.append(TriageItem(decided.post_type, post.url, copies, post=post, decided=decided))
        else:
            state = findings.answer_states.get(post.url, "")
            line = _compact_triage_entry(post, config, decided, state, shared, as_of)
            items.append(TriageItem(decided.post_type, post.url, copies, line=line))
    return items


# New posts classified (and their answer states read) per batch: a learned model classifies a batch
# at once, and only a batch of the day's posts is held whole.
TRIAGE_BATCH = 5000


@dataclass(frozen=True)
class TriageDay:
    """The day's ``[Triage]`` entries (``collect_triage``) and what the related items are looked up for."""

    items: list[TriageItem]  # in list order: the shown posts whole, the others as their line
    listed: list[Post]  # the posts the digest shows
    findings: TriageFindings  # the answer states of the shown posts, the folded copies
    found: int  # new posts before the copies were folded


def collect_triage(
    new_posts: Iterable[Post],
    fold_authors: Collection[str],
    classifier: Any,
    roster: StaffRoster,
    config: Settings,
    as_of: datetime,
) -> TriageDay:
    """``[Triage]``'s entries from a stream of the day's new posts (``rules.new_posts_of``), in any
    order, holding a batch of posts at a time: each becomes its one line at once, and a post is kept
    whole only when it may be shown whole (the earliest ``triage_drafts_per_section`` of its type so
    far) or may fold (its author, case-folded, is in ``fold_authors``: ``related.authors_on_two_channels``).

    The same entries as classifying the sorted list, folding it (``related.fold_duplicates``) and
    ``triage_items``: folding drops only posts of ``fold_authors``, so every post shown after it is
    among those kept.
    """
    limit = config.digest.triage_whole_per_section
    shared: dict[str, str] = {}
    lines: list[tuple[tuple[datetime, str], str, CompactTriageLine]] = []
    whole: dict[str, tuple[Post, Classification, str]] = {}  # URL -> post, type, answer state
    earliest: dict[str, list[tuple[datetime, str]]] = {t: [] for t in POST_TYPES}
    may_fold: list[Post] = []
    for batch in chunks(new_posts, TRIAGE_BATCH):
        for post, decided in zip(batch, classify_posts(classifier, batch), strict=True):
            state = answers.answer_state(post, roster, config, as_of)
            key = (post.created_at, post.url)
            lines.append(
                (key, decided.post_type, _compact_triage_entry(post, config, decided, state, shared, as_of))
            )
            if post.author.casefold() in fold_authors:
                may_fold.append(post)
                whole[post.url] = (post, decided, state)
                continue
            firsts = earliest[decided.post_type]
            if len(firsts) < limit or (firsts and key < firsts[-1]):
                insort(firsts, key)
                whole[post.url] = (post, decided, state)
                if len(firsts) > limit:
                    _, evicted = firsts.pop()
                    # A post read twice (an upstream page that shifted) keeps its place once.
                    if all(url != evicted for _, url in firsts):
                        whole.pop(evicted, None)
    may_fold.sort(key=lambda p: (p.created_at, p.url))
    kept, also_posted = fold_duplicates(may_fold, config)
    kept_ids = {id(post) for post in kept}
    folded = {post.url for post in may_fold if id(post) not in kept_ids}
    found = len(lines)
    lines.sort(key=lambda line: line[0])
    entries = [line for line in lines if line[0][1] not in folded]
    del lines
    items: list[TriageItem] = []
    listed: list[Post] = []
    states: dict[str, str] = {}
    shown_flags = _shown_per_type((post_type for _, post_type, _ in entries), limit)
    for ((_, url), post_type, line), shown in zip(entries, shown_flags, strict=True):
        copies = tuple(copy.url for copy in also_posted.get(url, ()))
        if shown:
            post, decided, states[url] = whole[url]
            listed.append(post)
            items.append(TriageItem(post_type, url, copies, post=post, decided=decided))
        else:
            items.append(TriageItem(post_type, url, copies, line=line))
    findings = TriageFindings(answer_states=states, also_posted=also_posted)
    return TriageDay(items, listed, findings, found)


def render_triage_list(
    new_posts: Iterable[Post],
    config: Settings,
    as_of: datetime,
    missing_channels: Sequence[str] = (),
    classifier: PostClassifier | None = None,
    unreadable: Sequence[Mapping[str, str]] = (),
    findings: TriageFindings | None = None,
    decisions: Sequence[Classification] | None = None,
) -> RenderedMessage:
    """``decisions``: the posts' types when the caller classified them already (``classify_posts``)."""
    findings = findings or TriageFindings()
    posts = list(new_posts)
    if decisions is None:
        decisions = classify_posts(classifier or PostClassifier.from_settings(config), posts)
    items = triage_items(posts, decisions, config, findings, as_of)
    return render_triage_items(items, config, as_of, missing_channels, unreadable, findings)


def render_triage_items(
    items: Sequence[TriageItem],
    config: Settings,
    as_of: datetime,
    missing_channels: Sequence[str] = (),
    unreadable: Sequence[Mapping[str, str]] = (),
    findings: TriageFindings | None = None,
    catching_up: Sequence[str] = (),
    since: datetime | None = None,
    untriaged: Mapping[str, Any] | None = None,
    archived_as: str = "",
    left_out_caught_up: bool = False,
    model_problem: str = "",
) -> RenderedMessage:
    """The [Triage] message of ``triage_items``: a draft for each post kept whole. ``catching_up``:
    the channels an earlier [Triage] of this T could not read, whose posts alone these items are;
    ``left_out_caught_up``: the items are (also) posts it left out because it could not read them.
    ``since``: where the items start when no [Triage] went out for this day (its day, or the part of
    it after the last [Triage]). ``untriaged``: ``{"after", "until", "command"}``, posts no [Triage]
    listed and this run cannot (older than it reads), with the backfill command that lists them.
    ``archived_as``: the archive's ``<T>/<name>`` the message goes under when not ``<T>/triage`` (a
    catch-up): its "… and N more" names that full list. ``model_problem``: the promoted triage model
    that storage could not give back, in words ("" when none), shown near the top."""
    writer = DraftWriter(config)
    findings = findings or TriageFindings()
    grouped: dict[str, list[Mapping[str, Any] | CompactTriageLine]] = {t: [] for t in POST_TYPES}
    urls: list[str] = []
    for item in items:
        if item.post is not None and item.decided is not None:
            _, entry = _triage_entry(item.post, config, item.decided, writer, findings, as_of)
            grouped[item.post_type].append(entry)
        elif item.line is not None:
            grouped[item.post_type].append(item.line)
        urls.append(item.url)
        urls.extend(item.copy_urls)
    base = {
        "as_of": as_of,
        "interval_start": since or day_window(as_of)[0],
        "no_run": since is not None,
        "untriaged": dict(untriaged) if untriaged else None,
        "total": sum(len(entries) for entries in grouped.values()),
        "missing_channels": [channel_named(c) for c in missing_channels],
        "catching_up": [channel_named(c) for c in catching_up],
        "left_out": left_out_caught_up,
        "title_max_chars": config.digest.title_max_chars,
        "unreadable_total": len(unreadable),
        "model_problem": model_problem,
    }

    def context(cap: SectionCap) -> dict[str, Any]:
        groups = [(TYPE_HEADINGS[t], *cap.shown(t, grouped[t])) for t in POST_TYPES if grouped[t]]
        problems, problems_more = cap.shown("unreadable", unreadable)
        return {
            **base,
            "groups": [{"heading": h, "entries": shown, "more": more} for h, shown, more in groups],
            "unreadable": list(problems),
            "unreadable_more": problems_more,
        }

    # Items span several lines each: a blank line keeps them apart.
    return _render_capped(
        "triage",
        "triage.md.j2",
        context,
        config,
        as_of,
        urls,
        separator="\n\n",
        full_list_at=full_list_name(archived_as) if archived_as else "",
    )


def _ticket_state(ticket: Any) -> str:
    state = ticket.status + (f", {ticket.resolution}" if ticket.resolution else "")
    if ticket.fix_versions:
        state += ", fixVersion " + "/".join(ticket.fix_versions)
    return state


def _drift_item(drift: StatusDrift, undone: Collection[int] = ()) -> dict[str, Any]:
    return {
        # Made by an earlier run and changed back upstream since: not made again.
        "undone": int(drift.suggestion.number or 0) in undone,
        "url": drift.suggestion.url,
        "title": drift.suggestion.title,
        "current": drift.current,
        "proposed": drift.proposed,
        "ticket_key": drift.ticket.key,
        "ticket_url": drift.ticket.url,
        "ticket_state": _ticket_state(drift.ticket),
    }


def render_uservoice_review(
    review: UserVoiceReview,
    config: Settings,
    as_of: datetime,
    applying: bool = False,
    missing_channels: Sequence[str] = (),
    pm: str = "",
    unreadable: Sequence[Mapping[str, str]] = (),
    undone: Collection[int] = (),
    answer_states: Mapping[str, str] | None = None,
) -> RenderedMessage:
    """``pm``: the community PM's Mattermost name (validated roster name), or "" to ping nobody.
    ``answer_states``: each listed suggestion's answer state at T (``answers.answer_state``) by URL,
    shown on its line as every listed item's is (SPEC §4).
    ``unreadable``: the UserVoice and Jira items that could not be read (the review lacks them).
    ``applying``: some proposed statuses are being applied upstream; ``undone``: the suggestions whose
    proposed change an earlier run made and someone changed back since (not made again)."""
    base = {
        "as_of": as_of,
        "pm": pm,
        "total": review.total,
        "applying": applying,
        "missing_channels": [channel_named(c) for c in missing_channels],
        # Named a few at most: the CM's [Triage] lists them all, with what was wrong.
        "unreadable": [f"{p['channel']} {p['item']}" for p in unreadable[:5]],
        "unreadable_total": len(unreadable),
        # Whether a new suggestion has a linked ticket is unknown when Jira, or one of its tickets,
        # could not be read: "no Jira ticket" would be a guess.
        "tickets_unknown": (
            "all"
            if "jira" in missing_channels
            else "some"
            if any(p["channel"] == "jira" for p in unreadable)
            else ""
        ),
        "title_max_chars": config.digest.title_max_chars,
        "drift_total": len(review.status_drift),
        "questions_total": len(review.needs_question),
        "offers_total": len(review.offers),
    }

    states = answer_states or {}

    def answered(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "answer_state": answers.ANSWER_STATE_WORDS.get(states.get(item["url"], ""), "")}

    def context(cap: SectionCap) -> dict[str, Any]:
        drift, drift_more = cap.shown("status_drift", review.status_drift)
        questions, questions_more = cap.shown("needs_question", review.needs_question)
        offers, offers_more = cap.shown("offers", review.offers)
        return {
            **base,
            "drift": [answered(_drift_item(d, undone)) for d in drift],
            "drift_more": drift_more,
            "questions": [answered(_item(p)) for p in questions],
            "questions_more": questions_more,
            "offers": [
                answered({**_item(o.suggestion), "excerpt": o.excerpt, "where": o.where}) for o in offers
            ],
            "offers_more": offers_more,
        }

    urls = (
        *(d.suggestion.url for d in review.status_drift),
        *(p.url for p in review.needs_question),
        *(o.suggestion.url for o in review.offers),
    )
    return _render_capped("uservoice_review", "uservoice_review.md.j2", context, config, as_of, urls)


def _review_item(item: StaleItem | AgedOutItem) -> dict[str, Any]:
    return {
        **_item(item.post),
        "answer": answers.ANSWER_STATE_WORDS[item.state],
        "last_activity": item.last_activity,
        "last_actor": item.last_actor,
    }


def render_weekly_review(
    stale: Mapping[str, Sequence[StaleItem]],
    config: Settings,
    as_of: datetime,
    stale_after_days: int,
    missing_channels: Sequence[str] = (),
    aged_out: Sequence[AgedOutItem] = (),
    footer: str = "",
) -> RenderedMessage:
    """The aged-out posts first (every channel, forum included), then the stale ones by channel.

    A stale post that also aged out is in both lists, as SPEC §4 defines them: its channel's list
    is every stale post of the channel, oldest activity first, and its count is theirs. The
    header's total counts each post once. ``footer``: already rendered Markdown that ends the
    review (the Community health section); the caps leave room for it.
    """
    still_stale = {channel: list(items) for channel, items in stale.items() if items}
    urls = tuple(
        dict.fromkeys(
            (*(i.post.url for i in aged_out), *(i.post.url for items in still_stale.values() for i in items))
        )
    )
    base = {
        "as_of": as_of,
        "total": len(urls),
        "stale_total": sum(len(items) for items in still_stale.values()),
        "aged_out_total": len(aged_out),
        "stale_after_days": stale_after_days,
        "help_wanted_max_age_days": config.digest.max_age_days,
        "missing_channels": [channel_named(c) for c in missing_channels],
        "title_max_chars": config.digest.title_max_chars,
        "footer": footer,
    }

    def context(cap: SectionCap) -> dict[str, Any]:
        listed_aged_out, aged_out_more = cap.shown("aged_out", aged_out)
        groups = [(channel, items, *cap.shown(channel, items)) for channel, items in still_stale.items()]
        return {
            **base,
            "aged_out": [_review_item(i) for i in listed_aged_out],
            "aged_out_more": aged_out_more,
            "groups": [
                {
                    "heading": channel_label_of(channel),
                    "total": len(items),
                    "entries": [_review_item(i) for i in shown],
                    "more": more,
                }
                for channel, items, shown, more in groups
            ],
        }

    return _render_capped("weekly_review", "weekly_review.md.j2", context, config, as_of, urls)


def render_closeout_summary(
    results: Sequence[ThankResult],
    skipped: Sequence[Nominee],
    params: CloseoutParams,
    config: Settings,
    mentions: Sequence[str] = (),
    trigger_url: str = "",
    unreadable: Sequence[Mapping[str, str]] = (),
    as_of: datetime | None = None,
) -> RenderedMessage:
    """The summary, or a dry run's plan; a plan a release prompted mentions ``mentions`` (SPEC §5).

    ``trigger_url``: where a dry run's reader triggers the closeout for real ("" for no link).
    ``unreadable``: the UserVoice and Jira items that could not be read (the plan lacks them).
    Each list is capped as a digest's section is (SPEC §7); its "… and N more" names the full list
    archived beside the summary under ``as_of`` (the run's T; default: the release date), never the
    Community page, which has no closeout lists.
    """
    if as_of is None:
        as_of = datetime.fromisoformat(params.release_date).replace(tzinfo=UTC)

    def entry(nominee: Nominee, error: str = "") -> dict[str, Any]:
        return {
            "url": nominee.url,
            "title": nominee.title,
            "name": nominee.name,
            "edition": nominee.edition,
            "connection": nominee.connection,
            "jira_key": nominee.jira_key,
            "reason": nominee.reason,
            "error": error,
        }

    # Each list's (nominee, error); those failed first: the PM has something to do about them.
    sections: dict[str, Sequence[tuple[Nominee, str]]] = {
        "failed": [(r.nominee, r.error) for r in results if r.outcome == "failed"],
        "thanked": [(r.nominee, "") for r in results if r.outcome in ("thanked", "dry_run")],
        "earlier": [(r.nominee, "") for r in results if r.outcome == "already_thanked"],
        # Thanked with another release (``nominee.reason`` says which): skipped, as the plan's are.
        "skipped": [
            *((n, "") for n in skipped),
            *((r.nominee, "") for r in results if r.outcome == "thanked_before"),
        ],
    }
    base = {
        "version": params.version,
        "release_date": params.release_date,
        "dry_run": params.dry_run,
        "announcement_url": params.announcement_url,
        "prompted": params.is_prompt,
        "also_released": list(params.also_released) if params.is_prompt else [],
        "mentions": list(mentions) if params.is_prompt else [],
        "trigger_url": trigger_url,
        "title_max_chars": config.digest.title_max_chars,
        "unreadable": [f"{p['channel']} {p['item']}" for p in unreadable[:5]],
        "unreadable_total": len(unreadable),
        **{f"{name}_total": len(items) for name, items in sections.items()},
    }

    def context(cap: SectionCap) -> dict[str, Any]:
        listed = {name: cap.shown(name, items) for name, items in sections.items()}
        return {
            **base,
            **{name: [entry(*item) for item in shown] for name, (shown, _) in listed.items()},
            **{f"{name}_more": more for name, (_, more) in listed.items()},
        }

    urls = (*(r.nominee.url for r in results), *(n.url for n in skipped))
    archived_only = config.model_copy(
        update={"digest": config.digest.model_copy(update={"full_list_url": ""})}
    )
    return _render_capped("release_closeout", "release_closeout.md.j2", context, archived_only, as_of, urls)
