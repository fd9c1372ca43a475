"""The release prompt (SPEC §5): which release a daily run announces, and the plan it prompts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from builders import SETTINGS, post
from community_monitoring import keys
from community_monitoring.closeout_plan import (
    ANNOUNCEMENT_URL_NEEDED,
    Nominee,
    ThankResult,
    plan_closeout,
    release_event_extra,
    release_in_interval,
    release_version,
    releases_in_interval,
)
from community_monitoring.messages import render_closeout_summary
from community_monitoring.params import CloseoutParams, closeout_params, prompted_closeout_params
from community_monitoring.records import JiraTicket, Release
from community_monitoring.uservoice_review import UserVoiceRules

REPO = "mattermost/mattermost"


def release(tag: str, published: datetime | None, draft: bool = False, prerelease: bool = False) -> Release:
    return Release(
        tag=tag,
        name=tag,
        published_at=published,
        draft=draft,
        prerelease=prerelease,
        url=f"https://github.com/{REPO}/releases/tag/{tag}",
    )


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# The demo's releases: v11.1.0 on 11-10 16:00, a draft v11.2.0, the prerelease v11.2.0-rc1 on
# 11-17 12:30, and v11.0.0 a month earlier.
DEMO_RELEASES = [
    release("v11.2.0", None, draft=True),
    release("v11.2.0-rc1", at(17, 12, 30), prerelease=True),
    release("v11.1.0", at(10, 16)),
    release("v11.0.0", datetime(2026, 10, 16, 15, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (at(11), "v11.1.0"),  # the day after: published in (T − 1 day, T]
        (at(10, 16), "v11.1.0"),  # T exactly at the publication: the interval includes T
        (at(10, 15, 59), None),  # a minute before: not yet
        (at(11, 16), None),  # exactly one day later: (T − 1 day) is excluded, announced the day before
        (at(18), None),  # the demo's T: the prerelease of 11-17 is no release
        (at(12), None),  # two days later: old news
    ],
)
def test_the_release_published_in_the_interval(as_of: datetime, expected: str | None) -> None:
    found = release_in_interval(DEMO_RELEASES, as_of)
    assert (found.tag if found else None) == expected


def test_drafts_and_prereleases_are_never_announced() -> None:
    only_unreleased = [
        release("v11.2.0", at(17, 12), draft=True),
        release("v11.2.0-rc1", at(17, 12, 30), prerelease=True),
    ]
    assert release_in_interval(only_unreleased, at(18)) is None


def test_two_releases_the_same_day_announce_the_later_and_name_the_other() -> None:
    same_day = [release("v11.1.1", at(17, 10)), release("v10.11.6", at(17, 11))]
    found = release_in_interval(same_day, at(18))
    assert found is not None
    assert found.tag == "v10.11.6"
    latest, *others = releases_in_interval(same_day, at(18))
    extra = release_event_extra(latest, REPO, others)
    assert extra["also_released"] == ["11.1.1"]
    params = prompted_closeout_params(extra, at(18).date())
    assert (params.version, params.also_released) == ("10.11.6", ("11.1.1",))
    plan = render_closeout_summary([], [], params, SETTINGS, ["pat.pm"]).text
    assert "Also released that day: 11.1.1. This plan is for 10.11.6 alone" in plan


def test_a_tag_that_is_no_version_is_not_announced() -> None:
    assert release_in_interval([release("nightly-2026-11-17", at(17, 12))], at(18)) is None


@pytest.mark.parametrize(
    ("tag", "version"),
    [
        ("v11.1.0", "11.1"),  # Jira's fixVersion for a minor release is v11.1
        ("11.1.0", "11.1"),
        ("V11.10.0", "11.10"),
        ("v11.1.2", "11.1.2"),  # a patch release stays itself
        ("v11.1", "11.1"),
        ("nightly", ""),
        ("server-v11.1.0", ""),
    ],
)
def test_release_version(tag: str, version: str) -> None:
    assert release_version(release(tag, at(10))) == version


def test_the_event_carries_what_the_closeout_needs() -> None:
    extra = release_event_extra(release("v11.1.0", at(10, 16)), REPO)
    assert extra == {
        "version": "11.1",
        "tag": "v11.1.0",
        "url": f"https://github.com/{REPO}/releases/tag/v11.1.0",
        "published_at": "2026-11-10T16:00:00+00:00",
        "repo": REPO,
        "also_released": [],
    }
    params = prompted_closeout_params(extra, at(30).date())
    assert (params.version, params.release_date, params.dry_run) == ("11.1", "2026-11-10", True)


def test_a_prompt_is_keyed_on_its_release_not_on_its_run() -> None:
    extra = release_event_extra(release("v11.1.0", at(10, 16)), REPO)
    first = prompted_closeout_params(extra, at(11).date())
    rerun = prompted_closeout_params(extra, at(12).date())  # a later run for the same event
    key = keys.closeout_summary_key(
        "community_release_closeout", first.version, [], f"release:{first.prompted_by}"
    )
    again = keys.closeout_summary_key(
        "community_release_closeout", rerun.version, [], f"release:{rerun.prompted_by}"
    )
    assert key == again
    other = prompted_closeout_params(release_event_extra(release("v11.1.1", at(17, 16)), REPO), at(18).date())
    assert other.prompted_by != first.prompted_by


def nominee(sid: int, name: str, edition: str = "Team") -> Nominee:
    return Nominee(
        suggestion_id=sid,
        title=f"Idea {sid}",
        url=f"https://mattermost.uservoice.com/forums/1/suggestions/{sid}-idea",
        name=name,
        jira_key=f"MM-{sid}",
        jira_status="Done",
        fix_version="v11.1",
        edition=edition,
        connection="uservoice_default" if edition == "Team" else "uservoice_sales",
    )


def prompted_plan(**overrides: Any) -> str:
    params = prompted_closeout_params(
        release_event_extra(release("v11.1.0", at(10, 16)), REPO), at(11).date()
    )
    results = [
        ThankResult(nominee(1, "Lena Fischer"), "dry_run"),
        ThankResult(nominee(2, "Bo", "Enterprise"), "dry_run"),
    ]
    skipped = [Nominee(**{**nominee(3, "Kim").__dict__, "reason": "MM-3 is not resolved yet (In Progress)"})]
    options = {
        "mentions": ["pat.pm", "rita.release"],
        "trigger_url": "http://airflow.example.com/dags/community_release_closeout",
    }
    message = render_closeout_summary(results, skipped, params, SETTINGS, **{**options, **overrides})
    return message.text


def test_the_prompted_plan_mentions_the_pm_and_release_manager_and_links_the_trigger_form() -> None:
    text = prompted_plan()
    lines = text.splitlines()
    assert lines[0] == "[Release Closeout] plan for 11.1 (dry run)"
    assert lines[1].startswith("@pat.pm @rita.release Mattermost 11.1 was released on 2026-11-10.")
    assert "nothing was sent to UserVoice" in lines[1]
    assert lines[2] == ""
    assert "2 nominators would be thanked" in text
    assert "#### Would thank (2)" in text
    assert "MM-3 is not resolved yet" in text
    assert "[Open the Trigger form](http://airflow.example.com/dags/community_release_closeout)" in text
    assert "with version 11.1, the release announcement's URL" in text


@pytest.mark.parametrize("prompted", [True, False])
def test_a_release_without_ideas_says_there_is_nobody_to_thank(prompted: bool) -> None:
    params = prompted_closeout_params(
        release_event_extra(release("v11.3.0", at(10, 16)), REPO), at(11).date()
    )
    if not prompted:
        params = closeout_params(
            {"version": "11.3", "release_date": "2026-11-10", "dry_run": False}, at(11).date()
        )
    text = render_closeout_summary([], [], params, SETTINGS, ["pat.pm"]).text
    assert "No UserVoice suggestion is linked to a Jira ticket fixed in 11.3: nobody to thank." in text
    assert "Thanked 0" not in text
    assert "0 nominators" not in text


def test_nobody_to_mention_mentions_nobody() -> None:
    text = prompted_plan(mentions=[])
    assert not re.search(r"(?<![\w\u200b])@[A-Za-z]", text)
    assert text.splitlines()[1].startswith("Mattermost 11.1 was released on 2026-11-10.")


def test_a_manual_dry_run_keeps_its_header_and_mentions_nobody() -> None:
    params = closeout_params(
        {
            "version": "11.1",
            "release_date": "2026-11-16",
            "announcement_url": "https://x.example/a",
            "dry_run": True,
        },
        at(18).date(),
    )
    results = [ThankResult(nominee(1, "Lena Fischer"), "dry_run")]
    message = render_closeout_summary(
        results, [], params, SETTINGS, ["pat.pm"], "http://localhost:8080/dags/x"
    )
    assert message.text.startswith("[Release Closeout] Mattermost 11.1 (released 2026-11-16): DRY RUN")
    assert "@pat.pm" not in message.text
    assert "[Open the Trigger form](http://localhost:8080/dags/x)" in message.text


def test_a_real_summary_has_no_trigger_link() -> None:
    params = CloseoutParams("11.1", "2026-11-16", "https://x.example/a", False)
    message = render_closeout_summary(
        [ThankResult(nominee(1, "Lena"), "thanked")], [], params, SETTINGS, [], "http://h/dags/x"
    )
    assert "Trigger form" not in message.text


def test_a_dry_run_plans_team_thanks_before_the_announcement_url_is_known() -> None:
    portal = "https://mattermost.uservoice.com/forums/306457-general/suggestions"
    idea = post(
        channel="uservoice",
        number=100,
        source_id="100",
        url=f"{portal}/100-idea",
        title="Idea",
        author="Lena Fischer",
    )
    shipped = JiraTicket(
        key="MM-1",
        url="https://mattermost.atlassian.net/browse/MM-1",
        summary="s",
        status="Closed",
        status_category="Done",
        resolution="Done",
        fix_versions=("v11.2",),
        labels=(),
        linked_urls=(f"{portal}/100-idea",),
        updated_at="2026-11-10T00:00:00+00:00",
    )
    params = prompted_closeout_params(
        release_event_extra(release("v11.2.0", at(10, 16)), REPO), at(11).date()
    )
    statuses = {2: "Planned", 5: "Completed"}
    rules = UserVoiceRules.from_settings(SETTINGS)
    plan = plan_closeout([idea], [shipped], rules, params, SETTINGS.closeout, statuses)
    [thanked] = plan.thank
    assert thanked.edition == "Team"
    assert thanked.message.endswith(ANNOUNCEMENT_URL_NEEDED)


def fake_run(run_type: str, post_backfill_digests: bool = False, missing: tuple[str, ...] = ()) -> Any:
    from types import SimpleNamespace

    from community_monitoring.policy import decide_write_policy

    return SimpleNamespace(
        policy=decide_write_policy(run_type, post_backfill_digests=post_backfill_digests),
        channels_read=lambda: {"read": [], "missing": list(missing)},
    )


@pytest.mark.parametrize(
    ("run", "announces"),
    [
        (fake_run("scheduled"), True),
        (fake_run("manual"), True),
        # A backfill recomputes the past and posts nothing: it prompts no closeout for an old release.
        (fake_run("backfill"), False),
        # A catch-up the team asked to post is posted, the prompt with it (once per release).
        (fake_run("backfill", post_backfill_digests=True), True),
        # No evidence that nothing was released: the red run's rerun announces.
        (fake_run("scheduled", missing=("github",)), False),
        (fake_run("scheduled", missing=("forum",)), True),
    ],
)
def test_which_runs_may_announce(run: Any, announces: bool) -> None:
    from community_monitoring.pipeline.release_prompt import withheld_reason

    assert (withheld_reason(run) == "") is announces


def test_the_triggering_release_is_the_newest_event_of_an_asset_triggered_run() -> None:
    from types import SimpleNamespace

    from community_monitoring.pipeline.release_prompt import RELEASE_ASSET, triggering_release

    older = SimpleNamespace(timestamp=at(11), extra={"version": "11.1"})
    newer = SimpleNamespace(timestamp=at(18), extra={"version": "11.2"})
    context = {
        "dag_run": SimpleNamespace(run_type="asset_triggered"),
        "triggering_asset_events": {RELEASE_ASSET: [newer, older]},
    }
    assert triggering_release(context) == {"version": "11.2"}
    manual = {**context, "dag_run": SimpleNamespace(run_type="manual")}
    assert triggering_release(manual) is None


def test_the_trigger_form_link_follows_the_configured_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from community_monitoring.pipeline.closeout import trigger_form_url

    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/")
    assert trigger_form_url("community_release_closeout") == (
        "https://airflow.example.com/dags/community_release_closeout"
    )
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "")
    assert (
        trigger_form_url("community_release_closeout")
        == "http://localhost:8080/dags/community_release_closeout"
    )


def test_the_summary_names_the_items_the_plan_lacks() -> None:
    """A Jira ticket that could not be read leaves its nominator out: the PM hears of it in the summary."""
    params = closeout_params(
        {"version": "11.2", "release_date": "2026-11-16", "announcement_url": "https://example.test/a"},
        at(18).date(),
    )
    problems = [{"channel": "jira", "item": "MM-61502", "problem": "field 'status' is missing"}]
    text = render_closeout_summary([], [], params, SETTINGS, unreadable=problems).text
    assert ":warning: Could not read jira MM-61502: a nominator of theirs may be missing below" in text
    assert "Could not read" not in render_closeout_summary([], [], params, SETTINGS).text


@pytest.mark.parametrize(
    ("dry_run", "warning", "heading"),
    [
        (
            False,
            ":warning: 1 thank-you failed (below, with the error): this run is red.",
            "#### Could not thank (1)",
        ),
        (
            True,
            ":warning: Could not check whether 1 nominator was thanked earlier (below, with the error)",
            "#### Could not check (1)",
        ),
    ],
)
def test_the_summary_names_a_failed_thank_you_with_its_error(
    dry_run: bool, warning: str, heading: str
) -> None:
    params = CloseoutParams("11.1", "2026-11-16", "https://x.example/a", dry_run)
    results = [
        ThankResult(nominee(1, "Lena"), "dry_run" if dry_run else "thanked"),
        ThankResult(nominee(2, "Bo"), "failed", error="HTTPError: 404 Not Found for @here"),
    ]
    text = render_closeout_summary(results, [], params, SETTINGS).text
    assert warning in text
    assert "Trigger the closeout again once the cause is fixed; nobody is thanked twice." in text
    failed = text.split(heading, 1)[1].splitlines()[1]
    assert failed.startswith("- [Idea 2](")
    assert "· Bo ·" in failed
    assert failed.endswith("HTTPError: 404 Not Found for @\u200bhere")  # untrusted: never a mention
    assert ("1 nominator would be thanked" if dry_run else "Thanked 1 nominator and") in text
