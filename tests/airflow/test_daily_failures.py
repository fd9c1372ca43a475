"""Hostile input, a failing channel and bad settings, through real Airflow and the sandbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from harness import AirflowRunner
from test_daily_e2e import LIVE_MENTION, posts_to, run_daily

from community_sandbox import Sandbox
from community_sandbox.scenario import load_scenario
from scenario_files import days, forum_post, forum_topic, github_comment, github_issue, write_scenario

pytestmark = pytest.mark.airflow

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)
REPOS = ("mattermost/mattermost", "mattermost/mattermost-mobile")
ROTATION = {"members": ["dev.one", "dev.two"], "days": 7, "start": "2026-11-02"}
HOSTILE_TITLES = [
    "@channel URGENT: <!here> login broken [click](http://evil.example) **now**",
    "<!channel> ping @all and @here. also @someone",
    "](javascript:alert(1)) `unclosed ~~strike",
    "A" * 10_240,
]


# The small scenarios hold GitHub and forum data only.
ONLY_GITHUB_AND_FORUM = {"channels": {"disabled": ["gitlab", "stackoverflow", "uservoice", "jira"]}}


def small_scenario(
    root: Path,
    more_issues: tuple[dict[str, Any], ...] = (),
    settings: dict[str, Any] = ONLY_GITHUB_AND_FORUM,
    **kwargs: Any,
) -> Path:
    issues = [
        github_issue(REPOS[0], n, title, "stranger", NOW - days(3 + n))
        for n, title in enumerate(HOSTILE_TITLES, start=1)
    ]
    issues += more_issues
    issues.append(github_issue(REPOS[0], 10, "Answered already", "asker", NOW - days(4)))
    comments = [github_comment(REPOS[0], 5001, 10, "helper", NOW - days(3))]
    old_topic = [forum_post(1, 77, 1, "@here", NOW - days(5), raw="Help @channel")]
    # New in the daily interval: a [Triage] item.
    new_topic = [
        forum_post(2, 78, 1, "newcomer", NOW - days(0.5), raw="The desktop app shows a blank window.")
    ]
    topics = [
        forum_topic(77, "Forum <!here> question @all", NOW - days(5), old_topic),
        forum_topic(78, "Blank window after login", NOW - days(0.5), new_topic),
    ]
    return write_scenario(
        root,
        NOW,
        github={REPOS[0]: {"issues": issues, "comments": comments}, REPOS[1]: {}},
        topics=topics,
        posts=old_topic + new_topic,
        variables={
            "community_rotation": ROTATION,
            "community_staff": {"github": [], "bots": []},
            "community_settings": settings,
        },
        **kwargs,
    )


def test_hostile_titles_ping_no_one_and_stay_one_item_each(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    scenario = small_scenario(tmp_path / "hostile")
    running = sandbox(scenario)
    result = run_daily(airflow, scenario, running)
    assert result.state == "success", result.log[-5000:]
    [digest] = posts_to(running.outbox, "help-channel-hook")
    header, body = digest.split("\n", 1)
    assert header.startswith("[Help Wanted] #forum #github @here @dev.one ")
    # Only the developer on rotation pings below the header (items from their third day on).
    pings = {m.group(0) for m in re.finditer(r"(?<![\w\u200b])@[A-Za-z0-9_.-]+", body)}
    assert pings <= {"@dev.one"}
    assert not re.search(r"<!(here|channel|all)", body)
    assert not LIVE_MENTION.search(body.replace("@dev.one", ""))
    items = [line for line in body.splitlines() if line.startswith("- [")]
    assert len(items) == 5  # four hostile issues and the forum topic; the answered issue is not waiting
    for line in items:
        assert re.match(r"^- \[(?:[^\[\]\\]|\\.)*\]\(https://[^)\s]+\) · ", line), line[:200]
        assert len(line) < 500
    assert "issues/10)" not in body


def test_failing_channel_still_sends_the_digest_names_it_and_fails_the_run(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    faults = [{"service": "discourse", "path": ".*", "status": 500}]
    scenario = small_scenario(tmp_path / "forum-down", faults=faults)
    running = sandbox(scenario)
    result = run_daily(airflow, scenario, running)
    assert result.state == "failed"
    [digest] = posts_to(running.outbox, "help-channel-hook")
    cm_posts = posts_to(running.outbox, "cm-channel-hook")
    [triage] = [p for p in cm_posts if p.startswith("[Triage]")]
    assert "could not read Forum (forum)" in digest
    assert "could not read Forum (forum)" in triage
    assert "https://github.com/mattermost/mattermost/issues/1" in digest
    assert "channel(s) not read in this run: forum" in result.log
    # That failure is final: the check has retries (for a lost worker), but it ran once. The one
    # retry in the run is extract_forum's.
    assert result.log.count("AirflowFailException: channel(s) not read in this run: forum") == 1
    assert result.log.count("new_state=up_for_retry") == 1
    # The task was retried (two tries, each with its own HTTP retries), yet the CM got one alert.
    attempts = [r for r in running.requests_log if r["service"] == "discourse"]
    assert len(attempts) >= 4
    [alert] = [p for p in cm_posts if p.startswith("[Alert]")]
    assert "task `extract_forum` failed" in alert
    assert "answered 500" in alert
    assert "/t/topic-78/78" not in triage

    # The forum answers again and the day is run again: a post is new on one day only, so the
    # forum's new posts follow on their own, once; the rest was sent and is not sent again.
    back = sandbox(small_scenario(tmp_path / "forum-back"))
    again = run_daily(airflow, tmp_path / "forum-back", back)
    assert again.state == "success", again.log[-5000:]
    [catch_up] = posts_to(back.outbox, "cm-channel-hook")
    assert catch_up.startswith(
        "[Triage] 1 new community post from 2026-11-17 09:00 UTC to 2026-11-18 09:00 UTC, catching up on Forum (forum)\n"
    )
    assert "/t/topic-78/78" in catch_up
    assert ":warning: Incomplete" not in catch_up
    assert posts_to(back.outbox, "help-channel-hook") == []  # [Help Wanted] comes back every day
    archive = airflow.workdir / "archive" / "community_daily_monitoring" / "2026-11-18T090000Z"
    assert "could not read Forum (forum)" in (archive / "triage.md").read_text()  # what was sent, kept
    assert (archive / "triage.recovered-forum.md").read_text().startswith(catch_up.split("\n", 1)[0])
    once_more = run_daily(airflow, tmp_path / "forum-back", back)
    assert once_more.state == "success", once_more.log[-5000:]
    assert len(posts_to(back.outbox, "cm-channel-hook")) == 1


def test_a_day_sent_without_a_channel_is_caught_up_by_the_next_day_once(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    """Nobody cleared the failed day: the next day's run sends that day's forum posts first, as of
    that day, under the key a cleared run would use; clearing it afterwards sends nothing again."""
    down = sandbox(
        small_scenario(
            tmp_path / "forum-down", faults=[{"service": "discourse", "path": ".*", "status": 500}]
        )
    )
    first = run_daily(airflow, tmp_path / "forum-down", down)
    assert first.state == "failed"
    [triage] = [p for p in posts_to(down.outbox, "cm-channel-hook") if p.startswith("[Triage]")]
    assert "/t/topic-78/78" not in triage

    back = sandbox(small_scenario(tmp_path / "forum-back"))
    next_day = (NOW + days(1)).isoformat()
    airflow.use_sandbox(back.base_url, {"community_rotation": ROTATION}, ONLY_GITHUB_AND_FORUM)
    second = airflow.dags_test("community_daily_monitoring", next_day, {"as_of": next_day})
    assert second.state == "success", second.log[-5000:]
    catch_up, today = posts_to(back.outbox, "cm-channel-hook")
    assert catch_up.startswith(
        "[Triage] 1 new community post from 2026-11-17 09:00 UTC to 2026-11-18 09:00 UTC, catching up on Forum (forum)\n"
    )
    assert "/t/topic-78/78" in catch_up
    assert "github.com" not in catch_up  # the GitHub issues of that day went out on it
    assert today.startswith("[Triage] ")
    assert "2026-11-19 09:00 UTC" in today.split("\n", 1)[0]
    assert "/t/topic-78/78" not in today  # new on its own day only
    archive = airflow.workdir / "archive" / "community_daily_monitoring" / "2026-11-19T090000Z"
    assert (
        (archive / "triage.recovered-forum.of-2026-11-18T090000Z.md")
        .read_text()
        .startswith(catch_up.split("\n", 1)[0])
    )

    # The third day owes nothing more, and clearing the failed day sends its forum posts no more.
    third_day = (NOW + days(2)).isoformat()
    third = airflow.dags_test("community_daily_monitoring", third_day, {"as_of": third_day})
    assert third.state == "success", third.log[-5000:]
    cleared = run_daily(airflow, tmp_path / "forum-back", back)
    assert cleared.state == "success", cleared.log[-5000:]
    triages = [p for p in posts_to(back.outbox, "cm-channel-hook") if p.startswith("[Triage]")]
    assert sum("/t/topic-78/78" in p for p in triages) == 1
    assert len(triages) == 3  # the catch-up, the second day's and the third day's


def unreadable_issues_scenario(root: Path, broken: tuple[int, ...], gone: tuple[int, ...] = ()) -> Path:
    """GitHub issues 31, 33 and 34 new on NOW's day, 32 three days old; those ``broken`` are
    malformed (labels not a list, which no GitHub API answer has), so a read leaves them out; those
    ``gone`` are not listed at all (deleted, or hidden, upstream)."""
    issues = [
        github_issue(REPOS[0], 31, "Channel sidebar freezes after an upgrade", "reporter", NOW - days(0.5)),
        github_issue(REPOS[0], 32, "Older issue, read late", "someone", NOW - days(3)),
        github_issue(REPOS[0], 33, "Readable new issue", "other", NOW - days(0.4)),
        github_issue(REPOS[0], 34, "Hidden for a while", "fourth", NOW - days(0.3)),
    ]
    issues = [issue for issue in issues if issue["number"] not in gone]
    for issue in issues:
        if issue["number"] in broken:
            issue["labels"] = "bug"
    return write_scenario(
        root,
        NOW,
        github={REPOS[0]: {"issues": issues}, REPOS[1]: {}},
        variables={
            "community_rotation": ROTATION,
            "community_staff": {"github": [], "bots": []},
            "community_settings": ONLY_GITHUB_AND_FORUM,
        },
    )


def triages_in(running: Sandbox) -> list[str]:
    return [p for p in posts_to(running.outbox, "cm-channel-hook") if p.startswith("[Triage]")]


def test_a_post_left_out_unreadable_is_caught_up_once_it_reads(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    """A post [Triage] could not read is named in its footer; once a later run reads it, that day's
    catch-up lists it (when it was new that day), once, before the later day's own [Triage]. One
    that was not new that day sends nothing when read, and is owed no more."""
    down = sandbox(unreadable_issues_scenario(tmp_path / "both", broken=(31, 32, 34)))
    first = run_daily(airflow, tmp_path / "both", down)
    assert first.state == "failed"  # an unreadable item makes the run red
    [triage] = triages_in(down)
    assert "#### Could not read (3)" in triage
    assert "/issues/33)" in triage
    assert "/issues/31)" not in triage

    # The next day issue 31 reads again, 32 does not yet, and 34 is not listed at all.
    one = sandbox(unreadable_issues_scenario(tmp_path / "one", broken=(32,), gone=(34,)))
    airflow.use_sandbox(one.base_url, {"community_rotation": ROTATION}, ONLY_GITHUB_AND_FORUM)
    second_day = (NOW + days(1)).isoformat()
    second = airflow.dags_test("community_daily_monitoring", second_day, {"as_of": second_day})
    assert second.state == "failed"  # 32 still cannot be read
    catch_up, today = triages_in(one)
    assert catch_up.startswith(
        "[Triage] 1 new community post from 2026-11-17 09:00 UTC to 2026-11-18 09:00 UTC, "
        "catching up on posts it could not read\n"
    )
    assert "left out posts it could not read" in catch_up
    assert "/issues/31)" in catch_up
    assert "/issues/33)" not in catch_up  # listed on its day
    assert "#### Could not read" not in catch_up  # the first [Triage] named 32; today's does too
    assert "2026-11-19 09:00 UTC" in today.split("\n", 1)[0]
    assert "/issues/31)" not in today
    assert "#### Could not read (1)" in today
    archive = airflow.workdir / "archive" / "community_daily_monitoring" / "2026-11-19T090000Z"
    [archived] = archive.glob("triage.recovered-left-out-*.of-2026-11-18T090000Z.md")
    assert archived.read_text().startswith(catch_up.split("\n", 1)[0])

    # Then 32 reads too: three days old on the first day, it was never a [Triage] item of that
    # day nor of the next, so nothing is sent for it, and nothing is owed any more.
    fixed = sandbox(unreadable_issues_scenario(tmp_path / "fixed", broken=(), gone=(34,)))
    airflow.use_sandbox(fixed.base_url, {"community_rotation": ROTATION}, ONLY_GITHUB_AND_FORUM)
    third_day = (NOW + days(2)).isoformat()
    third = airflow.dags_test("community_daily_monitoring", third_day, {"as_of": third_day})
    assert third.state == "success", third.log[-5000:]
    [only_today] = triages_in(fixed)
    assert "2026-11-20 09:00 UTC" in only_today.split("\n", 1)[0]
    # Owed by the first day's [Triage] only: the second day's, which could not read it either, did not
    # name it again.
    assert third.log.count("none was new that day, nothing to send") == 1
    # 34, never read since, is not taken for a post that was not new: it is still owed.
    assert "still owed: ['github/mattermost/mattermost#34']" in third.log
    fourth_day = (NOW + days(3)).isoformat()
    fourth = airflow.dags_test("community_daily_monitoring", fourth_day, {"as_of": fourth_day})
    assert fourth.state == "success", fourth.log[-5000:]
    assert "went out without" not in fourth.log
    cleared = run_daily(airflow, tmp_path / "fixed", fixed)  # the first day, cleared
    assert cleared.state == "success", cleared.log[-5000:]
    assert len(triages_in(fixed)) == 2  # the third day's and the fourth day's

    # 34 is listed again upstream: the first day's catch-up lists it, once.
    back = sandbox(unreadable_issues_scenario(tmp_path / "back", broken=()))
    airflow.use_sandbox(back.base_url, {"community_rotation": ROTATION}, ONLY_GITHUB_AND_FORUM)
    fifth_day = (NOW + days(4)).isoformat()
    fifth = airflow.dags_test("community_daily_monitoring", fifth_day, {"as_of": fifth_day})
    assert fifth.state == "success", fifth.log[-5000:]
    late, fifth_today = triages_in(back)
    assert late.startswith("[Triage] 1 new community post from 2026-11-17 09:00 UTC to 2026-11-18 09:00 UTC")
    assert "/issues/34)" in late
    assert "/issues/34)" not in fifth_today
    everything = [*triages_in(down), *triages_in(one), *triages_in(fixed), *triages_in(back)]
    assert sum("/issues/31)" in p for p in everything) == 1
    assert sum("/issues/34)" in p for p in everything) == 1


def test_a_post_on_the_community_page_that_a_run_could_not_read_stays_listed_marked(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    """Issue 32 waits for an answer on the first day's page; the next day GitHub answers it in a form
    the run cannot read. The run is red and names it, and the page still lists it, from the first
    day's row, marked as not read: the page never loses sight of it without a word."""
    import sqlalchemy as sa

    from community_monitoring import state_table
    from community_monitoring.web.app import page_context
    from community_monitoring.web.page import PageQuery, select

    fine = sandbox(unreadable_issues_scenario(tmp_path / "fine", broken=()))
    assert run_daily(airflow, tmp_path / "fine", fine).state == "success"
    broken = sandbox(unreadable_issues_scenario(tmp_path / "broken", broken=(32,)))
    airflow.use_sandbox(broken.base_url, {"community_rotation": ROTATION}, ONLY_GITHUB_AND_FORUM)
    second_day = (NOW + days(1)).isoformat()
    second = airflow.dags_test("community_daily_monitoring", second_day, {"as_of": second_day})
    assert second.state == "failed"  # issue 32 could not be read
    engine = sa.create_engine(f"sqlite:///{airflow.workdir / 'ledger.db'}")
    try:
        key = ("github", f"{REPOS[0]}#32")
        assert state_table.carried(engine, NOW + days(1)) == {key: NOW}
        context = page_context(select(PageQuery.parse()), engine)
    finally:
        engine.dispose()
    assert context["at"] == NOW + days(1)
    assert context["unread"] == 1
    listed = {item.title: item.last_read for item in context["queue"]}
    assert listed["Older issue, read late"] == "2026-11-18 09:00"
    assert listed["Channel sidebar freezes after an upgrade"] == ""  # read on the second day too


def test_days_with_no_run_are_triaged_by_the_next_run_once(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    """The DAG paused five days (a daily DAG does not catch up by itself): the next run sends a
    [Triage] for each missed day that had new posts, as of that day, before its own; run again
    (a cleared run), it sends none of them twice."""
    running = sandbox(small_scenario(tmp_path / "paused"))
    airflow.use_sandbox(running.base_url, {"community_rotation": ROTATION}, ONLY_GITHUB_AND_FORUM)
    before = (NOW - days(6)).isoformat()
    first = airflow.dags_test("community_daily_monitoring", before, {"as_of": before})
    assert first.state == "success", first.log[-5000:]
    [paused_day] = [p for p in posts_to(running.outbox, "cm-channel-hook") if p.startswith("[Triage]")]
    assert "/issues/3)" in paused_day  # created 6 days back: new on that day

    back = run_daily(airflow, tmp_path / "paused", running)
    assert back.state == "success", back.log[-5000:]
    # One classifier for all the days the run lists: the model store is read once, not once a day.
    triage_task = back.log.split("starting task_id=build_triage_list", 1)[1].split("end task", 1)[0]
    assert triage_task.count("Triage as of") == 6  # today and the five days back
    assert triage_task.count("No triage model has been promoted yet") == 1, triage_task
    triages = [p for p in posts_to(running.outbox, "cm-channel-hook") if p.startswith("[Triage]")][1:]
    headers = [p.split("\n", 1)[0] for p in triages]
    # Issue 2 and forum topic 77 were opened 5 days back, issues 1 and 10 four days back; the days
    # 3, 2 and 1 back had no new post and send nothing; then today's, with the new forum topic.
    assert headers == [
        "[Triage] 2 new community posts from 2026-11-12 09:00 UTC to 2026-11-13 09:00 UTC, "
        "not listed before: no [Triage] went out for this day",
        "[Triage] 2 new community posts from 2026-11-13 09:00 UTC to 2026-11-14 09:00 UTC, "
        "not listed before: no [Triage] went out for this day",
        "[Triage] 1 new community post from 2026-11-17 09:00 UTC to 2026-11-18 09:00 UTC",
    ]
    assert "/issues/2)" in triages[0]
    assert "/t/" in triages[0]
    assert "/issues/1)" in triages[1]
    assert "/issues/10)" in triages[1]
    assert "/t/topic-78/78" in triages[2]
    assert "github.com" not in triages[2]
    assert "/issues/3)" not in "".join(triages)  # listed on its own day
    archive = airflow.workdir / "archive" / "community_daily_monitoring" / "2026-11-18T090000Z"
    assert (archive / "triage.not-listed.of-2026-11-13T090000Z.md").read_text().startswith(headers[0])

    again = run_daily(airflow, tmp_path / "paused", running)
    assert again.state == "success", again.log[-5000:]
    assert len([p for p in posts_to(running.outbox, "cm-channel-hook") if p.startswith("[Triage]")]) == 4


def test_a_capped_catch_up_names_the_full_list_archived_with_it(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    """One post a section: a [Triage] sent later for a day with none ends a section with "… and N
    more", naming the archived full list; that file must be the one archived with it (before: the
    day's own <T>/triage.full.md, which no run wrote)."""
    running = sandbox(small_scenario(tmp_path / "capped"))
    capped = {**ONLY_GITHUB_AND_FORUM, "digest": {"triage_max_items_per_section": 1, "full_list_url": ""}}
    airflow.use_sandbox(running.base_url, {"community_rotation": ROTATION}, capped)
    before = (NOW - days(6)).isoformat()
    assert airflow.dags_test("community_daily_monitoring", before, {"as_of": before}).state == "success"
    airflow.use_sandbox(running.base_url, load_scenario(tmp_path / "capped").variables, capped)
    back = airflow.dags_test("community_daily_monitoring", NOW.isoformat(), {"as_of": NOW.isoformat()})
    assert back.state == "success", back.log[-5000:]
    catch_ups = [
        p for p in posts_to(running.outbox, "cm-channel-hook") if "not listed before" in p.split("\n", 1)[0]
    ]
    named = [name for p in catch_ups for name in re.findall(r"full list, archived as `([^`]+)`", p)]
    assert named
    archive = airflow.workdir / "archive" / "community_daily_monitoring"
    for name in named:
        assert (archive / name).is_file(), name
        assert name.startswith("2026-11-18T090000Z/triage.not-listed.of-"), name


# Through Airflow, one bad value of each Variable the run reads first; every bad value of each is
# named in tests/unit/test_settings.py and test_roster_and_settings.py (a run here is ~12 s of Airflow).
@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "community_rotation",
            '{"members": [], "days": 7, "start": "2026-11-02"}',
            "'members' must be a non-empty list",
        ),
        ("community_staff", '{"github": "amy"}', "'github' must be a list of usernames"),
        # A string is not a boolean: "false" must never switch real UserVoice writes on.
        (
            "community_settings",
            '{"uservoice": {"apply_status_updates": "false"}}',
            "key 'uservoice.apply_status_updates': Input should be a valid boolean",
        ),
        ("community_settings", '{"weekly": {"max_age_days": 0}}', "key 'weekly.max_age_days'"),
    ],
)
def test_bad_variable_fails_with_its_name_and_posts_nothing(
    airflow: AirflowRunner,
    sandbox: Callable[[Path], Sandbox],
    tmp_path: Path,
    variable: str,
    value: str,
    message: str,
) -> None:
    scenario = small_scenario(tmp_path / "bad-variable")
    running = sandbox(scenario)
    airflow.use_sandbox(running.base_url, {"community_rotation": ROTATION}, ONLY_GITHUB_AND_FORUM)
    airflow.set_variable(variable, value)
    result = airflow.dags_test("community_daily_monitoring", NOW.isoformat(), {"as_of": NOW.isoformat()})
    assert result.state == "failed"
    assert message in result.log
    assert posts_to(running.outbox, "help-channel-hook") == []
    # Nothing but the alert: no digest, no upstream write.
    assert [e for e in running.outbox if e["path"] != "/hooks/cm-channel-hook"] == []
    assert result.task_failed("check_run")
    assert "new_state=up_for_retry" not in result.log  # bad input fails check_run at once
    # The CM hears about it once, with the message that names the bad input.
    alerts = [p for p in posts_to(running.outbox, "cm-channel-hook") if p.startswith("[Alert]")]
    assert len(alerts) == 1
    assert variable in alerts[0].replace("\\", "")


def test_missing_connection_is_named(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    scenario = small_scenario(tmp_path / "no-github")
    running = sandbox(scenario)
    airflow.use_sandbox(running.base_url, {"community_rotation": ROTATION}, ONLY_GITHUB_AND_FORUM)
    del airflow.extra_env["AIRFLOW_CONN_GITHUB_DEFAULT"]
    result = airflow.dags_test("community_daily_monitoring", NOW.isoformat(), {"as_of": NOW.isoformat()})
    assert result.state == "failed"
    assert "The conn_id `github_default` isn't defined" in result.log
    [digest] = posts_to(running.outbox, "help-channel-hook")
    assert "could not read GitHub (github)" in digest


ENTITY_TITLES = ["&commat;here the server is down", "&#64;channel please look", "Ping &#x40;all now"]


def test_entities_in_titles_ping_no_one(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    """Mattermost decodes character references before it looks for mentions (FIELD-NOTES)."""
    import html

    issues = [
        github_issue(REPOS[0], n, title, "stranger", NOW - days(3 + n))
        for n, title in enumerate(ENTITY_TITLES, 1)
    ]
    scenario = write_scenario(
        tmp_path / "entities",
        NOW,
        github={REPOS[0]: {"issues": issues}, REPOS[1]: {}},
        variables={"community_rotation": ROTATION, "community_settings": ONLY_GITHUB_AND_FORUM},
    )
    running = sandbox(scenario)
    result = run_daily(airflow, scenario, running)
    assert result.state == "success", result.log[-3000:]
    [digest] = posts_to(running.outbox, "help-channel-hook")
    body = digest.split("\n", 1)[1]  # the header's own @here is configured, and meant
    # What Mattermost's mention parser sees; the rotation's own mention (items from day 3) is meant.
    decoded = html.unescape(body).replace("@dev.one", "")
    assert not LIVE_MENTION.search(decoded), decoded


def test_a_failing_webhook_leaks_its_id_nowhere(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    """The webhook id is a secret: not in the alert, the ledger, or the task logs."""
    import sqlite3

    refused = {"service": "mattermost", "method": "POST", "path": "^/hooks/help-channel-hook$", "status": 404}
    scenario = small_scenario(tmp_path / "refused", faults=[refused])
    running = sandbox(scenario)
    result = run_daily(airflow, scenario, running)
    assert result.state == "failed"
    [alert] = [p for p in posts_to(running.outbox, "cm-channel-hook") if p.startswith("[Alert]")]
    assert "post_help_wanted_digest" in alert
    assert "help-channel-hook" not in alert
    assert "help-channel-hook" not in result.log
    with sqlite3.connect(airflow.workdir / "ledger.db") as db:
        errors = [row[0] or "" for row in db.execute("SELECT last_error FROM community_notifications")]
    assert any(errors), "the failure is recorded"
    assert not any("help-channel-hook" in e for e in errors)


def test_a_webhook_url_pasted_into_titles_reaches_no_message_ledger_or_page(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    """Two authors paste the team's own webhook URL into their titles (one new today, one waiting
    for days): [Triage], [Help Wanted], the ledger and the Community page's rows show it as ***."""
    import sqlite3

    import sqlalchemy as sa

    from community_monitoring import state_table

    pasted = "https://chat.example.com/hooks/cm-channel-hook"
    leaks = (
        github_issue(REPOS[0], 21, f"Posting to {pasted} answers 500", "stranger", NOW - days(0.5)),
        github_issue(REPOS[0], 22, f"Webhook {pasted} stopped working", "other", NOW - days(6)),
    )
    scenario = small_scenario(tmp_path / "pasted", more_issues=leaks)
    running = sandbox(scenario)
    result = run_daily(airflow, scenario, running)
    assert result.state == "success", result.log[-3000:]
    sent = [e["body"]["text"] for e in running.outbox if e["service"] == "mattermost"]
    # Both items are listed, each with its title scrubbed.
    assert any("/issues/21)" in text for text in sent)
    assert any("/issues/22)" in text for text in sent)
    assert sum(text.count("/hooks/***") for text in sent) >= 2
    assert not any("cm-channel-hook" in text for text in sent)
    with sqlite3.connect(airflow.workdir / "ledger.db") as db:
        stored = [
            " ".join(str(v) for v in row) for row in db.execute("SELECT * FROM community_notifications")
        ]
    assert stored
    assert not any("cm-channel-hook" in row for row in stored)
    engine = sa.create_engine(f"sqlite:///{airflow.workdir / 'ledger.db'}")
    try:
        rows = {row.source_id: row for row in state_table.snapshot(engine, NOW)}
    finally:
        engine.dispose()
    assert rows[f"{REPOS[0]}#22"].title == "Webhook https://chat.example.com/hooks/*** stopped working"
    assert not any("cm-channel-hook" in row.title for row in rows.values())


SPLIT_ISSUES = tuple(
    github_issue(
        REPOS[0],
        40 + n,
        f"Sidebar freezes after switching teams, case {n}",
        f"reporter{n}",
        NOW - days(0.05 * (n + 1)),
        body=f"Case {n}: the sidebar stops answering after a team switch. " * 8,
    )
    for n in range(6)
)
CM_HOOK = "^/hooks/cm-channel-hook$"
# Six new issues in a [Triage] split into three posts.
SPLIT = {**ONLY_GITHUB_AND_FORUM, "digest": {"message_max_chars": 1000}}


def test_a_triage_cut_short_without_a_channel_is_finished_by_the_cleared_run_once(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path
) -> None:
    """The forum is down and the CM channel's hook takes the run's alert and the [Triage]'s first
    part, then answers 503 to everything: the [Triage] sent without the forum is cut short. The run,
    cleared once the forum reads (as the alert says), sends the first [Triage]'s unsent part, then
    the forum's posts on their own; a second clear sends nothing."""

    def day(root: Path, faults: list[dict[str, Any]]) -> Path:
        return small_scenario(root, SPLIT_ISSUES, SPLIT, faults=faults)

    down = sandbox(
        day(
            tmp_path / "cut",
            [
                {"service": "discourse", "path": ".*", "status": 500},
                {"service": "mattermost", "path": CM_HOOK, "kind": "slow", "seconds": 0, "times": 2},
                {"service": "mattermost", "path": CM_HOOK, "status": 503},
            ],
        )
    )
    first = run_daily(airflow, tmp_path / "cut", down)
    assert first.state == "failed"
    alert, part_1 = posts_to(down.outbox, "cm-channel-hook")
    assert alert.startswith("[Alert]")
    assert part_1.startswith("[Triage]")
    assert "(1/" in part_1.split("\n", 1)[0], part_1[:300]

    back = sandbox(day(tmp_path / "back", []))
    cleared = run_daily(airflow, tmp_path / "back", back)
    assert cleared.state == "success", cleared.log[-5000:]
    rest = posts_to(back.outbox, "cm-channel-hook")
    *unsent, catch_up = rest
    # The first [Triage]'s parts 2 and 3, as they were built (the ledger's), then the catch-up.
    assert (
        part_1.split("\n", 1)[0]
        == "[Triage] (1/3) 6 new community posts from 2026-11-17 09:00 UTC to 2026-11-18 09:00 UTC"
    )
    assert [part.split("\n", 1)[0] for part in unsent] == ["[Triage] (2/3)", "[Triage] (3/3)"]
    assert "catching up on Forum (forum)" in catch_up.split("\n", 1)[0]
    assert "/t/topic-78/78" in catch_up
    assert "github.com" not in catch_up

    again = run_daily(airflow, tmp_path / "back", back)
    assert again.state == "success", again.log[-5000:]
    assert posts_to(back.outbox, "cm-channel-hook") == rest


# Part 2 of the [Triage] alone: the hook takes part 1 (a slow answer after no wait), then the fault
# takes part 2 on the try and on its retry; the hook takes everything after that (part 3, the alert).
PART_2_FAULTS = {
    "refused for good (403)": ({"status": 403, "times": 2}, "not sent"),
    "reset after it was taken": ({"kind": "reset", "times": 1}, "in doubt"),
}


@pytest.mark.parametrize("case", list(PART_2_FAULTS))
def test_a_triage_whose_part_2_failed_is_named_in_the_alert_and_the_rerun_sends_only_what_was_not_sent(
    airflow: AirflowRunner, sandbox: Callable[[Path], Sandbox], tmp_path: Path, case: str
) -> None:
    fault, outcome = PART_2_FAULTS[case]
    faults = [
        {"service": "mattermost", "path": CM_HOOK, "kind": "slow", "seconds": 0, "times": 1},
        {"service": "mattermost", "path": CM_HOOK, **fault},
    ]
    running = sandbox(small_scenario(tmp_path / "day", SPLIT_ISSUES, SPLIT, faults=faults))
    first = run_daily(airflow, tmp_path / "day", running)
    assert first.state == "failed"
    assert first.task_failed("post_triage_list")
    *triage, alert = posts_to(running.outbox, "cm-channel-hook")
    heads = [part.split("\n", 1)[0] for part in triage]
    assert [h[: len("[Triage] (1/3)")] for h in heads] == (
        ["[Triage] (1/3)", "[Triage] (2/3)", "[Triage] (3/3)"]  # part 2 taken before the line dropped
        if outcome == "in doubt"
        else ["[Triage] (1/3)"]
    )
    assert alert.startswith("[Alert]"), alert[:200]
    shown = alert.replace("\\", "")  # as Mattermost shows it, Markdown's escapes undone
    assert "post_triage_list" in shown
    if outcome == "in doubt":
        assert "UncertainDelivery" in shown
        assert "part 2/3: " in shown
        assert "may or may not have arrived (the other 2 part(s) were sent)" in shown, shown
    else:
        assert "part 2/3 was not sent (1 part(s) before it were sent;" in shown, shown
    assert "cm-channel-hook" not in alert  # the webhook id is a secret

    again = run_daily(airflow, tmp_path / "day", running)
    rerun = posts_to(running.outbox, "cm-channel-hook")[len(triage) + 1 :]
    if outcome == "in doubt":
        # Never re-sent, never passed over as sent: the rerun stays red naming it, and sends nothing.
        assert again.state == "failed"
        assert "may or may not have arrived in an earlier try" in again.log
        assert rerun == []
    else:
        assert again.state == "success", again.log[-5000:]
        assert [part.split("\n", 1)[0][: len("[Triage] (1/3)")] for part in rerun] == [
            "[Triage] (2/3)",
            "[Triage] (3/3)",
        ]
