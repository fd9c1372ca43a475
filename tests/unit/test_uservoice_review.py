"""The UserVoice review (SPEC §4 (c)) as tables: every Jira state of the mapping, no ticket, offers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from builders import SETTINGS, T, ago, post, reply
from community_monitoring.answers import status_at
from community_monitoring.records import JiraTicket, JiraVersion, Post, Release, Reply, SheetRow, StatusMove
from community_monitoring.settings import SettingsError, load_settings
from community_monitoring.sources.jira import normalise_ticket
from community_monitoring.uservoice_review import (
    StatusChange,
    StatusDrift,
    UserVoiceRules,
    fix_version_matches,
    jira_release_days,
    link_tickets,
    named_versions,
    planned_sheet_rows,
    review_suggestions,
    status_changes,
)

RULES = UserVoiceRules.from_settings(SETTINGS)
PORTAL = "https://feedback.example/forums/1-general/suggestions"


def ticket(
    key: str = "MM-1",
    *,
    status: str = "Open",
    category: str = "To Do",
    resolution: str | None = None,
    fix: tuple[str, ...] = (),
    labels: tuple[str, ...] = (),
    links: tuple[str, ...] = (f"{PORTAL}/100-idea",),
    updated: str = "2026-11-10T00:00:00+00:00",
    versions: tuple[JiraVersion, ...] = (),
) -> JiraTicket:
    return JiraTicket(
        key=key,
        url=f"https://jira.example/browse/{key}",
        summary="s",
        status=status,
        status_category=category,
        resolution=resolution,
        fix_versions=fix,
        labels=labels,
        linked_urls=links,
        updated_at=updated,
        versions=versions,
    )


HOUR = timedelta(hours=1)


def at(jira: JiraTicket, created: datetime | None = None, resolved: datetime | None = None) -> JiraTicket:
    """The ticket with the times Jira gives (``created``, ``resolutiondate``)."""
    return replace(
        jira,
        created_at=created.isoformat() if created else None,
        resolved_at=resolved.isoformat() if resolved else None,
    )


def suggestion(
    status: str = "Under Review", sid: int = 100, created_days_ago: float = 40, **kwargs: object
) -> Post:
    return post(
        channel="uservoice",
        number=sid,
        source_id=str(sid),
        url=f"{PORTAL}/{sid}-idea",
        author=kwargs.pop("author", "Lena Fischer"),
        created=ago(days=created_days_ago),
        status=status,
        admin_responded=kwargs.pop("admin_response", False),
        **kwargs,
    )


@pytest.mark.parametrize(
    ("case", "jira", "implied"),
    [
        ("resolved Done", ticket(resolution="Done", status="Closed", category="Done"), "Completed"),
        ("resolved Fixed", ticket(resolution="Fixed", category="Done"), "Completed"),
        ("resolved Won't Do", ticket(resolution="Won't Do", category="Done"), "Declined"),
        ("resolved Won't Fix", ticket(resolution="won't fix", category="Done"), "Declined"),
        ("resolved Declined", ticket(resolution="Declined", category="Done"), "Declined"),
        ("resolved Duplicate: no rule", ticket(resolution="Duplicate", category="Done"), None),
        ("Help Wanted label", ticket(labels=("Help Wanted",), category="In Progress"), "Help Wanted"),
        ("in progress", ticket(status="In Review", category="In Progress", fix=("v11.2",)), "Started"),
        ("open with a fixVersion", ticket(fix=("v11.2",)), "Planned"),
        ("open, nothing else", ticket(), "Under Review"),
        ("Done with a Help Wanted label", ticket(resolution="Done", labels=("Help Wanted",)), "Completed"),
        # Jira labels hold no spaces: "Help Wanted" is written with a hyphen or an underscore there.
        ("Help-Wanted, as Jira spells it", ticket(labels=("Help-Wanted",)), "Help Wanted"),
        ("help_wanted", ticket(labels=("help_wanted",), fix=("v11.2",)), "Help Wanted"),
        ("two labels Help and Wanted are not it", ticket(labels=("Help", "Wanted")), "Under Review"),
        ("HelpWanted run together is another word", ticket(labels=("HelpWanted",)), "Under Review"),
        # Done in a workflow that sets no resolution is not open: never back to Planned or Under Review.
        ("Done without a resolution", ticket(status="Done", category="Done", fix=("v11.1",)), None),
    ],
)
def test_mapping_first_match_wins(case: str, jira: JiraTicket, implied: str | None) -> None:
    assert RULES.implied_status(jira) == implied, case


@pytest.mark.parametrize(
    ("case", "current", "jira", "proposed"),
    [
        ("planned, ticket done", "Planned", ticket(resolution="Done"), "Completed"),
        ("already completed", "Completed", ticket(resolution="Done"), None),
        ("case differs only", "completed", ticket(resolution="Done"), None),
        ("under review, ticket started", "Under Review", ticket(category="In Progress"), "Started"),
        ("no status yet, ticket open", "", ticket(), "Under Review"),
        ("duplicate: nothing proposed", "Planned", ticket(resolution="Duplicate"), None),
        # As of T (SPEC §4): a ticket created after T did not link the suggestion yet; one resolved
        # after T was still open at T.
        (
            "ticket created after T",
            "Under Review",
            at(ticket(category="In Progress"), created=T + HOUR),
            None,
        ),
        (
            "ticket created before T",
            "Under Review",
            at(ticket(category="In Progress"), created=T - HOUR),
            "Started",
        ),
        (
            "resolved Done after T: open at T, with its fixVersion",
            "Planned",
            at(ticket(resolution="Done", category="Done", fix=("v11.3",)), resolved=T + 4 * HOUR),
            None,
        ),
        (
            "resolved Done before T",
            "Planned",
            at(ticket(resolution="Done", category="Done", fix=("v11.3",)), resolved=T - HOUR),
            "Completed",
        ),
    ],
)
def test_status_drift(case: str, current: str, jira: JiraTicket, proposed: str | None) -> None:
    review = review_suggestions([suggestion(current)], [jira], RULES, T)
    found = [(d.current, d.proposed) for d in review.status_drift]
    assert found == ([(current or "(no status)", proposed)] if proposed else []), case


@pytest.mark.parametrize(
    ("case", "description", "remote_links", "linked"),
    [
        ("remote link", None, [{"object": {"url": f"{PORTAL}/100-idea"}}], {100}),
        ("URL in a plain description", f"Requested in {PORTAL}/101-other-idea.", [], {101}),
        (
            "URL in an Atlassian document",
            {
                "type": "doc",
                "content": [
                    {
                        "type": "paragraph",
                        "content": [
                            {
                                "type": "text",
                                "text": "idea",
                                "marks": [{"type": "link", "attrs": {"href": f"{PORTAL}/102-x"}}],
                            }
                        ],
                    }
                ],
            },
            [],
            {102},
        ),
        ("no link", "Internal refactoring", [{"object": {"url": "https://github.com/o/r/pull/1"}}], set()),
    ],
)
def test_ticket_links(case: str, description: object, remote_links: list, linked: set[int]) -> None:
    raw = {"key": "MM-9", "fields": {"summary": "s", "description": description, "status": {"name": "Open"}}}
    jira = normalise_ticket(raw, remote_links, "https://jira.example")
    assert set(link_tickets([jira])) == linked, case
    assert jira.url == "https://jira.example/browse/MM-9"


EARLY, LATE = "2026-01-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("case", "tickets", "decides"),
    [
        (
            "two open tickets: the latest updated",
            [ticket("MM-1", updated=EARLY), ticket("MM-2", category="In Progress", updated=LATE)],
            "MM-2",
        ),
        (
            "the one that shipped, before a later open follow-up",
            [ticket("MM-1", resolution="Fixed", updated=EARLY), ticket("MM-2", updated=LATE)],
            "MM-1",
        ),
        (
            "the one that shipped, before a later Won't Fix",
            [
                ticket("MM-1", resolution="Fixed", updated=EARLY),
                ticket("MM-2", resolution="Won't Fix", updated=LATE),
            ],
            "MM-1",
        ),
        (
            "an open one, before a later declined one",
            [ticket("MM-1", updated=EARLY), ticket("MM-2", resolution="Won't Do", updated=LATE)],
            "MM-1",
        ),
        (
            "two that shipped: the latest updated",
            [
                ticket("MM-1", resolution="Done", updated=EARLY),
                ticket("MM-2", resolution="Fixed", updated=LATE),
            ],
            "MM-2",
        ),
    ],
)
def test_the_ticket_that_speaks_for_a_suggestion(case: str, tickets: list[JiraTicket], decides: str) -> None:
    assert link_tickets(tickets)[100].key == decides, case
    assert link_tickets(list(reversed(tickets)))[100].key == decides, case


def test_a_sheet_row_for_each_linked_tickets_version() -> None:
    shipped = ticket("MM-1", resolution="Done", fix=("v11.2",), updated=EARLY)
    follow_up = ticket("MM-2", fix=("v11.3",), updated=LATE)
    declined = ticket("MM-3", resolution="Won't Fix", fix=("v11.4",), updated=LATE)
    rows = planned_sheet_rows([suggestion("Completed")], [follow_up, declined, shipped], RULES, RELEASES, T)
    assert [(r.fix_version, r.jira_key) for r in rows] == [("v11.2", "MM-1"), ("v11.3", "MM-2")]


def admin_response(at: datetime) -> Reply:
    return reply(
        "pm.admin", at, author_platform_staff=True, kind="admin_response", body="Thanks, we'll look."
    )


@pytest.mark.parametrize(
    ("case", "item", "tickets", "listed"),
    [
        ("new, no ticket, no admin response", suggestion(sid=5, created_days_ago=0.5), [], True),
        ("new but has a ticket", suggestion(sid=100, created_days_ago=0.5), [ticket()], False),
        ("new but admin responded", suggestion(sid=5, created_days_ago=0.5, admin_response=True), [], False),
        (
            "new, admin responded before T",
            suggestion(
                sid=5, created_days_ago=0.5, admin_response=True, replies=(admin_response(ago(hours=2)),)
            ),
            [],
            False,
        ),
        (
            "new, the admin response came after T: it did not exist yet",
            suggestion(
                sid=5,
                created_days_ago=0.5,
                admin_response=True,
                replies=(admin_response(T + timedelta(hours=3)),),
            ),
            [],
            True,
        ),
        ("older than the interval", suggestion(sid=5, created_days_ago=2), [], False),
        ("created after T", suggestion(sid=5, created_days_ago=-0.1), [], False),
    ],
)
def test_new_suggestions_needing_a_question(
    case: str, item: Post, tickets: list[JiraTicket], listed: bool
) -> None:
    review = review_suggestions([item], tickets, RULES, T)
    assert (item in review.needs_question) is listed, case


@pytest.mark.parametrize(
    ("case", "item", "listed"),
    [
        (
            "offer in a new suggestion",
            suggestion(created_days_ago=0.5, body="I'd be happy to submit a PR for this."),
            True,
        ),
        (
            "a new suggestion asking whether anyone would build it offers nothing",
            suggestion(created_days_ago=0.5, body="Would anyone be happy to submit a PR for this?"),
            False,
        ),
        (
            "the requester asking in a new comment whether someone would build it offers nothing",
            suggestion(
                replies=(
                    reply("Lena Fischer", at=ago(hours=3), body="Is anyone happy to contribute to this?"),
                )
            ),
            False,
        ),
        (
            "offer in an old suggestion",
            suggestion(created_days_ago=5, body="I'd be happy to submit a PR."),
            False,
        ),
        (
            "requester offers in a new comment",
            suggestion(replies=(reply("Lena Fischer", at=ago(hours=3), body="I'd like to work on this!"),)),
            True,
        ),
        (
            "someone else offers",
            suggestion(replies=(reply("Bob", at=ago(hours=3), body="I'd like to work on this"),)),
            False,
        ),
        (
            "requester's offer came after T",
            suggestion(
                replies=(reply("Lena Fischer", at=T + timedelta(hours=1), body="happy to submit a PR"),)
            ),
            False,
        ),
        ("no offer", suggestion(created_days_ago=0.5, body="Please add this."), False),
        (
            "building something else is no offer to build it (offer_pattern)",
            suggestion(created_days_ago=0.5, body="We can build it locally, but the import still fails."),
            False,
        ),
        # As phones and mail clients write it: a curly apostrophe, a phrase over a line break.
        (
            "an offer with a curly apostrophe",
            suggestion(created_days_ago=0.5, body="I\u2019d like to work on this, I have a branch."),
            True,
        ),
        (
            "an offer over a line break",
            suggestion(created_days_ago=0.5, body="If nobody minds I'd like to work\non this."),
            True,
        ),
        (
            "an offer to open a PR, in a comment",
            suggestion(replies=(reply("Lena Fischer", at=ago(hours=3), body="I could open a PR for this."),)),
            True,
        ),
        (
            "another account with the requester's name offers: the ids tell them apart",
            replace(
                suggestion(
                    replies=(
                        reply(
                            "Lena Fischer", at=ago(hours=3), body="I'd like to work on this", author_id="72"
                        ),
                    )
                ),
                author_id="71",
            ),
            False,
        ),
        (
            "the requester renamed since: the same account offers",
            replace(
                suggestion(
                    replies=(reply("L. F.", at=ago(hours=3), body="happy to submit a PR", author_id="71"),)
                ),
                author_id="71",
            ),
            True,
        ),
        (
            "a nameless requester and another nameless user who offers (ids not given)",
            replace(
                suggestion(replies=(reply("", at=ago(hours=3), body="I'd like to work on this"),)),
                author="",
            ),
            False,
        ),
    ],
)
def test_offers_to_build(case: str, item: Post, listed: bool) -> None:
    review = review_suggestions([item], [], RULES, T)
    assert bool(review.offers) is listed, case


def test_a_merged_suggestion_has_no_status_of_its_own_to_move_and_asks_nothing() -> None:
    """Merged into another suggestion: UserVoice moved its supporters there, and its page leads there."""
    drifting = replace(suggestion("Planned"), duplicate_of="4711")
    assert review_suggestions([drifting], [ticket(resolution="Done", category="Done")], RULES, T).total == 0
    new = replace(suggestion(sid=5, created_days_ago=0.5), duplicate_of="4711")
    assert review_suggestions([new], [], RULES, T).needs_question == ()


def test_a_suggestion_in_two_sections_counts_once() -> None:
    item = suggestion(sid=5, created_days_ago=0.5, body="I'd be happy to submit a PR for this.")
    other = suggestion(sid=6, created_days_ago=0.5)
    review = review_suggestions([item, other], [], RULES, T)
    assert (len(review.needs_question), len(review.offers)) == (2, 1)
    assert review.total == 2


def test_suggestion_after_t_does_not_exist() -> None:
    item = suggestion("Planned", created_days_ago=-1)
    assert review_suggestions([item], [ticket(resolution="Done")], RULES, T).total == 0


def moved(hours: float, status: str, previous: str = "") -> StatusMove:
    """A status update ``hours`` after T (before it when negative)."""
    return StatusMove(at=T + hours * HOUR, status=status, previous=previous)


@pytest.mark.parametrize(
    ("case", "now", "moves", "at_t"),
    [
        ("no status update read", "Planned", (), "Planned"),
        ("every update before T", "Planned", (moved(-48, "Under Review"), moved(-2, "Planned")), "Planned"),
        (
            "an update exactly at T exists",
            "Planned",
            (moved(-48, "Under Review"), moved(0, "Planned")),
            "Planned",
        ),
        (
            "set after T: the one set before T",
            "Completed",
            (moved(-48, "Under Review"), moved(-2, "Planned"), moved(3, "Completed")),
            "Planned",
        ),
        (
            "its first update after T, which says what it left",
            "Planned",
            (moved(3, "Planned", "Under Review"),),
            "Under Review",
        ),
        ("its first update after T, nothing said of before", "Planned", (moved(3, "Planned"),), ""),
        (
            "two updates after T",
            "Completed",
            (moved(-5, "Planned"), moved(2, "Started"), moved(9, "Completed")),
            "Planned",
        ),
    ],
)
def test_status_at_t(case: str, now: str, moves: tuple[StatusMove, ...], at_t: str) -> None:
    assert status_at(suggestion(now, status_moves=moves), T) == at_t, case


def test_a_status_set_after_t_is_not_yet_set_for_the_review_of_t() -> None:
    """A backfill of T lists the drift T had; nothing is written from it, the status having moved on."""
    done = ticket("MM-1", resolution="Done", category="Done")
    item = suggestion("Completed", sid=100, status_moves=(moved(-48, "Planned"), moved(5, "Completed")))
    [drift] = review_suggestions([item], [done], RULES, T).status_drift
    assert (drift.current, drift.proposed, drift.moved_since) == ("Planned", "Completed", True)
    assert status_changes((drift,), UPSTREAM, ON) == []
    # The same suggestion reviewed after its update: nothing to move.
    assert review_suggestions([item], [done], RULES, T + 6 * HOUR).status_drift == ()


def test_edition() -> None:
    assert RULES.edition(replace(suggestion(), category="Enterprise"), None) == "Enterprise"
    assert RULES.edition(suggestion(), ticket(labels=("Enterprise",))) == "Enterprise"
    assert RULES.edition(suggestion(), ticket()) == "Team"


@pytest.mark.parametrize(
    ("versions", "version", "expected"),
    [
        (("v11.1",), "11.1", True),
        (("11.1",), "v11.1", True),
        (("11.1.0",), "11.1", True),  # the release tagged v11.1.0
        (("v11.1",), "11.1.0", True),
        (("11.1.1",), "11.1", False),
        (("11.10",), "11.1", False),
        (("11.0",), "11", True),
        (("Backlog", "v11.1"), "11.1", True),
        ((), "11.1", False),
    ],
)
def test_fix_version_matches(versions: tuple[str, ...], version: str, expected: bool) -> None:
    assert fix_version_matches(versions, version) is expected


def test_unknown_status_name_is_named() -> None:
    with pytest.raises(SettingsError, match=r"does not have: \['Help Wanted'\]"):
        RULES.check_statuses_known(["Under Review", "Planned", "Started", "Completed", "Declined"])


ON = UserVoiceRules.from_settings(load_settings({"uservoice": {"apply_status_updates": True}}))
UPSTREAM = {
    11: "Under Review",
    12: "Planned",
    13: "Started",
    14: "Help Wanted",
    15: "Completed",
    16: "Declined",
}


def drift_of(*pairs: tuple[Post, JiraTicket]) -> tuple[StatusDrift, ...]:
    return review_suggestions([s for s, _ in pairs], [t for _, t in pairs], RULES, T).status_drift


DRIFT = drift_of(
    (suggestion("Planned", sid=100, title="Read receipts"), ticket("MM-1", resolution="Done")),
    (
        suggestion("", sid=101, created_days_ago=30),
        ticket("MM-2", category="In Progress", links=(f"{PORTAL}/101-x",)),
    ),
)


def test_status_changes_off_by_default() -> None:
    assert RULES.apply_status_updates is False
    assert len(DRIFT) == 2
    assert status_changes(DRIFT, UPSTREAM, RULES) == []
    # Off means not even the upstream statuses are looked at.
    assert status_changes(DRIFT, {}, RULES) == []


def test_status_changes_when_on_map_names_to_upstream_ids() -> None:
    assert status_changes(DRIFT, UPSTREAM, ON) == [
        StatusChange(
            suggestion_id=100,
            title="Read receipts",
            url=f"{PORTAL}/100-idea",
            current="Planned",
            proposed="Completed",
            status_id=15,
            jira_key="MM-1",
        ),
        StatusChange(
            suggestion_id=101,
            title="Something is wrong",
            url=f"{PORTAL}/101-idea",
            current="(no status)",
            proposed="Started",
            status_id=13,
            jira_key="MM-2",
        ),
    ]


def test_status_names_match_upstream_case_insensitively() -> None:
    lower = {sid: name.lower() for sid, name in UPSTREAM.items()}
    assert [c.status_id for c in status_changes(DRIFT, lower, ON)] == [15, 13]


@pytest.mark.parametrize("drift", [DRIFT, ()])
def test_status_changes_refuse_a_mapping_upstream_cannot_apply(drift: tuple[StatusDrift, ...]) -> None:
    missing = {sid: name for sid, name in UPSTREAM.items() if name != "Help Wanted"}
    with pytest.raises(
        SettingsError,
        match=r"'uservoice\.status_mapping' proposes statuses UserVoice does not have: \['Help Wanted'\]",
    ):
        status_changes(drift, missing, ON)


# The product's releases: 11.1 shipped before T, 11.2 ships two days after it; a draft and a
# prerelease never count.
RELEASE_11_2_AT = T + timedelta(days=2)
RELEASES = (
    Release(tag="v11.1.0", name="11.1", published_at=T - timedelta(days=8)),
    Release(tag="v11.2.0", name="11.2", published_at=RELEASE_11_2_AT),
    Release(tag="v11.3.0", name="11.3", published_at=T - timedelta(hours=1), draft=True),
    Release(tag="v11.4.0", name="11.4 preview", published_at=T - timedelta(days=1), prerelease=True),
)
DONE = {"resolution": "Done", "status": "Done", "category": "Done"}


def jira_version(
    name: str, released: bool = True, day: str | None = None, archived: bool = False
) -> JiraVersion:
    return JiraVersion(name=name, released=released, archived=archived, release_date=day)


DESKTOP = jira_version("Desktop v5.10", day="2026-11-02")


@pytest.mark.parametrize(
    ("case", "jira", "versions"),
    [
        ("open with a fixVersion: Planned", ticket(fix=("v11.2",)), ["v11.2"]),
        ("in progress with a fixVersion: Started", ticket(category="In Progress", fix=("11.3",)), ["11.3"]),
        ("two fixVersions: a row each", ticket(fix=("v11.2", "v11.1.3")), ["v11.2", "v11.1.3"]),
        ("open without a fixVersion", ticket(), []),
        ("in progress without a fixVersion", ticket(category="In Progress"), []),
        ("resolved Done, waiting for its release", ticket(**DONE, fix=("v11.2",)), ["v11.2"]),
        ("resolved Fixed, waiting for its release", ticket(resolution="Fixed", fix=("11.2",)), ["11.2"]),
        ("resolved Done, released (11.1 is v11.1.0)", ticket(**DONE, fix=("v11.1",)), []),
        ("resolved Done, released, spelled 11.1.0", ticket(**DONE, fix=("11.1.0",)), []),
        ("resolved Done, only a draft out", ticket(**DONE, fix=("11.3",)), ["11.3"]),
        ("resolved Done, only a prerelease out", ticket(**DONE, fix=("v11.4",)), ["v11.4"]),
        ("resolved Done, older than any release known", ticket(**DONE, fix=("v10.5",)), []),
        ("resolved Done, one version out, one not", ticket(**DONE, fix=("v11.1", "v11.2")), ["v11.2"]),
        ("resolved Done without a fixVersion", ticket(**DONE), []),
        ("planned for a released version", ticket(fix=("v11.1",)), []),
        ("resolved Won't Fix", ticket(resolution="Won't Fix", fix=("v11.2",)), []),
        ("resolved Won't Do", ticket(resolution="Won't Do", fix=("v11.2",)), []),
        # "Every suggestion whose linked ticket has a fixVersion that is not yet released" (SPEC §5).
        ("Help Wanted with a fixVersion", ticket(labels=("Help Wanted",), fix=("v11.2",)), ["v11.2"]),
        (
            "Done without a resolution, waiting",
            ticket(status="Done", category="Done", fix=("v11.2",)),
            ["v11.2"],
        ),
        # Another product's versions in the same project: Jira's version object decides (T is 11-18).
        ("Desktop released before T", ticket(**DONE, fix=("Desktop v5.10",), versions=(DESKTOP,)), []),
        (
            "Mobile released after T: still waiting at T",
            ticket(
                **DONE, fix=("Mobile v2.22.0",), versions=(jira_version("Mobile v2.22.0", day="2026-11-20"),)
            ),
            ["Mobile v2.22.0"],
        ),
        (
            "Desktop released without a date",
            ticket(**DONE, fix=("Desktop v5.10",), versions=(jira_version("Desktop v5.10"),)),
            [],
        ),
        (
            "Desktop not released yet",
            ticket(**DONE, fix=("Desktop v5.11",), versions=(jira_version("Desktop v5.11", released=False),)),
            ["Desktop v5.11"],
        ),
        (
            "archived without a release: nothing waits for it",
            ticket(
                fix=("Desktop v5.9",), versions=(jira_version("Desktop v5.9", released=False, archived=True),)
            ),
            [],
        ),
        (
            "Jira marks 11.2 released before its GitHub release: GitHub decides",
            ticket(**DONE, fix=("v11.2",), versions=(jira_version("v11.2", day="2026-11-17"),)),
            ["v11.2"],
        ),
        (
            "a server version waiting, a Desktop one released",
            ticket(**DONE, fix=("v11.2", "Desktop v5.10"), versions=(DESKTOP,)),
            ["v11.2"],
        ),
    ],
)
def test_planned_sheet_rows(case: str, jira: JiraTicket, versions: list[str]) -> None:
    rows = planned_sheet_rows([suggestion("Planned")], [jira], RULES, RELEASES, T)
    assert [r.fix_version for r in rows] == versions, case


@pytest.mark.parametrize(
    ("case", "jira", "days"),
    [
        (
            "Desktop released by T",
            ticket(**DONE, fix=("Desktop v5.10",), versions=(DESKTOP,)),
            [("100", "Desktop v5.10", "2026-11-02")],
        ),
        (
            "released after T",
            ticket(
                **DONE, fix=("Desktop v5.10",), versions=(jira_version("Desktop v5.10", day="2026-11-19"),)
            ),
            [],
        ),
        (
            "released without a date",
            ticket(**DONE, fix=("Desktop v5.10",), versions=(jira_version("Desktop v5.10"),)),
            [],
        ),
        (
            "a server version: the closeout dates it",
            ticket(**DONE, fix=("v11.1",), versions=(jira_version("v11.1", day="2026-11-10"),)),
            [],
        ),
        (
            "not linked to the suggestion",
            ticket(**DONE, fix=("Desktop v5.10",), versions=(DESKTOP,), links=()),
            [],
        ),
    ],
)
def test_jira_release_days(case: str, jira: JiraTicket, days: list[tuple[str, str, str]]) -> None:
    assert jira_release_days([suggestion("Planned")], [jira], RELEASES, T) == days, case


@pytest.mark.parametrize(
    ("case", "as_of", "versions"),
    [
        ("a day before the release", RELEASE_11_2_AT - timedelta(days=1), ["v11.2"]),
        ("a second before it", RELEASE_11_2_AT - timedelta(seconds=1), ["v11.2"]),
        ("at the release", RELEASE_11_2_AT, []),
        ("a day after it", RELEASE_11_2_AT + timedelta(days=1), []),
    ],
)
def test_resolved_row_is_kept_until_its_release(case: str, as_of: datetime, versions: list[str]) -> None:
    jira = ticket(**DONE, fix=("v11.2",))
    rows = planned_sheet_rows([suggestion("Completed")], [jira], RULES, RELEASES, as_of)
    assert [(r.fix_version, r.jira_status) for r in rows] == [(v, "Done") for v in versions], case


def test_planned_sheet_row_fields() -> None:
    enterprise = suggestion("Under Review", sid=100, title="SAML groups", category="Enterprise")
    unlinked = suggestion(sid=5)
    [row] = planned_sheet_rows(
        [unlinked, enterprise],
        [ticket("MM-7", status="In Review", category="In Progress", fix=("v11.2",))],
        RULES,
        RELEASES,
        T,
    )
    assert row == SheetRow(
        suggestion_id="100",
        fix_version="v11.2",
        title="SAML groups",
        url=f"{PORTAL}/100-idea",
        nominator="Lena Fischer",
        edition="Enterprise",
        jira_key="MM-7",
        jira_status="In Review",
        uservoice_status="Under Review",
    )


def test_mapping_comes_from_the_settings() -> None:
    mapping = [
        {"when": {"status": ["QA"], "has_fix_version": True}, "status": "Started"},
        {"when": {}, "status": "Under Review"},
    ]
    rules = UserVoiceRules.from_settings(load_settings({"uservoice": {"status_mapping": mapping}}))
    assert rules.implied_status(ticket(status="qa", fix=("11.2",))) == "Started"
    assert rules.implied_status(ticket(status="QA")) == "Under Review"
    assert rules.implied_status(ticket(resolution="Done")) == "Under Review"


def test_one_sheet_row_per_release_however_the_tickets_spell_it() -> None:
    shipped = ticket("MM-1", resolution="Done", fix=("11.2",), updated=EARLY)
    follow_up = ticket("MM-2", fix=("v11.2.0",), updated=LATE)
    rows = planned_sheet_rows([suggestion("Completed")], [follow_up, shipped], RULES, RELEASES, T)
    assert [(r.fix_version, r.jira_key) for r in rows] == [("11.2", "MM-1")]  # the shipped one speaks


@pytest.mark.parametrize(
    ("case", "now", "moves", "on_the_sheet"),
    [
        ("no status update after T: its status now", "Planned", (moved(-48, "Planned"),), "Planned"),
        (
            "set Started after T: Planned at T",
            "Started",
            (moved(-48, "Planned"), moved(6, "Started")),
            "Planned",
        ),
        (
            "first update after T says what it left",
            "Planned",
            (moved(3, "Planned", "Under Review"),),
            "Under Review",
        ),
    ],
)
def test_sheet_row_carries_the_status_at_t(
    case: str, now: str, moves: tuple[StatusMove, ...], on_the_sheet: str
) -> None:
    """The row says what the same run's [UserVoice Review] says the suggestion's status was (SPEC §4)."""
    item = suggestion(now, status_moves=moves)
    [row] = planned_sheet_rows([item], [ticket(fix=("v11.2",))], RULES, RELEASES, T)
    assert row.uservoice_status == on_the_sheet, case


@pytest.mark.parametrize(
    ("case", "labels", "edition"),
    [
        ("Enterprise", ("Enterprise",), "Enterprise"),
        ("no label", (), "Team"),
        ("a configured label with a space, hyphenated in Jira", ("enterprise-edition",), "Enterprise"),
        ("another label", ("mobile",), "Team"),
    ],
)
def test_edition_from_the_ticket_labels(case: str, labels: tuple[str, ...], edition: str) -> None:
    rules = replace(RULES, enterprise_labels=frozenset({"enterprise", "enterprise edition"}))
    assert rules.edition(suggestion(), ticket(labels=labels)) == edition, case


def test_named_versions_are_every_fixversion_of_the_linked_tickets_at_t() -> None:
    linked = [
        ticket("MM-1", **DONE, fix=("v11.1.0",)),  # shipped: still named
        ticket("MM-2", fix=("11.3",)),
        ticket("MM-3", resolution="Won't Fix", fix=("11.4",), links=(f"{PORTAL}/200-idea",)),
        at(ticket("MM-4", fix=("11.5",)), created=T + HOUR),  # did not exist at T
    ]
    named = named_versions([suggestion(sid=100), suggestion(sid=200), suggestion(sid=300)], linked, T)
    assert named == [("100", "11.1"), ("100", "11.3"), ("200", "11.4")]
