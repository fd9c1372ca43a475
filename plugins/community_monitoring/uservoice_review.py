"""The daily [UserVoice Review] for the community PM (SPEC §4 (c)), as pure functions.

Three lists, as of T: suggestions whose status differs from the one their linked Jira ticket
implies; new suggestions with no linked ticket and no admin response; requesters who offer to
build what they asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from community_monitoring.answers import status_at
from community_monitoring.records import JiraTicket, Post, Release, SheetRow, same_author
from community_monitoring.rules import keyword_pattern
from community_monitoring.settings import Settings, SettingsError
from community_monitoring.sheet_plan import ReleasesAt
from community_monitoring.timeutil import day_window
from community_monitoring.versions import release_key, same_version


def label_key(label: str) -> str:
    """A label as compared: case, and spaces, hyphens or underscores between words, ignored.

    Jira labels cannot hold a space, so the configured "Help Wanted" is "Help-Wanted" or
    "help_wanted" on a real ticket."""
    return "-".join(word for word in re.split(r"[\s_-]+", label.casefold()) if word)


@dataclass(frozen=True)
class StatusRule:
    status: str
    conditions: Mapping[str, Any]

    def matches(self, ticket: JiraTicket) -> bool:
        def among(value: str | None, names: list[str]) -> bool:
            return value is not None and value.casefold() in {n.casefold() for n in names}

        checks = {
            "resolution": lambda names: among(ticket.resolution, names),
            "status_category": lambda names: among(ticket.status_category, names),
            "status": lambda names: among(ticket.status, names),
            "label": lambda names: bool(
                {label_key(n) for n in names} & {label_key(x) for x in ticket.labels}
            ),
            # Done without a resolution (a workflow that sets none) is not open: never "resolved: false".
            "resolved": lambda flag: ticket.is_done is bool(flag),
            "has_fix_version": lambda flag: bool(ticket.fix_versions) is bool(flag),
        }
        return all(checks[key](value) for key, value in self.conditions.items())


@dataclass(frozen=True)
class UserVoiceRules:
    mapping: tuple[StatusRule, ...]
    enterprise_categories: frozenset[str]
    enterprise_labels: frozenset[str]
    offer_phrases: tuple[str, ...]
    apply_status_updates: bool
    status_update_body: str

    @classmethod
    def from_settings(cls, settings: Settings) -> UserVoiceRules:
        section = settings.uservoice
        return cls(
            mapping=tuple(StatusRule(rule.status, rule.when.given()) for rule in section.status_mapping),
            enterprise_categories=frozenset(c.casefold() for c in section.enterprise_categories),
            enterprise_labels=frozenset(c.casefold() for c in section.enterprise_labels),
            offer_phrases=tuple(section.offer_phrases),
            apply_status_updates=section.apply_status_updates,
            status_update_body=section.status_update_body,
        )

    def implied_status(self, ticket: JiraTicket) -> str | None:
        return next((rule.status for rule in self.mapping if rule.matches(ticket)), None)

    def edition(self, suggestion: Post, ticket: JiraTicket | None) -> str:
        labels = {label_key(label) for label in (*suggestion.labels, *(ticket.labels if ticket else ()))}
        enterprise = suggestion.category.casefold() in self.enterprise_categories or bool(
            labels & {label_key(label) for label in self.enterprise_labels}
        )
        return "Enterprise" if enterprise else "Team"

    def check_statuses_known(self, known: Iterable[str]) -> None:
        """Every status the mapping proposes must exist upstream, or applying it would fail."""
        names = {name.casefold() for name in known}
        missing = sorted({rule.status for rule in self.mapping if rule.status.casefold() not in names})
        if missing:
            raise SettingsError(
                f"config key 'uservoice.status_mapping' proposes statuses UserVoice does not have: {missing}; "
                f"UserVoice has {sorted(known)}"
            )


def tickets_at(tickets: Iterable[JiraTicket], as_of: datetime) -> list[JiraTicket]:
    """The tickets as they stood at T: none created after it, none resolved after it."""
    return [ticket for ticket in (t.at(as_of) for t in tickets) if ticket is not None]


def linked_tickets(tickets: Iterable[JiraTicket]) -> dict[int, tuple[JiraTicket, ...]]:
    """Suggestion id → every ticket that links it, the one that speaks for it first: one that
    shipped, else one still open, else one declined; the most recently updated among equals. A
    Won't Fix follow-up, or an open one, updated after the ticket that shipped the idea, must
    neither decline it nor take it back from Completed (nor keep its nominator from being thanked)."""
    linked: dict[int, list[JiraTicket]] = {}
    for ticket in tickets:
        for suggestion_id in ticket.suggestion_ids:
            linked.setdefault(suggestion_id, []).append(ticket)
    for found in linked.values():
        found.sort(key=lambda t: (t.updated_at or "", t.key), reverse=True)
        found.sort(key=_standing)  # stable: the latest first within each standing
    return {sid: tuple(found) for sid, found in linked.items()}


SHIPPED, OPEN, DECLINED = 0, 1, 2  # how a ticket stands, in the order tickets speak for a suggestion


def _standing(ticket: JiraTicket) -> int:
    return SHIPPED if ticket.shipped else OPEN if not ticket.is_done else DECLINED


def link_tickets(tickets: Iterable[JiraTicket]) -> dict[int, JiraTicket]:
    """Suggestion id → the linked ticket that speaks for it (``linked_tickets``' first)."""
    return {sid: found[0] for sid, found in linked_tickets(tickets).items()}


@dataclass(frozen=True)
class StatusDrift:
    suggestion: Post
    ticket: JiraTicket
    current: str  # the status at T
    proposed: str
    # Its status changed after T: the review of T lists it, but nothing is written from T's data.
    moved_since: bool = False


@dataclass(frozen=True)
class Offer:
    suggestion: Post
    excerpt: str
    where: str  # "suggestion" or "comment"


@dataclass(frozen=True)
class UserVoiceReview:
    status_drift: tuple[StatusDrift, ...]
    needs_question: tuple[Post, ...]
    offers: tuple[Offer, ...]

    @property
    def total(self) -> int:
        """How many suggestions to look at: one listed in two sections is one suggestion."""
        listed = [d.suggestion for d in self.status_drift] + list(self.needs_question)
        return len({s.source_id for s in listed + [o.suggestion for o in self.offers]})


def _excerpt(text: str, start: int, width: int = 160) -> str:
    left = max(start - width // 3, 0)
    return (
        ("…" if left else "") + text[left : left + width].strip() + ("…" if left + width < len(text) else "")
    )


_CURLY_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def plain_words(text: str) -> str:
    """The text as the offer phrases are written: straight apostrophes (phones type "I’d"), and
    one space between words (a phrase across a line break is still the phrase)."""
    return " ".join(text.translate(_CURLY_APOSTROPHES).split())


# What may follow an offer phrase: the end of its clause (a new sentence, one that starts with a
# capital after a line break ``plain_words`` joined, included), or a word that keeps it an offer of
# the thing asked for ("… for this", "… if you agree", "… myself", "… with tests"). Any other word
# makes the phrase's object something else ("we can build it locally", "I can build this
# workaround"); a question mark makes it a question ("how do I open a pull request?").
_OFFER_GOES_ON = (
    "adding", "after", "as", "feature", "fixing", "if", "implementing", "for", "in", "myself", "next",
    "now", "once", "ourselves", "please", "so", "soon", "later", "that", "this", "to", "today",
    "tomorrow", "too", "when", "which", "with", "within",
)  # fmt: skip
_OFFER_FOLLOWER = (
    r"(?=[ ]?(?:$|[.,;:!()\[\]\-\u2013\u2014]|(?-i:[A-Z])|(?:" + "|".join(_OFFER_GOES_ON) + r")(?!\w)))"
)


def offer_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """The rules file's offer phrases ("happy to submit a PR", "I can build this"), each as a whole
    phrase ending its clause or followed by a word that keeps it an offer (``_OFFER_GOES_ON``): what
    an author says offering to build the thing asked for, read on ``plain_words``."""
    any_phrase = keyword_pattern(phrases)
    if any_phrase is None:
        return None
    return re.compile(f"(?:{any_phrase.pattern}){_OFFER_FOLLOWER}", any_phrase.flags)


# An offer phrase in a question is someone else's when the words before it in its sentence name
# someone and not the author ("Would anyone be happy to submit a PR for this?", "Are you happy to
# contribute to this?"); one the author speaks in ("I'm happy to submit a PR for this, would that
# help?") or that names nobody, their "I" left out ("Happy to submit a PR for this, would that
# help?"), is theirs. The sentence is read at most this far either side of the phrase, so that a
# long text of phrases is read in linear time.
_SENTENCE_REACH = 200
_QUESTION_AHEAD = re.compile(rf"[^.!?]{{0,{_SENTENCE_REACH}}}\?")
_SPEAKER = re.compile(r"\b(?:i|we|me|us|my|our)\b", re.IGNORECASE)
_SOMEONE_ELSE = re.compile(
    r"\b(?:you|who|anyone|anybody|someone|somebody|everyone|everybody|nobody|they|he|she|people|folks"
    r"|devs?|developers?|team|contributors?|maintainers?)\b",
    re.IGNORECASE,
)


def offer_in(text: str, offer: re.Pattern[str]) -> re.Match[str] | None:
    """The first offer to build the thing asked for in ``text`` (``plain_words``), by ``offer_pattern``:
    a phrase in a question does not count where the words before it name someone else, not the author."""
    for found in offer.finditer(text):
        if not _QUESTION_AHEAD.match(text, found.end()):
            return found
        before = text[max(0, found.start() - _SENTENCE_REACH) : found.start()]
        sentence = re.split(r"[.!?]", before)[-1]
        if _SPEAKER.search(sentence) or _SPEAKER.match(found[0]) or not _SOMEONE_ELSE.search(sentence):
            return found
    return None


def admin_responded_by(suggestion: Post, as_of: datetime) -> bool:
    """Whether the suggestion had an admin response at T (one given after T did not exist yet; one
    with no time to place it by counts as given)."""
    timed = [r for r in suggestion.replies if r.kind == "admin_response"]
    if not timed:
        return suggestion.admin_responded
    return any(r.created_at <= as_of for r in timed)


def review_suggestions(
    suggestions: Iterable[Post],
    tickets: Iterable[JiraTicket],
    rules: UserVoiceRules,
    as_of: datetime,
) -> UserVoiceReview:
    linked = link_tickets(tickets_at(tickets, as_of))
    offer = offer_pattern(rules.offer_phrases)
    interval_start, _ = day_window(as_of)
    drift: list[StatusDrift] = []
    questions: list[Post] = []
    offers: list[Offer] = []
    for suggestion in suggestions:
        if suggestion.created_at > as_of:
            continue
        ticket = linked.get(int(suggestion.number or 0))
        current = status_at(suggestion, as_of)
        # A suggestion merged into another is followed there: no status of its own to move.
        if ticket is not None and not suggestion.duplicate_of:
            proposed = rules.implied_status(ticket)
            if proposed and proposed.casefold() != current.casefold():
                moved = current.casefold() != suggestion.status.casefold()
                drift.append(StatusDrift(suggestion, ticket, current or "(no status)", proposed, moved))
        is_new = interval_start < suggestion.created_at <= as_of
        if (
            is_new
            and ticket is None
            and not suggestion.duplicate_of
            and not admin_responded_by(suggestion, as_of)
        ):
            questions.append(suggestion)
        if offer is None:
            continue
        body = plain_words(suggestion.body)
        found = offer_in(body, offer) if is_new else None
        if found:
            offers.append(Offer(suggestion, _excerpt(body, found.start()), "suggestion"))
            continue
        for reply in suggestion.replies:
            if not (interval_start < reply.created_at <= as_of):
                continue
            if not same_author(reply.author, suggestion.author, reply.author_id, suggestion.author_id):
                continue
            said = plain_words(reply.body)
            found = offer_in(said, offer)
            if found:
                offers.append(Offer(suggestion, _excerpt(said, found.start()), "comment"))
                break

    def by_created(item: Any) -> Any:
        post = item if isinstance(item, Post) else item.suggestion
        return (post.created_at, post.url)

    return UserVoiceReview(
        status_drift=tuple(sorted(drift, key=by_created)),
        needs_question=tuple(sorted(questions, key=by_created)),
        offers=tuple(sorted(offers, key=by_created)),
    )


def fix_version_matches(ticket_versions: Iterable[str], version: str) -> bool:
    """Whether a ticket's fixVersions name ``version``: ``v11.1`` and ``11.1.0`` match ``11.1``."""
    return any(same_version(v, version) for v in ticket_versions)


@dataclass(frozen=True)
class StatusChange:
    """A proposed status to apply upstream, with the UserVoice status id it needs."""

    suggestion_id: int
    title: str
    url: str
    current: str
    proposed: str
    status_id: int
    jira_key: str


def status_changes(
    drift: Iterable[StatusDrift], statuses: Mapping[int, str], rules: UserVoiceRules
) -> list[StatusChange]:
    """The review's proposed statuses as upstream changes; empty unless the team switched it on.

    A suggestion whose status moved after T (someone set it since) is left as it is now: T's data
    cannot say it is wrong."""
    if not rules.apply_status_updates:
        return []
    by_name = {name.casefold(): status_id for status_id, name in statuses.items()}
    rules.check_statuses_known(statuses.values())
    return [
        StatusChange(
            suggestion_id=int(d.suggestion.number or 0),
            title=d.suggestion.title,
            url=d.suggestion.url,
            current=d.current,
            proposed=d.proposed,
            status_id=int(by_name[d.proposed.casefold()]),
            jira_key=d.ticket.key,
        )
        for d in drift
        if not d.moved_since
    ]


def planned_sheet_rows(
    suggestions: Iterable[Post],
    tickets: Iterable[JiraTicket],
    rules: UserVoiceRules,
    releases: Iterable[Release],
    as_of: datetime,
) -> list[SheetRow]:
    """Rows for suggestions whose linked tickets have a fixVersion still waiting at T (SPEC §5): not
    released at T and not archived unreleased, as ``sheet_plan.ReleasesAt`` decides.

    Every linked ticket still open (planned, started, help wanted) or shipped and waiting for the
    release counts, not only the one that decides the status: one row per (suggestion, version),
    from the ticket that decides among those naming the version. A declined ticket never ships.
    """
    linked = linked_tickets(tickets_at(tickets, as_of))
    released = ReleasesAt.of(releases, as_of)
    rows = []
    for suggestion in suggestions:
        seen: set[str] = set()
        for ticket in linked.get(int(suggestion.number or 0), ()):
            if _standing(ticket) == DECLINED:
                continue
            for version in ticket.fix_versions:
                # One row per version as the sheet keys it: "v11.1" and "11.1.0" are one release.
                # Waiting: not released at T, nor archived unreleased (nothing waits for that one).
                waiting = released.state(version, ticket.version(version)) == "waiting"
                if waiting and release_key(version) not in seen:
                    seen.add(release_key(version))
                    rows.append(_sheet_row(suggestion, ticket, version, rules, as_of))
    return rows


def named_versions(
    suggestions: Iterable[Post], tickets: Iterable[JiraTicket], as_of: datetime
) -> list[tuple[str, str]]:
    """(suggestion id, ``release_key``) for every fixVersion a linked ticket names at T, shipped or
    not: a sheet row for one of them has not slipped (``sheet_plan.slipped_rows``)."""
    linked = linked_tickets(tickets_at(tickets, as_of))
    return sorted(
        {
            (str(suggestion.number), release_key(version))
            for suggestion in suggestions
            for ticket in linked.get(int(suggestion.number or 0), ())
            for version in ticket.fix_versions
        }
    )


def jira_release_days(
    suggestions: Iterable[Post], tickets: Iterable[JiraTicket], releases: Iterable[Release], as_of: datetime
) -> list[tuple[str, str, str]]:
    """(suggestion id, ``release_key``, day) for every fixVersion a linked ticket names at T that Jira
    released by T and dates (``ReleasesAt.jira_release_day``): the sheet's rows of them are dated
    (``sheet_plan.dated_rows``)."""
    linked = linked_tickets(tickets_at(tickets, as_of))
    released = ReleasesAt.of(releases, as_of)
    return sorted(
        {
            (str(suggestion.number), release_key(version), day)
            for suggestion in suggestions
            for ticket in linked.get(int(suggestion.number or 0), ())
            for version in ticket.fix_versions
            if (day := released.jira_release_day(version, ticket.version(version)))
        }
    )


def _sheet_row(
    suggestion: Post, ticket: JiraTicket, version: str, rules: UserVoiceRules, as_of: datetime
) -> SheetRow:
    # The status at T, as the same run's review shows it: a status set after T does not exist yet.
    return SheetRow(
        suggestion_id=str(suggestion.number),
        fix_version=version,
        title=suggestion.title,
        url=suggestion.url,
        nominator=suggestion.author,
        edition=rules.edition(suggestion, ticket),
        jira_key=ticket.key,
        jira_status=ticket.status,
        uservoice_status=status_at(suggestion, as_of),
    )
