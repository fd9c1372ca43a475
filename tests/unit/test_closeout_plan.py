"""The release closeout's decisions as tables: who is thanked for a version, how, who not and why."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from builders import SETTINGS, ago, post
from community_monitoring.closeout_plan import (
    ENTERPRISE_CONNECTION,
    TEAM_CONNECTION,
    CloseoutPlan,
    Nominee,
    ThankResult,
    already_thanked,
    closeout_sheet_rows,
    plan_closeout,
    shipped_versions,
    skip_reason,
    thanked_before,
    thanked_for_another_version,
    upstream_result,
)
from community_monitoring.messages import render_closeout_summary
from community_monitoring.params import CloseoutParams, ParamError, closeout_params
from community_monitoring.records import JiraTicket, Post, SheetRow
from community_monitoring.settings import Settings, SettingsError, load_settings
from community_monitoring.tracking_sheet import sheet_key
from community_monitoring.uservoice_review import UserVoiceRules

RULES = UserVoiceRules.from_settings(SETTINGS)
PORTAL = "https://mattermost.uservoice.com/forums/306457-general/suggestions"
ANNOUNCEMENT = "https://mattermost.com/blog/mattermost-v11-2-is-now-available/"
STATUSES = {1: "Under Review", 2: "Planned", 3: "Started", 4: "Help Wanted", 5: "Completed", 6: "Declined"}
TODAY = date(2026, 11, 18)


def params(version: str = "11.2", announcement_url: str = ANNOUNCEMENT, **more: Any) -> CloseoutParams:
    return closeout_params(
        {"version": version, "release_date": "2026-11-16", "announcement_url": announcement_url, **more},
        TODAY,
    )


def suggestion(sid: int = 100, author: str = "Lena Fischer", **kwargs: Any) -> Post:
    return post(
        channel="uservoice",
        number=sid,
        source_id=str(sid),
        url=f"{PORTAL}/{sid}-idea",
        title=kwargs.pop("title", f"Idea {sid}"),
        author=author,
        created=kwargs.pop("created", ago(days=200 - sid % 100)),
        status=kwargs.pop("status", "Planned"),
        **kwargs,
    )


def ticket(
    key: str = "MM-1",
    sid: int = 100,
    *,
    status: str = "Closed",
    category: str = "Done",
    resolution: str | None = "Done",
    fix: tuple[str, ...] = ("11.2",),
    labels: tuple[str, ...] = (),
) -> JiraTicket:
    return JiraTicket(
        key=key,
        url=f"https://mattermost.atlassian.net/browse/{key}",
        summary="s",
        status=status,
        status_category=category,
        resolution=resolution,
        fix_versions=fix,
        labels=labels,
        linked_urls=(f"{PORTAL}/{sid}-idea",),
        updated_at="2026-11-10T00:00:00+00:00",
    )


def plan(
    suggestions: list[Post],
    tickets: list[JiraTicket],
    run: CloseoutParams | None = None,
    settings: Settings = SETTINGS,
    statuses: dict[int, str] = STATUSES,
) -> CloseoutPlan:
    return plan_closeout(
        suggestions,
        tickets,
        UserVoiceRules.from_settings(settings),
        run or params(),
        settings.closeout,
        statuses,
    )


TEAM_TEXT = (
    "Thank you Lena Fischer for nominating the feature! It is now available in Mattermost 11.2. "
    f"Would anyone like to help re-tweet the announcement? {ANNOUNCEMENT}"
)
ENTERPRISE_TEXT = "Thank you Lena Fischer for nominating the feature! It is now available in Mattermost 11.2."


def test_resolved_done_team_nominee_is_thanked_with_the_retweet() -> None:
    result = plan([suggestion()], [ticket()])
    assert result.thank == (
        Nominee(
            suggestion_id=100,
            title="Idea 100",
            url=f"{PORTAL}/100-idea",
            name="Lena Fischer",
            jira_key="MM-1",
            jira_status="Closed",
            fix_version="11.2",
            edition="Team",
            connection=TEAM_CONNECTION,
            message=TEAM_TEXT,
            current_status="Planned",
            reason="",
        ),
    )
    assert TEAM_CONNECTION == "uservoice_default"
    assert result.skipped == ()
    assert (result.completed_status, result.completed_status_id, result.notify) == ("Completed", 5, True)
    assert result.params == params()


@pytest.mark.parametrize(
    ("case", "item", "jira"),
    [
        ("Enterprise category", suggestion(category="Enterprise"), ticket()),
        ("Enterprise label on the ticket", suggestion(), ticket(labels=("Enterprise",))),
        ("Enterprise label on the suggestion", suggestion(labels=("enterprise",)), ticket()),
    ],
)
def test_enterprise_nominee_is_thanked_by_sales_without_the_retweet(
    case: str, item: Post, jira: JiraTicket
) -> None:
    [nominee] = plan([item], [jira]).thank
    assert (nominee.edition, nominee.connection, nominee.message) == (
        "Enterprise",
        ENTERPRISE_CONNECTION,
        ENTERPRISE_TEXT,
    ), case
    assert ENTERPRISE_CONNECTION == "uservoice_sales"
    assert "re-tweet" not in nominee.message


def test_enterprise_only_needs_no_announcement() -> None:
    [nominee] = plan([suggestion(category="Enterprise")], [ticket()], params(announcement_url="")).thank
    assert nominee.message == ENTERPRISE_TEXT


@pytest.mark.parametrize(
    ("case", "item", "jira", "reason"),
    [
        (
            "not resolved",
            suggestion(),
            ticket(status="In Progress", category="In Progress", resolution=None),
            "MM-1 is not resolved yet (In Progress)",
        ),
        (
            "resolved Won't Do",
            suggestion(),
            ticket(resolution="Won't Do"),
            "MM-1 was resolved as Won't Do, not shipped",
        ),
        (
            "resolved Duplicate (no mapping rule)",
            suggestion(),
            ticket(resolution="Duplicate"),
            "MM-1 was resolved as Duplicate, not shipped",
        ),
        (
            "anonymous nominator",
            suggestion(author="anonymous"),
            ticket(),
            "the suggestion has no creator in UserVoice (posted anonymously): there is no one to thank by name",
        ),
        (
            "no nominator name, or a creator UserVoice did not list",
            suggestion(author="", author_id="999"),
            ticket(),
            "its creator, UserVoice user 999, has no display name or is not among the users UserVoice "
            "listed (/admin/users): thank them by hand",
        ),
        (
            "merged into another suggestion (its supporters moved there)",
            suggestion(duplicate_of="4711"),
            ticket(),
            "merged into suggestion 4711: UserVoice moved its supporters there (not updated here)",
        ),
    ],
)
def test_skipped_with_the_reason(case: str, item: Post, jira: JiraTicket, reason: str) -> None:
    result = plan([item], [jira])
    assert result.thank == (), case
    [skipped] = result.skipped
    assert (skipped.suggestion_id, skipped.jira_key, skipped.fix_version, skipped.reason) == (
        100,
        "MM-1",
        "11.2",
        reason,
    ), case
    assert (skipped.connection, skipped.message, skipped.edition) == ("", "", ""), case
    assert skip_reason(item, jira, RULES, "Completed") == reason


@pytest.mark.parametrize(
    ("case", "items", "tickets"),
    [
        ("ticket for another version", [suggestion()], [ticket(fix=("11.3",))]),
        ("ticket with no version", [suggestion()], [ticket(fix=())]),
        ("version that only starts the same", [suggestion()], [ticket(fix=("11.2.1",))]),
        ("ticket links another suggestion", [suggestion(sid=101)], [ticket(sid=100)]),
        ("no ticket at all", [suggestion()], []),
        ("no suggestion at all", [], [ticket()]),
    ],
)
def test_not_part_of_this_release(case: str, items: list[Post], tickets: list[JiraTicket]) -> None:
    result = plan(items, tickets)
    assert (result.thank, result.skipped) == ((), ()), case


def test_team_nominee_without_announcement_url_is_a_param_error() -> None:
    with pytest.raises(ParamError, match=r"param 'announcement_url' is required") as caught:
        plan([suggestion()], [ticket()], params(announcement_url=""))
    assert "Lena Fischer" in str(caught.value)
    assert f"{PORTAL}/100-idea" in str(caught.value)


@pytest.mark.parametrize(
    ("ticket_version", "version", "message_version"),
    [("v11.1", "11.1", "11.1"), ("V11.1", "11.1", "11.1")],
)
def test_v_prefix_matches(ticket_version: str, version: str, message_version: str) -> None:
    [nominee] = plan([suggestion()], [ticket(fix=("11.0", ticket_version))], params(version)).thank
    assert nominee.fix_version == ticket_version  # the sheet keeps Jira's spelling
    assert f"now available in Mattermost {message_version}." in nominee.message


def test_unknown_completed_status_is_a_settings_error() -> None:
    statuses = {k: v for k, v in STATUSES.items() if v != "Completed"}
    with pytest.raises(SettingsError, match=r"'closeout\.completed_status' is 'Completed'") as caught:
        plan([suggestion()], [ticket()], statuses=statuses)
    assert "Declined" in str(caught.value)  # what UserVoice has


def test_completed_status_from_settings() -> None:
    settings = load_settings({"closeout": {"completed_status": "Declined", "notify_supporters": False}})
    result = plan([suggestion()], [ticket()], settings=settings)
    assert (result.completed_status, result.completed_status_id, result.notify) == ("Declined", 6, False)


def test_custom_messages_from_settings() -> None:
    settings = load_settings(
        {
            "closeout": {
                "team_message": "{name}: {version} is out, see {url}",
                "enterprise_message": "{name} {version}",
            }
        }
    )
    [team] = plan([suggestion()], [ticket()], settings=settings).thank
    assert team.message == f"Lena Fischer: 11.2 is out, see {ANNOUNCEMENT}"


def test_oldest_suggestion_first_thanked_and_skipped_apart() -> None:
    newer = suggestion(sid=101, author="Bo", created=ago(days=10))
    older = suggestion(sid=102, author="Cy", created=ago(days=300))
    skipped = suggestion(sid=103, author="anonymous")
    result = plan(
        [newer, skipped, older],
        [ticket("MM-1", 101), ticket("MM-2", 102), ticket("MM-3", 103)],
    )
    assert [(n.suggestion_id, n.name, n.jira_key) for n in result.thank] == [
        (102, "Cy", "MM-2"),
        (101, "Bo", "MM-1"),
    ]
    assert [(n.suggestion_id, n.reason) for n in result.skipped] == [
        (
            103,
            "the suggestion has no creator in UserVoice (posted anonymously): there is no one to thank by name",
        )
    ]


def test_plan_survives_json() -> None:
    result = plan([suggestion(), suggestion(sid=101, author="anonymous")], [ticket(), ticket("MM-2", 101)])
    assert CloseoutPlan.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_a_renamed_completed_status_still_thanks() -> None:
    mapping = [
        {"when": {"resolution": ["Done"]}, "status": "Shipped"},
        {"when": {"resolved": False}, "status": "Under Review"},
    ]
    settings = load_settings(
        {"uservoice": {"status_mapping": mapping}, "closeout": {"completed_status": "Shipped"}}
    )
    result = plan([suggestion()], [ticket()], settings=settings, statuses={1: "Under Review", 7: "Shipped"})
    assert [n.suggestion_id for n in result.thank] == [100]


UPDATE = {
    "id": 9001,
    "body": "Thank you Lena Fischer for nominating the feature! It is now available in Mattermost 11.2.",
}


@pytest.mark.parametrize(
    ("case", "updates", "version", "found"),
    [
        ("thanked for this version", [UPDATE], "11.2", UPDATE),
        ("asked with a v", [UPDATE], "v11.2", UPDATE),
        ("first of several", [{"id": 1, "body": "Planned."}, UPDATE, {**UPDATE, "id": 2}], "11.2", UPDATE),
        ("asked as the tag's version", [UPDATE], "11.2.0", UPDATE),
        (
            "thanked as the tag's version",
            [{**UPDATE, "body": UPDATE["body"].replace("11.2.", "v11.2.0.")}],
            "11.2",
            {**UPDATE, "body": UPDATE["body"].replace("11.2.", "v11.2.0.")},
        ),
        ("thanked for another version", [UPDATE], "11.3", None),
        ("other updates only", [{"id": 1, "body": "We are working on it."}], "11.2", None),
        ("no body", [{"id": 1, "body": None}, {"id": 2}], "11.2", None),
        ("no updates", [], "11.2", None),
        # A roadmap update or a denial told no one it shipped.
        (
            "a roadmap promise",
            [{"id": 1, "body": "On the roadmap: will be available in Mattermost 11.2."}],
            "11.2",
            None,
        ),
        (
            "promised soon",
            [{"id": 1, "body": "It should soon be available in Mattermost 11.2."}],
            "11.2",
            None,
        ),
        ("a denial", [{"id": 1, "body": "Sadly not available in Mattermost 11.2 after all."}], "11.2", None),
        (
            "set another status than Completed",
            [{**UPDATE, "links": {"status": 12, "suggestion": 100}}],
            "11.2",
            None,
        ),
        ("set Completed", [{**UPDATE, "links": {"status": 15}}], "11.2", {**UPDATE, "links": {"status": 15}}),
        (
            "a side-loaded status",
            [{**UPDATE, "links": {"status": {"id": 15}}}],
            "11.2",
            {**UPDATE, "links": {"status": {"id": 15}}},
        ),
    ],
)
def test_already_thanked(case: str, updates: list[dict[str, Any]], version: str, found: Any) -> None:
    assert already_thanked(updates, version, completed_status_id=15) == found, case


@pytest.mark.parametrize("other", ["11.2.1", "11.20", "11.2.0.1", "111.2"])
def test_already_thanked_for_a_longer_version_is_not_this_one(other: str) -> None:
    update = {"id": 1, "body": f"Thank you Lena! It is now available in Mattermost {other}."}
    assert already_thanked([update], "11.2") is None


@pytest.mark.parametrize(
    ("body", "versions"),
    [
        ("It is now available in Mattermost 11.2.", ["11.2"]),
        ("It is now generally available in Mattermost 11.2!", ["11.2"]),
        ("Finally available in Mattermost v11.2.0", ["v11.2.0"]),
        # Promises and denials, however worded, told no one it shipped.
        ("It will be available in Mattermost 11.2.", []),
        ("It'll be available in Mattermost 11.2.", []),
        ("It\u2019ll be available in Mattermost 11.2.", []),
        ("It will be generally available in Mattermost 11.2.", []),
        ("It should soon be available in Mattermost 11.2.", []),
        ("It is not generally available in Mattermost 11.2 yet.", []),
        ("It isn't fully available in Mattermost 11.2.", []),
    ],
)
def test_shipped_versions_reads_a_promise_as_none(body: str, versions: list[str]) -> None:
    assert shipped_versions({"id": 1, "body": body}) == versions, body


SHIPPED_11_2 = {**UPDATE, "created_at": "2026-11-17T18:00:00Z", "links": {"status": 15}}
REOPENED = {
    "id": 9002,
    "body": "Reopened: this was pulled from the release, it is not available in Mattermost 11.2.",
    "created_at": "2026-11-18T09:00:00Z",
    "links": {"status": 12},
}


@pytest.mark.parametrize(
    ("case", "updates", "version", "found"),
    [
        # A ticket fixed in 11.2 that also lists 11.3: its nominator heard with 11.2.
        ("thanked for an earlier release", [UPDATE], "11.3", (UPDATE, "11.2")),
        ("thanked for a later release", [UPDATE], "11.1", (UPDATE, "11.2")),
        (
            "written with a v and the tag's zero",
            [{**UPDATE, "body": "Now available in Mattermost v11.2.0!"}],
            "11.3",
            ({**UPDATE, "body": "Now available in Mattermost v11.2.0!"}, "11.2.0"),
        ),
        ("thanked for this very release", [UPDATE], "11.2", None),
        ("for this release, as the tag writes it", [UPDATE], "11.2.0", None),
        ("a patch of it is another release", [UPDATE], "11.2.1", (UPDATE, "11.2")),
        ("a roadmap promise", [{"id": 1, "body": "It will be available in Mattermost 11.2."}], "11.3", None),
        ("a denial", [{"id": 1, "body": "It is not available in Mattermost 11.2."}], "11.3", None),
        ("set another status", [{**UPDATE, "links": {"status": 12}}], "11.3", None),
        (
            "set Completed",
            [{**UPDATE, "links": {"status": 15}}],
            "11.3",
            ({**UPDATE, "links": {"status": 15}}, "11.2"),
        ),
        ("other updates only", [{"id": 1, "body": "We are working on it."}, {"id": 2}], "11.3", None),
        ("no updates", [], "11.3", None),
        # Reopened after the thank-you (pulled from 11.2): that thank-you no longer stands.
        ("reopened since", [SHIPPED_11_2, REOPENED], "11.3", None),
        ("reopened since, listed newest first", [REOPENED, SHIPPED_11_2], "11.3", None),
        (
            "reopened before it, then shipped",
            [{**REOPENED, "created_at": "2026-11-01T09:00:00Z"}, SHIPPED_11_2],
            "11.3",
            (SHIPPED_11_2, "11.2"),
        ),
        (
            "a later update setting Completed again",
            [SHIPPED_11_2, {**REOPENED, "links": {"status": 15}}],
            "11.3",
            (SHIPPED_11_2, "11.2"),
        ),
        (
            "a later update naming no status",
            [SHIPPED_11_2, {"id": 3, "body": "Thanks all!", "created_at": "2026-11-20T09:00:00Z"}],
            "11.3",
            (SHIPPED_11_2, "11.2"),
        ),
        (
            "the thank-you's time unknown",
            [{**UPDATE, "links": {"status": 15}}, REOPENED],
            "11.3",
            ({**UPDATE, "links": {"status": 15}}, "11.2"),
        ),
    ],
)
def test_thanked_for_another_version(
    case: str, updates: list[dict[str, Any]], version: str, found: Any
) -> None:
    assert thanked_for_another_version(updates, version, completed_status_id=15) == found, case


def test_a_nominator_thanked_with_the_release_that_shipped_it_is_not_thanked_again() -> None:
    # MM-1 was fixed in 11.2 and also lists 11.3: the 11.2 closeout thanked Lena; the 11.3 one must not.
    both = ticket(fix=("v11.2", "v11.3"))
    closeout = plan([suggestion()], [both], params("11.3"))
    [nominee] = closeout.thank
    assert (nominee.fix_version, nominee.also_fixed_in) == ("v11.3", ("v11.2",))
    assert CloseoutPlan.from_dict(json.loads(json.dumps(closeout.to_dict()))) == closeout
    # The ledger's thank-you for v11.2 (no time of it): the same result, without the day.
    assert thanked_before(nominee, "v11.2", "11.3").nominee.reason == (
        "already thanked for 11.2, when it shipped: not thanked again for 11.3"
    )
    earlier = {**UPDATE, "created_at": "2026-11-17T18:00:00Z", "links": {"status": 5}}
    result = upstream_result(nominee, [earlier], "11.3", closeout.completed_status_id)
    assert result is not None
    assert (result.outcome, result.status_update_id) == ("thanked_before", "9001")
    assert (
        result.nominee.reason
        == "already thanked for 11.2 on 2026-11-17, when it shipped: not thanked again for 11.3"
    )
    assert closeout_sheet_rows(closeout, [result], "2026-12-02T09:00:00+00:00") == []
    summary = render_closeout_summary([result], closeout.skipped, closeout.params, SETTINGS).text
    assert "Nobody was thanked this time" in summary
    assert "Thanked 0" not in summary
    assert "#### Skipped (1)" in summary
    assert "already thanked for 11.2 on 2026-11-17" in summary
    # The same update for this very release: thanked earlier, with its id and time for the sheet.
    same = upstream_result(nominee, [earlier], "11.2", closeout.completed_status_id)
    assert same == ThankResult(nominee, "already_thanked", "9001", thanked_at="2026-11-17T18:00:00+00:00")
    assert upstream_result(nominee, [{"id": 1, "body": "Planned for 11.3."}], "11.3", 5) is None


@pytest.mark.parametrize(
    ("case", "updates", "ledger_thanks", "outcome"),
    [
        ("the ledger thanked them for 11.2", [], {"v11.2": "2026-11-17T18:00:00+00:00"}, "thanked_before"),
        (
            "the ledger thanked them for 11.2, then the suggestion was reopened",
            [REOPENED],
            {"v11.2": "2026-11-17T18:00:00+00:00"},
            None,
        ),
        (
            "reopened before the ledger's thank-you",
            [REOPENED],
            {"v11.2": "2026-11-19T18:00:00+00:00"},
            "thanked_before",
        ),
        ("UserVoice shows the 11.2 thank-you, then the reopening", [SHIPPED_11_2, REOPENED], {}, None),
        ("UserVoice shows the 11.2 thank-you", [SHIPPED_11_2], {}, "thanked_before"),
        ("nothing before", [], {}, None),
    ],
)
def test_a_reopened_suggestion_is_thanked_with_the_release_that_ships_it(
    case: str, updates: list[dict[str, Any]], ledger_thanks: dict[str, str], outcome: str | None
) -> None:
    # Thanked with 11.2, then reopened (pulled from 11.2): the 11.3 closeout that ships it thanks them.
    [nominee] = plan([suggestion()], [ticket(fix=("v11.2", "v11.3"))], params("11.3")).thank
    result = upstream_result(nominee, updates, "11.3", 15, ledger_thanks)
    assert (result.outcome if result else None) == outcome, case


def test_closeout_sheet_rows() -> None:
    closeout = plan(
        [
            suggestion(),
            suggestion(sid=101, author="Bo"),
            suggestion(sid=102, author="Cy", category="Enterprise"),
        ],
        [ticket(fix=("v11.2",)), ticket("MM-2", 101), ticket("MM-3", 102)],
    )
    team, bo, enterprise = sorted(closeout.thank, key=lambda n: n.suggestion_id)
    results = [
        ThankResult(team, "thanked", "7001"),
        ThankResult(bo, "dry_run"),
        ThankResult(enterprise, "already_thanked", "7002"),
    ]
    rows = closeout_sheet_rows(closeout, results, "2026-11-18T09:00:00+00:00")
    assert rows == [
        SheetRow(
            suggestion_id="100",
            fix_version="v11.2",
            title="Idea 100",
            url=f"{PORTAL}/100-idea",
            nominator="Lena Fischer",
            edition="Team",
            jira_key="MM-1",
            jira_status="Closed",
            uservoice_status="Completed",
            release_date="2026-11-16",
            thanked_at="2026-11-18T09:00:00+00:00",
            status_update_id="7001",
        ),
        SheetRow(
            suggestion_id="102",
            fix_version="11.2",
            title="Idea 102",
            url=f"{PORTAL}/102-idea",
            nominator="Cy",
            edition="Enterprise",
            jira_key="MM-3",
            jira_status="Closed",
            uservoice_status="Completed",
            # Thanked before, and the sheet has no release date for them: this closeout's.
            release_date="2026-11-16",
            thanked_at="",  # the row keeps its time of thanks: this run did not thank them
            status_update_id="7002",
        ),
    ]


def test_a_thank_you_found_upstream_gives_the_sheet_its_time() -> None:
    closeout = plan([suggestion()], [ticket(fix=("v11.2",))])
    [nominee] = closeout.thank
    found = ThankResult(nominee, "already_thanked", "7003", thanked_at="2026-11-17T18:00:00+00:00")
    [row] = closeout_sheet_rows(closeout, [found], "2026-11-18T09:00:00+00:00")
    assert (row.thanked_at, row.status_update_id, row.release_date) == (
        "2026-11-17T18:00:00+00:00",
        "7003",
        "2026-11-16",
    )


@pytest.mark.parametrize(
    ("outcome", "sheet_has_a_date", "release_date"),
    [
        ("thanked", False, "2026-11-16"),
        ("thanked", True, "2026-11-16"),  # this run thanked them, for this release
        # Thanked by an earlier run whose sheet update never ran (a refused thank-you failed it):
        # the release date the closeout knows.
        ("already_thanked", False, "2026-11-16"),
        # The sheet says when they were thanked for: a later run with another date keeps it.
        ("already_thanked", True, ""),
        ("failed", False, None),  # not thanked: no row
        ("dry_run", False, None),
    ],
)
def test_the_release_date_of_a_sheet_row(
    outcome: str, sheet_has_a_date: bool, release_date: str | None
) -> None:
    closeout = plan([suggestion()], [ticket(fix=("v11.2",))])
    [nominee] = closeout.thank
    # As the pipeline reads the sheet: a row written "11.2.0" is this "v11.2" one.
    dated = {sheet_key("100", "11.2.0")} if sheet_has_a_date else set()
    result = ThankResult(nominee, outcome, "7004")
    rows = closeout_sheet_rows(closeout, [result], "2026-11-18T09:00:00+00:00", dated)
    assert [r.release_date for r in rows] == ([] if release_date is None else [release_date])


def test_no_sheet_rows_for_a_dry_run() -> None:
    closeout = plan([suggestion()], [ticket()], params(dry_run=True))
    results = [ThankResult(n, "dry_run") for n in closeout.thank]
    assert closeout_sheet_rows(closeout, results, "now") == []


@pytest.mark.parametrize(
    ("fix", "version", "thanked"),
    [
        (("v11.2",), "11.2.0", True),
        (("11.2.0",), "11.2", True),
        (("11.2.1",), "11.2", False),
        (("11.20",), "11.2", False),
    ],
)
def test_a_release_is_found_however_its_version_is_written(
    fix: tuple[str, ...], version: str, thanked: bool
) -> None:
    result = plan([suggestion()], [ticket(fix=fix)], run=params(version))
    assert [n.suggestion_id for n in result.thank] == ([100] if thanked else [])
    if thanked:
        # The sheet row carries the ticket's own fixVersion, as Jira writes it.
        assert result.thank[0].fix_version == fix[0]


def test_a_forum_without_uservoice_data_plans_nothing_and_fails_nothing() -> None:
    """No statuses and no suggestions (a scenario without a uservoice folder): an empty plan, not a
    settings error about the Completed status nobody needs."""
    result = plan([], [ticket()], statuses={})
    assert (result.thank, result.skipped) == ((), ())


def test_the_completed_status_is_needed_only_to_thank_someone() -> None:
    with pytest.raises(SettingsError, match=r"closeout\.completed_status"):
        plan([suggestion()], [ticket()], statuses={1: "Under Review"})


def test_a_done_ticket_without_a_resolution_says_so() -> None:
    result = plan([suggestion()], [ticket(status="Done", category="Done", resolution=None)])
    assert [n.reason for n in result.skipped] == [
        "MM-1 is Done but has no resolution in Jira: set one, or thank them by hand"
    ]
