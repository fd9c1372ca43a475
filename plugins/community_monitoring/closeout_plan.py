"""The release closeout's decisions, as pure functions (SPEC §4 "Release closeout").

Who to thank for a version, through which connection and with which words; who not, and why;
whether an upstream status update already thanked them; and the tracking-sheet rows afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from community_monitoring.params import VERSION_PATTERN, CloseoutParams, ParamError
from community_monitoring.records import JiraTicket, Post, Release, SheetRow
from community_monitoring.settings import CloseoutSection, SettingsError
from community_monitoring.timeutil import day_window, parse_time
from community_monitoring.uservoice_review import UserVoiceRules, fix_version_matches, link_tickets
from community_monitoring.versions import normalise_version, same_version

TEAM_CONNECTION = "uservoice_default"
ENTERPRISE_CONNECTION = "uservoice_sales"
# In a dry run's planned Team Edition thank-you, where the announcement will go.
ANNOUNCEMENT_URL_NEEDED = "(announcement URL needed)"


@dataclass(frozen=True)
class Nominee:
    suggestion_id: int
    title: str
    url: str
    name: str
    jira_key: str
    jira_status: str
    fix_version: str
    edition: str = ""
    connection: str = ""
    message: str = ""
    current_status: str = ""
    reason: str = ""
    # The ticket's other fixVersions (fixed on two branches): a thank-you for one of them was this one's.
    also_fixed_in: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "also_fixed_in", tuple(self.also_fixed_in))  # a list, read from JSON


@dataclass(frozen=True)
class CloseoutPlan:
    params: CloseoutParams
    thank: tuple[Nominee, ...]
    skipped: tuple[Nominee, ...]
    completed_status: str
    completed_status_id: int
    notify: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params.to_dict(),
            "thank": [asdict(n) for n in self.thank],
            "skipped": [asdict(n) for n in self.skipped],
            "completed_status": self.completed_status,
            "completed_status_id": self.completed_status_id,
            "notify": self.notify,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CloseoutPlan:
        return cls(
            params=CloseoutParams(**data["params"]),
            thank=tuple(Nominee(**n) for n in data["thank"]),
            skipped=tuple(Nominee(**n) for n in data["skipped"]),
            completed_status=data["completed_status"],
            completed_status_id=int(data["completed_status_id"]),
            notify=bool(data["notify"]),
        )


@dataclass(frozen=True)
class ThankResult:
    """What happened to one nominee: thanked, already_thanked (earlier or upstream), thanked_before
    (upstream, for another release: ``nominee.reason`` says which; not thanked again), dry_run, or
    failed (the write, or a dry run's look at what was sent, failed: ``error`` says how)."""

    nominee: Nominee
    outcome: str
    status_update_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # When an upstream status update already thanked them (its created_at), for the sheet.
    thanked_at: str = ""
    error: str = ""


def plan_closeout(
    suggestions: Iterable[Post],
    tickets: Iterable[JiraTicket],
    rules: UserVoiceRules,
    params: CloseoutParams,
    section: CloseoutSection,
    statuses: Mapping[int, str],
) -> CloseoutPlan:
    """Who to thank for ``params.version``; who not, and why."""
    completed = {name.casefold(): sid for sid, name in statuses.items()}.get(
        section.completed_status.casefold()
    )
    version = params.version
    linked = link_tickets(t for t in tickets if fix_version_matches(t.fix_versions, version))
    thank: list[Nominee] = []
    skipped: list[Nominee] = []
    for suggestion in sorted(suggestions, key=lambda s: (s.created_at, s.url)):
        ticket = linked.get(int(suggestion.number or 0))
        if ticket is None:
            continue
        base = Nominee(
            suggestion_id=int(suggestion.number or 0),
            title=suggestion.title,
            url=suggestion.url,
            name=suggestion.author,
            jira_key=ticket.key,
            jira_status=ticket.status,
            fix_version=next(v for v in ticket.fix_versions if same_version(v, version)),
            also_fixed_in=tuple(v for v in ticket.fix_versions if not same_version(v, version)),
        )
        reason = skip_reason(suggestion, ticket, rules, section.completed_status)
        if reason:
            skipped.append(_with(base, reason=reason))
            continue
        edition = rules.edition(suggestion, ticket)
        # A dry run (a release prompt above all) shows the plan before anyone has the URL.
        if edition == "Team" and not params.announcement_url and not params.dry_run:
            raise ParamError(
                "param 'announcement_url' is required to thank Team Edition nominators "
                f"(e.g. {suggestion.author} for {suggestion.url})"
            )
        template = section.enterprise_message if edition == "Enterprise" else section.team_message
        url = params.announcement_url or ANNOUNCEMENT_URL_NEEDED
        thank.append(
            _with(
                base,
                edition=edition,
                connection=ENTERPRISE_CONNECTION if edition == "Enterprise" else TEAM_CONNECTION,
                message=template.format(name=suggestion.author, version=version, url=url),
                current_status=suggestion.status,
            )
        )
    if completed is None and thank:
        # Only a plan that sets someone's status needs it: a forum without UserVoice data (or no
        # one to thank) plans nothing, and says so.
        raise SettingsError(
            f"settings key 'closeout.completed_status' is {section.completed_status!r}, "
            f"which UserVoice does not have (it has {sorted(statuses.values())})"
        )
    return CloseoutPlan(
        params=params,
        thank=tuple(thank),
        skipped=tuple(skipped),
        completed_status=section.completed_status,
        completed_status_id=int(completed or 0),
        notify=section.notify_supporters,
    )


def _with(nominee: Nominee, **changes: Any) -> Nominee:
    return Nominee(**{**asdict(nominee), **changes})


def skip_reason(suggestion: Post, ticket: JiraTicket, rules: UserVoiceRules, completed_status: str) -> str:
    if suggestion.duplicate_of:
        # Its supporters follow the suggestion it was merged into: a status update here reaches no one.
        return f"merged into suggestion {suggestion.duplicate_of}: UserVoice moved its supporters there (not updated here)"
    if not ticket.is_resolved:
        if ticket.status_category.casefold() == "done":
            return f"{ticket.key} is {ticket.status} but has no resolution in Jira: set one, or thank them by hand"
        return f"{ticket.key} is not resolved yet ({ticket.status})"
    if (rules.implied_status(ticket) or "").casefold() != completed_status.casefold():
        return f"{ticket.key} was resolved as {ticket.resolution}, not shipped"
    if not suggestion.author_id and suggestion.author in ("", "anonymous"):
        return "the suggestion has no creator in UserVoice (posted anonymously): there is no one to thank by name"
    if not suggestion.author or suggestion.author == "anonymous":
        # Who it is and why there is no name: a user without a display name and a creator missing
        # from /admin/users (an incomplete list) read alike, so the PM is told both, and whom.
        return (
            f"its creator, UserVoice user {suggestion.author_id}, has no display name or is not among the "
            "users UserVoice listed (/admin/users): thank them by hand"
        )
    return ""


def already_thanked(
    updates: Sequence[Mapping[str, Any]], version: str, message: str = "", completed_status_id: int = 0
) -> Mapping[str, Any] | None:
    """A status update that already told this suggestion's supporters it shipped in this version.

    Either the very message this run would send, or one saying "available in <product> <version>"
    for exactly this version (``11.2`` is not ``11.2.1`` nor ``11.20``), not "not available in",
    and, where the update names its status and ``completed_status_id`` is known, one that set
    Completed: a roadmap update ("Planned: will be available in 11.1") thanked nobody.
    """
    wanted = " ".join(message.split())
    for update in updates:
        if wanted and wanted in " ".join(str(update.get("body") or "").split()):
            return update
        if any(same_version(v, version) for v in shipped_versions(update, completed_status_id)):
            return update
    return None


def thanked_for_another_version(
    updates: Sequence[Mapping[str, Any]], version: str, completed_status_id: int = 0
) -> tuple[Mapping[str, Any], str] | None:
    """A status update that already told this suggestion's supporters it shipped in another release,
    with that release (``11.2``); None when none did.

    A ticket may list several fixVersions (a backport, or a release it is also noted in): its
    nominator is thanked once, for the release that shipped it, not again with each later closeout
    whose version the ticket also lists ("now available in 11.3" of a feature that came with 11.2).
    Read as ``already_thanked`` reads a thank-you: "available in <product> <version>", not a roadmap
    promise, and setting Completed where the update names its status.
    """
    for update in updates:
        other = [v for v in shipped_versions(update, completed_status_id) if not same_version(v, version)]
        if other and not reopened_since(updates, update_time(update), completed_status_id):
            return update, normalise_version(other[0])
    return None


def reopened_since(updates: Sequence[Mapping[str, Any]], when: str, completed_status_id: int = 0) -> bool:
    """Whether a status update made after ``when`` (a thank-you's time) set another status than
    Completed: the suggestion was reopened since (the feature pulled from that release), so that
    thank-you no longer stands and the release that ships it thanks its nominator. False when a time
    is not known: a nominator is rather not thanked twice."""
    if not when or not completed_status_id:
        return False
    thanked = parse_time(when)
    for update in updates:
        status, made = _status_set(update), update_time(update)
        if status is not None and status != str(completed_status_id) and made and parse_time(made) > thanked:
            return True
    return False


def update_time(update: Mapping[str, Any]) -> str:
    """When a status update was made, as the sheet writes times ("" when UserVoice does not say)."""
    try:
        return parse_time(str(update["created_at"])).isoformat(timespec="seconds")
    except (KeyError, ValueError):
        return ""


def upstream_result(
    nominee: Nominee,
    updates: Sequence[Mapping[str, Any]],
    version: str,
    completed_status_id: int = 0,
    ledger_thanks: Mapping[str, str] | None = None,
) -> ThankResult | None:
    """What was done before this run, or None (nothing).

    ``already_thanked``: an update thanked them for this version (its id and time go to the sheet).
    ``thanked_before``: one thanked them for another release (``thanked_for_another_version``), or,
    where the status updates do not show it as such (a thank-you text changed since), this ledger
    did for another of the ticket's fixVersions (``ledger_thanks``: that version -> when it was
    sent): they are not thanked again, and the summary lists them among the skipped, saying for
    which release. Neither counts once the suggestion was reopened since (``reopened_since``).
    """
    found = already_thanked(updates, version, nominee.message, completed_status_id)
    if found is not None:
        return ThankResult(
            nominee, "already_thanked", str(found.get("id", "")), thanked_at=update_time(found)
        )
    other = thanked_for_another_version(updates, version, completed_status_id)
    if other is not None:
        update, shipped_in = other
        return thanked_before(nominee, shipped_in, version, str(update.get("id", "")), update_time(update))
    for shipped_in, sent_at in (ledger_thanks or {}).items():
        if not reopened_since(updates, sent_at, completed_status_id):
            return thanked_before(nominee, shipped_in, version)
    return None


def thanked_before(
    nominee: Nominee, shipped_in: str, version: str, status_update_id: str = "", when: str = ""
) -> ThankResult:
    """The result for a nominee thanked with another release (``shipped_in``): not thanked again for
    ``version``; the reason, which the summary shows among the skipped, says for which and when."""
    reason = (
        f"already thanked for {normalise_version(shipped_in)}{' on ' + when[:10] if when else ''}, "
        f"when it shipped: not thanked again for {normalise_version(version)}"
    )
    return ThankResult(replace(nominee, reason=reason), "thanked_before", status_update_id, thanked_at=when)


# "available in <product> <version>": the version as written (``11.2``, ``v11.2.0``), whole (not the
# ``11.2`` of ``11.2.1`` or ``11.20``).
_SHIPPED_IN = re.compile(r"\bavailable in \S+ \b(v?\d+(?:\.\d+)*)(?![\w.]*\d)", re.I)


def shipped_versions(update: Mapping[str, Any], completed_status_id: int = 0) -> list[str]:
    """The versions a status update told supporters the feature is available in, as written: none
    for a roadmap promise or a denial, nor, where the update names its status and
    ``completed_status_id`` is known, for an update that set another status than Completed."""
    status = _status_set(update)
    if completed_status_id and status is not None and status != str(completed_status_id):
        return []
    body = " ".join(str(update.get("body") or "").split())
    return [
        m.group(1)
        for m in _SHIPPED_IN.finditer(body)
        if _NOT_SHIPPED_BEFORE.search(body, 0, m.start()) is None
    ]


# Words before "available in" that say it is not (yet): "not available in", "will be available in"
# (a roadmap promise), "should soon be available in", "it'll be available in", with an adverb of how
# before "available" ("will be generally available in", "isn't fully available in").
_NOT_SHIPPED_BEFORE = re.compile(
    r"(?:\bnot|n['\u2019]t|\bnever|(?:\b(?:will|would|should|may|might|to)|['\u2019]ll)(?:[ \t]+\w+)?[ \t]+be)"
    r"(?:[ \t]+\w+ly)?[ \t]+$",
    re.I,
)


def _status_set(update: Mapping[str, Any]) -> str | None:
    """The id of the status a status update set (``links.status``), when it says."""
    links = update.get("links")
    status = links.get("status") if isinstance(links, Mapping) else None
    if isinstance(status, Mapping):  # a side-loaded link may be an object
        status = status.get("id")
    return None if status is None else str(status)


def closeout_sheet_rows(
    plan: CloseoutPlan,
    results: Iterable[ThankResult],
    now: str,
    dated: Collection[tuple[str, str]] = (),
) -> list[SheetRow]:
    """The sheet rows of everyone thanked for this version (now or before); none for a failed one.

    Someone thanked before keeps the row's release date and time of thanks (an empty cell never
    clears one): a later run with another ``release_date`` did not thank them. A row without a
    release date yet gets this closeout's (an earlier run that thanked them may have failed before
    its sheet update): ``dated`` holds the keys (``SheetRow.key``) of the rows that have one. Their
    time of thanks is filled in only when the status update that thanked them upstream says when.
    """
    rows = []
    for r in results:
        if r.outcome not in ("thanked", "already_thanked"):
            continue
        row = SheetRow(
            suggestion_id=str(r.nominee.suggestion_id),
            fix_version=r.nominee.fix_version,
            title=r.nominee.title,
            url=r.nominee.url,
            nominator=r.nominee.name,
            edition=r.nominee.edition,
            jira_key=r.nominee.jira_key,
            jira_status=r.nominee.jira_status,
            uservoice_status=plan.completed_status,
            release_date=plan.params.release_date,
            thanked_at=(r.thanked_at or now) if r.outcome == "thanked" else r.thanked_at,
            status_update_id=r.status_update_id,
        )
        if r.outcome == "already_thanked" and row.key in dated:
            row = replace(row, release_date="")
        rows.append(row)
    return rows


# -- the release prompt (SPEC §5): which release the daily run announces ----------------------


def releases_in_interval(releases: Iterable[Release], as_of: datetime) -> list[Release]:
    """The releases published in the day's interval (T − 1 day, T], the latest first; drafts and
    prereleases are not releases here."""
    start, end = day_window(as_of)
    published = [
        r
        for r in releases
        if not r.draft
        and not r.prerelease
        and r.published_at is not None
        and start < r.published_at <= end
        and release_version(r)
    ]
    return sorted(published, key=lambda r: (r.published_at, r.tag), reverse=True)


def release_in_interval(releases: Iterable[Release], as_of: datetime) -> Release | None:
    """The release the day's prompt is for: the latest of the interval (the others ride along in
    its event, :func:`release_event_extra`), None when there is none."""
    found = releases_in_interval(releases, as_of)
    return found[0] if found else None


def release_version(release: Release) -> str:
    """The version the team closes out: ``v11.1.0`` is ``11.1`` (Jira's fixVersion), ``v11.1.2`` stays.

    "" when neither the tag nor the name is a version (``nightly``, ``server-v11``).
    """
    for label in (release.tag, release.name):
        version = normalise_version(label or "")
        if re.fullmatch(VERSION_PATTERN, version):
            return version.removesuffix(".0") if version.count(".") == 2 else version
    return ""


def release_event_extra(release: Release, repo: str, others: Iterable[Release] = ()) -> dict[str, Any]:
    """What the release Asset event carries: enough for the closeout to plan without asking GitHub.

    A task emits one event per run, so the other releases of the same interval (an extended-support
    patch published beside the current one) travel in ``also_released``: the plan names them.
    """
    published = release.published_at.isoformat() if release.published_at else ""
    version = release_version(release)
    also = list(dict.fromkeys(v for v in (release_version(r) for r in others) if v and v != version))
    return {
        "version": version,
        "tag": release.tag,
        "url": release.url,
        "published_at": published,
        "repo": repo,
        "also_released": also,
    }
