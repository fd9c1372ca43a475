"""What a run may write (one policy), and the ledger keys every write is recorded under.

The key formats must never change: ledgers in use hold them, and a changed key would send again
everything already sent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from community_monitoring import keys
from community_monitoring.policy import WritePolicy, decide_write_policy

T = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
DAG = "community_daily_monitoring"


@pytest.mark.parametrize(
    ("run_type", "post_backfill_digests", "dry_run", "post", "upstream", "sheet", "reason"),
    [
        ("scheduled", False, False, True, True, True, ""),
        ("manual", False, False, True, True, True, ""),
        ("asset_triggered", False, False, True, True, True, ""),
        # The flag only matters for backfills.
        ("scheduled", True, False, True, True, True, ""),
        ("manual", True, False, True, True, True, ""),
        ("backfill", False, False, False, False, False, "backfill run (digests archived, not posted)"),
        # Posting a backfill's digests never writes upstream from the past.
        ("backfill", True, False, True, False, False, "backfill run (digests archived, and posted)"),
        ("manual", False, True, True, False, False, "dry run"),
        ("scheduled", False, True, True, False, False, "dry run"),
        (
            "backfill",
            False,
            True,
            False,
            False,
            False,
            "backfill run (digests archived, not posted); dry run",
        ),
        ("backfill", True, True, True, False, False, "backfill run (digests archived, and posted); dry run"),
    ],
)
def test_decide_write_policy(
    run_type: str,
    post_backfill_digests: bool,
    dry_run: bool,
    post: bool,
    upstream: bool,
    sheet: bool,
    reason: str,
) -> None:
    policy = decide_write_policy(run_type, post_backfill_digests=post_backfill_digests, dry_run=dry_run)
    assert policy == WritePolicy(
        post_messages=post, write_upstream=upstream, update_sheet=sheet, reason=reason
    )


def test_defaults_are_a_normal_run() -> None:
    assert decide_write_policy("scheduled") == WritePolicy(True, True, True, "")


FULL = decide_write_policy("scheduled")


@pytest.mark.parametrize(
    ("channels", "missing", "upstream", "sheet", "reason"),
    [
        (["uservoice", "jira"], [], True, True, ""),
        (["uservoice", "jira"], ["github", "forum"], True, True, ""),
        (["uservoice", "jira"], ["jira"], False, False, "jira could not be read in this run"),
        (
            ["uservoice", "jira"],
            ["jira", "uservoice", "github"],
            False,
            False,
            "jira, uservoice could not be read in this run",
        ),
        ([], ["jira"], True, True, ""),
    ],
)
def test_needing(channels: list[str], missing: list[str], upstream: bool, sheet: bool, reason: str) -> None:
    policy = FULL.needing(channels, missing)
    assert policy == WritePolicy(
        post_messages=True, write_upstream=upstream, update_sheet=sheet, reason=reason
    )
    if upstream:
        assert policy is FULL  # nothing missing that matters: the run's own policy


def test_needing_never_allows_more_than_the_run() -> None:
    backfill = decide_write_policy("backfill")
    assert backfill.needing(["jira"], []) is backfill
    narrowed = backfill.needing(["jira"], ["jira"])
    assert (narrowed.post_messages, narrowed.write_upstream, narrowed.update_sheet) == (False, False, False)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (
            keys.digest_key(DAG, "help_wanted", T),
            "community_daily_monitoring:help_wanted:2026-11-18T09:00:00+00:00",
        ),
        (keys.digest_key(DAG, "triage", T), "community_daily_monitoring:triage:2026-11-18T09:00:00+00:00"),
        (
            keys.digest_key("community_weekly_stale_review", "weekly_review", T),
            "community_weekly_stale_review:weekly_review:2026-11-18T09:00:00+00:00",
        ),
        (keys.alert_key(DAG, T), "community_daily_monitoring:alert:2026-11-18T09:00:00+00:00"),
        (keys.reply_key("github", "mattermost/mattermost#123"), "reply:github:mattermost/mattermost#123"),
        (
            keys.reply_key("gitlab", "gitlab-org/omnibus-gitlab#9030"),
            "reply:gitlab:gitlab-org/omnibus-gitlab#9030",
        ),
        (keys.status_key(43_871_022, "Planned", "Completed"), "uservoice_status:43871022:Planned->Completed"),
        (
            keys.status_key("43871022", "(no status)", "Under Review"),
            "uservoice_status:43871022:(no status)->Under Review",
        ),
        (keys.thank_key(43_871_022, "11.2"), "release_closeout:thank:43871022:11.2"),
        (keys.thank_key(43_871_022, "v11.2"), "release_closeout:thank:43871022:11.2"),
        (keys.thank_key("43871022", " V11.2.1 "), "release_closeout:thank:43871022:11.2.1"),
        # The release tagged v11.2.0 is 11.2: a closeout of "11.2.0" after one of "11.2" thanks nobody twice.
        (keys.thank_key(43_871_022, "11.2.0"), "release_closeout:thank:43871022:11.2"),
        (
            keys.closeout_summary_key("community_release_closeout", "11.2", [1, 2, 3]),
            "community_release_closeout:release_closeout:11.2:8a6ae15122001229",
        ),
        (
            keys.closeout_summary_key("community_release_closeout", "v11.2", ["3", 1, "2"]),
            "community_release_closeout:release_closeout:11.2:8a6ae15122001229",
        ),
        # Ids are sorted as text: "10" before "9".
        (
            keys.closeout_summary_key("community_release_closeout", "11.2", [9, 10]),
            "community_release_closeout:release_closeout:11.2:1334b4fa3828ef57",
        ),
        (
            keys.closeout_summary_key("community_release_closeout", "11.2", []),
            "community_release_closeout:release_closeout:11.2:e3b0c44298fc1c14",
        ),
        (
            keys.closeout_summary_key(
                "community_release_closeout", "v11.2", [1, 2], dry_run_id="manual__2026"
            ),
            "community_release_closeout:release_closeout:11.2:dry-run:manual__2026",
        ),
    ],
)
def test_key_formats_are_stable(key: str, expected: str) -> None:
    assert key == expected


def test_alert_key_is_the_digest_key_of_kind_alert() -> None:
    assert keys.alert_key(DAG, T) == keys.digest_key(DAG, "alert", T)


def test_different_things_get_different_keys() -> None:
    assert keys.digest_key(DAG, "help_wanted", T) != keys.digest_key(DAG, "help_wanted", T.replace(hour=10))
    assert keys.thank_key(1, "11.2") != keys.thank_key(1, "11.2.1")
    assert keys.status_key(1, "Planned", "Completed") != keys.status_key(1, "Planned", "Started")
    # A ticket reopened and done again: the same target from another status is a change of its own.
    assert keys.status_key(1, "Planned", "Completed") != keys.status_key(1, "Started", "Completed")
    thanked = keys.closeout_summary_key("d", "11.2", [1, 2])
    assert thanked != keys.closeout_summary_key("d", "11.2", [1, 2, 3])
    assert thanked != keys.closeout_summary_key("d", "11.2", [1, 2], dry_run_id="r")


def test_t_from_airflow_context_stays_aware_in_arithmetic() -> None:
    """Airflow's context holds pendulum DateTimes; T − 1 day must still compare with upstream times."""
    import pendulum

    from community_monitoring.timeutil import day_window, parse_time

    start, end = day_window(parse_time(pendulum.datetime(2026, 11, 18, 7, tz="UTC")))
    assert type(end) is datetime
    assert start.tzinfo is not None
    assert start < parse_time("2026-11-17T10:00:00Z") <= end


BASE = keys.digest_key(DAG, "triage", T)


@pytest.mark.parametrize(
    ("case", "earlier", "missing_now", "key", "catch_up", "sent_before"),
    [
        ("first run, every channel read", {}, [], BASE, (), False),
        ("first run without the forum", {}, ["forum"], BASE + ":without:forum", (), False),
        (
            "missing channels are named in order",
            {},
            ["jira", "forum"],
            BASE + ":without:forum,jira",
            (),
            False,
        ),
        ("the whole digest went out: again its key", {BASE: True}, [], BASE, (), True),
        ("…even when a channel is missing now", {BASE: True}, ["forum"], BASE, (), True),
        ("a try that sent nothing does not count", {BASE + ":without:forum": False}, [], BASE, (), False),
        (
            "sent without the forum, the forum read now: its posts follow",
            {BASE + ":without:forum": True},
            [],
            BASE + ":recovered:forum",
            ("forum",),
            False,
        ),
        (
            "sent without the forum, still not read: nothing new",
            {BASE + ":without:forum": True},
            ["forum"],
            BASE + ":without:forum",
            (),
            True,
        ),
        (
            "caught up already: nothing new",
            {BASE + ":without:forum": True, BASE + ":recovered:forum": True},
            [],
            BASE + ":without:forum",
            (),
            True,
        ),
        (
            "two channels missing, one back now, then the other",
            {BASE + ":without:forum,jira": True, BASE + ":recovered:jira": True},
            [],
            BASE + ":recovered:forum",
            ("forum",),
            False,
        ),
        (
            "a catch-up that sent nothing is owed still",
            {BASE + ":without:forum": True, BASE + ":recovered:forum": False},
            [],
            BASE + ":recovered:forum",
            ("forum",),
            False,
        ),
        (
            "a post left out is named beside the channels",
            {},
            ["jira", "forum/12"],
            BASE + ":without:forum/12,jira",
            (),
            False,
        ),
        (
            "the post read now: it follows on its own",
            {BASE + ":without:forum/12,github/o/r#3": True},
            ["github/o/r#3"],
            BASE + ":recovered:forum/12",
            ("forum/12",),
            False,
        ),
        (
            "a left-out post of a channel not read now is not caught up on",
            {BASE + ":without:forum/12": True},
            ["forum"],
            BASE + ":without:forum/12",
            (),
            True,
        ),
        (
            "left-out posts caught up one after the other",
            {BASE + ":without:forum/12,forum/13": True, BASE + ":recovered:forum/12": True},
            [],
            BASE + ":recovered:forum/13",
            ("forum/13",),
            False,
        ),
        (
            "a channel and a post come back together",
            {BASE + ":without:forum/12,gitlab": True},
            [],
            BASE + ":recovered:forum/12,gitlab",
            ("forum/12", "gitlab"),
            False,
        ),
    ],
)
def test_covered_digest_key(
    case: str,
    earlier: dict[str, bool],
    missing_now: list[str],
    key: str,
    catch_up: tuple[str, ...],
    sent_before: bool,
) -> None:
    covered = keys.covered_digest_key(BASE, earlier, missing_now)
    assert (covered.key, covered.catch_up, covered.sent_before) == (key, catch_up, sent_before), case


@pytest.mark.parametrize(
    ("missing", "lacked"),
    [
        ([], []),
        (["jira"], []),
        (["forum", "jira"], ["forum"]),
        (["github", "stackoverflow"], ["github", "stackoverflow"]),
    ],
)
def test_a_triage_lacks_only_the_channels_whose_posts_it_lists(missing: list[str], lacked: list[str]) -> None:
    from community_monitoring.pipeline.daily import triage_channels_missing

    assert triage_channels_missing(missing) == lacked


def test_a_post_an_earlier_day_owes_already_is_not_named_again() -> None:
    earlier_day = keys.digest_key(DAG, "triage", T - timedelta(days=1))
    deliveries = {
        earlier_day + ":without:forum,forum/12,github/o/r#3": True,
        keys.digest_key(DAG, "triage", T - timedelta(days=2)) + ":without:forum/9": False,  # sent nothing
        keys.digest_key(DAG, "triage", T + timedelta(days=1)) + ":without:forum/8": True,  # a later day
        earlier_day + ":recovered:forum/12": True,
    }
    before = keys.left_out_before(f"{DAG}:triage:", deliveries, T)
    assert before == {"forum/12", "github/o/r#3"}
    covered = keys.covered_digest_key(BASE, {}, ["forum", "forum/12", "forum/13"], before)
    assert covered.key == BASE + ":without:forum,forum/13"
    # Its own T's digest still waits for it: it is not read now.
    sent = {covered.key: True}
    caught_up = keys.covered_digest_key(BASE, sent, ["forum/12"], before)
    assert caught_up.catch_up == ("forum", "forum/13")
    assert caught_up.first == covered.key  # the digest a catch-up that lists nothing leaves standing
    assert keys.split_tokens(["forum", "forum/12", "jira"]) == (["forum", "jira"], ["forum/12"])


def test_the_left_out_posts_still_owed() -> None:
    day = keys.digest_key(DAG, "triage", T - timedelta(days=1))
    long_ago = keys.digest_key(DAG, "triage", T - timedelta(days=40))
    deliveries = {
        day + ":without:forum,forum/12,github/o/r#3": True,
        day + ":recovered:forum,github/o/r#3": True,  # listed already
        day + ":recovered:forum/12": False,  # a try that sent nothing lists nothing
        BASE + ":without:forum/7": True,
        long_ago + ":without:forum/1": True,  # before the range asked for
        keys.digest_key(DAG, "triage", T - timedelta(days=2)) + ":without:forum/9": False,
    }
    assert keys.left_out_owed(f"{DAG}:triage:", deliveries, T - timedelta(days=31)) == {"forum/12", "forum/7"}


@pytest.mark.parametrize(
    ("channel", "post_id"),
    [
        ("forum", "12"),
        ("github", "mattermost/mattermost#31"),
        ("gitlab", "group/sub group/project#4"),
        ("uservoice", "a,b:without:c%2C"),  # nothing of an id reads as a separator
    ],
)
def test_a_left_out_token_gives_its_post_back(channel: str, post_id: str) -> None:
    token = keys.left_out_token(channel, post_id)
    assert "," not in token
    assert ":" not in token
    assert keys.token_channel(token) == channel
    assert keys.left_out_posts([token, "jira", "forum"]) == {channel: {post_id}}


def unreadable(channel: str, post_id: str = "", item: str = "x") -> dict[str, str]:
    return {"channel": channel, "item": item, "problem": "field 'title' is missing", "post_id": post_id}


@pytest.mark.parametrize(
    ("channels", "lacked"),
    [
        ({"missing": ["jira"], "unreadable": []}, []),
        ({"missing": ["forum"], "unreadable": [unreadable("github", "o/r#3")]}, ["forum", "github/o/r#3"]),
        # A reply skipped (its post kept, no post_id) and a Jira ticket are nothing the list lacks;
        # a post named twice (two problems) is owed once; a run store from before post_id, none.
        (
            {
                "missing": [],
                "unreadable": [
                    unreadable("github", ""),
                    unreadable("jira", "MM-1"),
                    unreadable("forum", "12"),
                    unreadable("forum", "12", item="y"),
                    {"channel": "forum", "item": "z", "problem": "?"},
                ],
            },
            ["forum/12"],
        ),
    ],
)
def test_what_a_triage_lacks(channels: dict[str, list], lacked: list[str]) -> None:
    from community_monitoring.pipeline.daily import triage_lacks

    assert triage_lacks(channels) == lacked


def test_a_key_names_as_many_left_out_posts_as_the_ledger_holds(caplog: pytest.LogCaptureFixture) -> None:
    many = [f"github/mattermost/mattermost-mobile#{n}" for n in range(1000, 1100)]
    missing = ["stackoverflow", "uservoice", *many, "gitlab", "forum"]
    first = keys.covered_digest_key(BASE, {}, missing).key
    assert len(first) <= keys.KEY_MAX_CHARS
    owed = first.split(":without:", 1)[1].split(",")
    assert {"forum", "gitlab", "stackoverflow", "uservoice"} <= set(owed)  # every channel, always
    assert 5 < len(owed) - 4 < len(many)
    # The longer key of the catch-up that owes them all fits too.
    recovered = keys.covered_digest_key(BASE, {first: True}, []).key
    assert recovered == BASE + ":recovered:" + ",".join(sorted(owed))
    assert len(recovered) <= keys.KEY_MAX_CHARS
    assert "will not be caught up on once read" in caplog.text


def test_a_catch_up_of_left_out_posts_lists_those_posts_alone() -> None:
    from types import SimpleNamespace

    from community_monitoring.pipeline.daily import only_left_out

    posts = [
        SimpleNamespace(channel=channel, source_id=source_id)
        for channel, source_id in [("forum", "12"), ("forum", "13"), ("github", "o/r#3"), ("gitlab", "g/p#1")]
    ]
    kept = only_left_out(iter(posts), ["forum/12", "gitlab"])  # type: ignore[arg-type]
    assert [(p.channel, p.source_id) for p in kept] == [
        ("forum", "12"),
        ("github", "o/r#3"),
        ("gitlab", "g/p#1"),
    ]
    assert list(only_left_out(iter(posts), ())) == posts  # type: ignore[arg-type]


def test_catch_ups_of_one_day_are_archived_apart() -> None:
    from types import SimpleNamespace

    from community_monitoring.pipeline.daily import catch_up_archive_name

    run: Any = SimpleNamespace(as_of=T)
    assert catch_up_archive_name(run, T, ["forum"]) == "triage.recovered-forum"
    one, other = catch_up_archive_name(run, T, ["forum/12"]), catch_up_archive_name(run, T, ["forum/13"])
    assert one.startswith("triage.recovered-left-out-")
    assert one != other
    assert "/" not in catch_up_archive_name(run, T, ["github", "github/o/r#3"])
    earlier = catch_up_archive_name(run, T - timedelta(days=1), ["forum"])
    assert earlier.startswith("triage.recovered-forum.of-")
    assert earlier != "triage.recovered-forum"


PREFIX = f"{DAG}:triage:"


def base_at(days_before: float) -> str:
    return keys.digest_key(DAG, "triage", T - timedelta(days=days_before))


@pytest.mark.parametrize(
    ("case", "deliveries", "missing_now", "owed"),
    [
        ("nothing in the ledger", {}, [], []),
        ("whole digests only", {base_at(1): True, base_at(2): True}, [], []),
        (
            "yesterday's went out without the forum, read now",
            {base_at(1) + ":without:forum": True},
            [],
            [(1, base_at(1) + ":recovered:forum", ("forum",))],
        ),
        (
            "…still not read today: owed later",
            {base_at(1) + ":without:forum": True},
            ["forum"],
            [],
        ),
        (
            "…caught up already (by a cleared run or an earlier day's)",
            {base_at(1) + ":without:forum": True, base_at(1) + ":recovered:forum": True},
            [],
            [],
        ),
        (
            "a day whose digest never arrived is not owed here: its run is cleared",
            {base_at(1) + ":without:forum": False},
            [],
            [],
        ),
        (
            "two days owed, oldest first, each its own key",
            {base_at(1) + ":without:github": True, base_at(3) + ":without:forum,github": True},
            [],
            [
                (3, base_at(3) + ":recovered:forum,github", ("forum", "github")),
                (1, base_at(1) + ":recovered:github", ("github",)),
            ],
        ),
        (
            "one of two channels back: that one now",
            {base_at(2) + ":without:forum,github": True},
            ["github"],
            [(2, base_at(2) + ":recovered:forum", ("forum",))],
        ),
        (
            "older than the window read: not owed by this run",
            {base_at(30) + ":without:forum": True},
            [],
            [],
        ),
        ("this run's own T is not an earlier one", {base_at(0) + ":without:forum": True}, [], []),
        (
            "other kinds and foreign keys are ignored",
            {
                f"{DAG}:help_wanted:{(T - timedelta(days=1)).isoformat()}:without:forum": True,
                PREFIX + "not-a-time:without:forum": True,
            },
            [],
            [],
        ),
    ],
)
def test_owed_digests(
    case: str,
    deliveries: dict[str, bool],
    missing_now: list[str],
    owed: list[tuple[float, str, tuple[str, ...]]],
) -> None:
    found = keys.owed_digests(PREFIX, deliveries, missing_now, earliest=T - timedelta(days=29), latest=T)
    assert [
        ((T - digest.as_of).total_seconds() / 86400, digest.covered.key, digest.covered.catch_up)
        for digest in found
    ] == owed, case


HELP_WANTED = keys.kind_prefix(DAG, "help_wanted")


@pytest.mark.parametrize(
    ("case", "deliveries", "later"),
    [
        ("nothing sent", {}, False),
        ("only earlier days", {HELP_WANTED + (T - timedelta(days=1)).isoformat(): True}, False),
        ("this T itself (a rerun)", {HELP_WANTED + T.isoformat(): True}, False),
        (
            "a manual run of the same day, hours later",
            {HELP_WANTED + (T + timedelta(hours=2)).isoformat(): True},
            False,
        ),
        ("the next day's run", {HELP_WANTED + (T + timedelta(days=1)).isoformat(): True}, True),
        (
            "today's scheduled run posted after the backfilled day",
            {HELP_WANTED + (T + timedelta(days=20)).isoformat(): True},
            True,
        ),
        (
            "a later one that provably never went out",
            {HELP_WANTED + (T + timedelta(days=1)).isoformat(): False},
            False,
        ),
        (
            "a later one sent without a channel",
            {HELP_WANTED + (T + timedelta(days=1)).isoformat() + ":without:forum": True},
            True,
        ),
        ("another kind's later digest", {PREFIX + (T + timedelta(days=1)).isoformat(): True}, False),
        ("a foreign key", {HELP_WANTED + "not-a-time": True}, False),
    ],
)
def test_sent_for_a_later_day(case: str, deliveries: dict[str, bool], later: bool) -> None:
    assert keys.sent_for_a_later_day(HELP_WANTED, deliveries, T) is later, case


def _day_back(days: float) -> str:
    return PREFIX + (T - timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("case", "deliveries", "listable", "unread"),
    [
        ("a first run owes nothing", {}, [], []),
        ("yesterday's went out: nothing missed", {_day_back(1): True}, [], []),
        ("a rerun of this T: nothing missed", {PREFIX + T.isoformat(): True}, [], []),
        (
            "two days with no run: each of them, oldest first, from its day's start",
            {_day_back(3): True},
            [(2, 3), (1, 2)],
            [],
        ),
        (
            "the last one was a manual run at another hour: the oldest day starts after it",
            {_day_back(2.5): True},
            [(2, 2.5), (1, 2)],
            [],
        ),
        ("a manual run hours ago covered yesterday", {_day_back(0.25): True, _day_back(5): True}, [], []),
        (
            "yesterday's provably never went out (its run failed first): owed",
            {_day_back(2): True, _day_back(1): False},
            [(1, 2)],
            [],
        ),
        ("a digest sent without a channel counts as sent", {_day_back(1) + ":without:forum": True}, [], []),
        (
            "days beyond what this run read are named, not listed",
            {_day_back(33): True},
            [(day, day + 1) for day in range(29, 0, -1)],
            [(day, day + 1) for day in range(32, 29, -1)],
        ),
        (
            "a later manual run does not hide an earlier gap from a run as of a past T",
            {_day_back(3): True, PREFIX + (T + timedelta(days=2)).isoformat(): True},
            [(2, 3), (1, 2)],
            [],
        ),
        (
            "other kinds and foreign keys are ignored",
            {HELP_WANTED + (T - timedelta(days=3)).isoformat(): True, PREFIX + "x": True},
            [],
            [],
        ),
    ],
)
def test_untriaged_days(
    case: str,
    deliveries: dict[str, bool],
    listable: list[tuple[float, float]],
    unread: list[tuple[float, float]],
) -> None:
    """(days back of the day's T, days back of where its posts start) for each day no digest covered."""
    found = keys.untriaged_days(PREFIX, deliveries, T, earliest=T - timedelta(days=30), day=timedelta(days=1))

    def back(days: tuple[keys.UntriagedDay, ...]) -> list[tuple[float, float]]:
        return [((T - d.as_of) / timedelta(days=1), (T - d.since) / timedelta(days=1)) for d in days]

    assert (back(found.days), back(found.unread)) == (listable, unread), case


@pytest.mark.parametrize(
    ("case", "as_of", "deliveries", "listable"),
    [
        (
            # Before: the days T+2, T+1 and T were "owed" and today's posts so far went out under
            # T's key, so T's own run sent nothing and the posts of its last two hours were lost.
            "a manual run as of 3 days ahead, yesterday's sent: the days to come are their own runs'",
            T + timedelta(days=3),
            {_day_back(1): True},
            [],
        ),
        (
            "the same run after a gap: only the days that have ended are owed",
            T + timedelta(days=3),
            {_day_back(3): True},
            [(48, 72), (24, 48)],
        ),
        ("a run as of now: as before", T - timedelta(hours=2), {_day_back(3): True}, [(50, 72), (26, 50)]),
    ],
)
def test_untriaged_days_never_reach_past_now(
    case: str, as_of: datetime, deliveries: dict[str, bool], listable: list[tuple[float, float]]
) -> None:
    """Now is T − 2 h: a day that has not ended is no run's backlog yet (hours back from T of the
    day's T and of where its posts start)."""
    found = keys.untriaged_days(
        PREFIX,
        deliveries,
        as_of,
        earliest=T - timedelta(days=30),
        day=timedelta(days=1),
        now=T - timedelta(hours=2),
    )
    days = [((T - d.as_of) / timedelta(hours=1), (T - d.since) / timedelta(hours=1)) for d in found.days]
    assert days == listable, case
    assert found.unread == (), case


def test_a_day_far_in_the_future_costs_no_loop_over_the_years_between() -> None:
    found = keys.untriaged_days(
        PREFIX,
        {_day_back(1): True},
        datetime(9999, 12, 31, 9, tzinfo=UTC),
        earliest=T - timedelta(days=30),
        day=timedelta(days=1),
        now=T - timedelta(hours=2),
    )
    assert found == keys.Untriaged()


def test_the_backfill_named_for_untriaged_days_also_reposts_days_only_archived() -> None:
    """Days an archive-only backfill ran (successful runs that posted nothing) are untriaged too:
    `--reprocess-behavior failed` would skip them, so the command would list nothing."""
    from community_monitoring.pipeline.daily import untriaged_notice

    unread = (
        keys.UntriagedDay(T - timedelta(days=40), T - timedelta(days=41)),
        keys.UntriagedDay(T - timedelta(days=31), T - timedelta(days=32)),
    )
    notice = untriaged_notice(unread)
    assert notice is not None
    assert notice["command"] == (
        "`airflow backfill create --dag-id community_daily_monitoring --from-date 2026-10-08T09:00:00+00:00 "
        "--to-date 2026-10-17T09:00:00+00:00 --reprocess-behavior completed "
        """--dag-run-conf '{"post_backfill_digests": true}'`"""
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-17T10:00:00Z", datetime(2026, 11, 17, 10, tzinfo=UTC)),
        ("2026-11-17T10:00:00.000+0100", datetime(2026, 11, 17, 9, tzinfo=UTC)),
        ("2026-11-17T10:00:00", datetime(2026, 11, 17, 10, tzinfo=UTC)),
        (1763373600, datetime(2025, 11, 17, 10, tzinfo=UTC)),
        (1763373600.5, datetime(2025, 11, 17, 10, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_parse_time_reads_every_upstream_form_as_utc(value: object, expected: datetime) -> None:
    from community_monitoring.timeutil import parse_time

    assert parse_time(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("last week", "not an ISO-8601 time: 'last week'"),
        # A well-formed time that leaves the calendar once moved to UTC is no format error.
        (
            "0001-01-01T00:00:00+05:00",
            "not a time: '0001-01-01T00:00:00+05:00' (outside the calendar once in UTC)",
        ),
        (float("nan"), "not a time: nan (not a finite number of seconds)"),
        (float("inf"), "not a time: inf (not a finite number of seconds)"),
        (
            1e20,
            "not a UNIX time in seconds: 1e+20 (outside the calendar; milliseconds where seconds are meant?)",
        ),
    ],
)
def test_parse_time_names_the_value_and_what_is_wrong_with_it(value: object, message: str) -> None:
    from community_monitoring.timeutil import parse_time

    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_time(value)  # type: ignore[arg-type]


def test_parse_time_names_an_integer_too_large_for_a_float_as_a_value_error() -> None:
    """JSON integers have no limit: one past a float's range is a time outside the calendar (a
    ValueError, which the item checks name), not an OverflowError that fails the whole channel."""
    from pydantic import TypeAdapter, ValidationError

    from community_monitoring.sources.items import UnixTime
    from community_monitoring.timeutil import parse_time

    with pytest.raises(ValueError, match=r"^not a UNIX time in seconds: 1000+ \(outside the calendar"):
        parse_time(10**400)
    with pytest.raises(ValidationError, match="not a UNIX time in seconds"):
        TypeAdapter(UnixTime).validate_python(10**400)
