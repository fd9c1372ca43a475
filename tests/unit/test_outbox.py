"""The outbox: every write of a run goes through it, with the run's policy and the ledger.

No Airflow: a SQLite ledger file stands in for the ledger connection, a list for the Mattermost
webhooks and a temporary folder for the archive. Two Outbox objects on the same ledger file are
two runs (or a retry in a new process).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from builders import ROSTER, SETTINGS, T, ago, post, reply
from community_monitoring import keys
from community_monitoring.errors import WritesFailed
from community_monitoring.ledger import NotificationLedger
from community_monitoring.outbox import Delivery, Outbox, message_label
from community_monitoring.policy import WritePolicy, decide_write_policy
from community_monitoring.records import SheetRow
from community_monitoring.replies import plan_replies
from community_monitoring.settings import Settings, load_settings

DAG = "community_daily_monitoring"
SCHEDULED = decide_write_policy("scheduled")
BACKFILL = decide_write_policy("backfill")
DRY_RUN = decide_write_policy("manual", dry_run=True)
USERNAME = SETTINGS.mattermost.username


class World:
    """The ledger file, the webhook messages and the archive folder every run of a test shares."""

    def __init__(self, tmp_path: Path) -> None:
        self.ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
        self.archive = tmp_path / "archive"
        self.posted: list[tuple[str, str, str]] = []
        self.ledger_opens = 0

    def open_ledger(self) -> NotificationLedger:
        self.ledger_opens += 1
        return NotificationLedger.from_url(self.ledger_url)

    def webhook(self, conn_id: str, username: str) -> Callable[[str], None]:
        return lambda text: self.posted.append((conn_id, username, text))

    def outbox(
        self,
        policy: WritePolicy = SCHEDULED,
        settings: Settings = SETTINGS,
        dag: str = DAG,
        webhook: Callable[[str, str], Callable[[str], None]] | None = None,
        owner: str = "",
        redact: Callable[[str], str] = str,
    ) -> Outbox:
        return Outbox(
            dag,
            T,
            settings,
            policy,
            open_ledger=self.open_ledger,
            webhook=webhook or self.webhook,
            archive_root=lambda: self.archive,
            owner=owner,
            redact=redact,
        )

    def entries(self) -> list[Any]:
        return NotificationLedger.from_url(self.ledger_url).entries()

    def failing_on(self, ending: str) -> Callable[[str, str], Callable[[str], None]]:
        """Webhooks that fail each post whose text ends with ``ending`` for good, and post the rest."""

        def webhook(conn_id: str, username: str) -> Callable[[str], None]:
            def send(text: str) -> None:
                if text.endswith(ending):
                    raise ConnectionError("webhook down: 503 on every attempt")
                self.posted.append((conn_id, username, text))

            return send

        return webhook


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_post_message_sends_once_across_runs(world: World) -> None:
    key = keys.digest_key(DAG, "help_wanted", T)
    first = world.outbox().post_message("help_wanted", ["part 1", "part 2"])
    # The second run rendered different text (upstream changed): still nothing goes out.
    second = world.outbox().post_message("help_wanted", ["other 1", "other 2"])
    assert first == Delivery(key, "sent", 2)
    assert first.sent_now
    assert second == Delivery(key, "already_sent", 0)
    assert not second.sent_now
    assert world.posted == [
        ("mattermost_default", USERNAME, "part 1"),
        ("mattermost_default", USERNAME, "part 2"),
    ]
    assert [(e.key, e.kind, e.target, e.status, e.parts) for e in world.entries()] == [
        (key, "help_wanted", "mattermost_default", "sent", ("part 1", "part 2"))
    ]


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("help_wanted", "mattermost_default"),
        ("weekly_review", "mattermost_default"),
        ("triage", "mattermost_cm"),
        ("uservoice_review", "mattermost_pm"),
        ("release_closeout", "mattermost_pm"),
    ],
)
def test_each_kind_goes_to_its_connection(world: World, kind: str, target: str) -> None:
    world.outbox().post_message(kind, ["hello"])
    assert world.posted == [(target, USERNAME, "hello")]


def test_targets_and_username_come_from_the_settings(world: World) -> None:
    settings = load_settings({"mattermost": {"username": "Bot", "targets": {"triage": "mattermost_other"}}})
    world.outbox(settings=settings).post_message("triage", ["x"])
    assert world.posted == [("mattermost_other", "Bot", "x")]


def test_same_kind_other_run_time_or_dag_is_sent(world: World) -> None:
    world.outbox().post_message("help_wanted", ["a"])
    world.outbox(dag="community_weekly_stale_review").post_message("help_wanted", ["b"])
    later = Outbox(
        DAG,
        T.replace(hour=10),
        SETTINGS,
        SCHEDULED,
        open_ledger=world.open_ledger,
        webhook=world.webhook,
        archive_root=lambda: world.archive,
    )
    later.post_message("help_wanted", ["c"])
    assert [text for _, _, text in world.posted] == ["a", "b", "c"]


def test_explicit_key(world: World) -> None:
    delivery = world.outbox().post_message("release_closeout", ["summary"], key="my-key")
    again = world.outbox().post_message("release_closeout", ["summary"], key="my-key")
    assert (delivery.key, delivery.status, again.status) == ("my-key", "sent", "already_sent")
    assert len(world.posted) == 1


def test_nothing_to_post_is_skipped(world: World) -> None:
    assert world.outbox().post_message("triage", []) == Delivery(keys.digest_key(DAG, "triage", T), "skipped")
    assert world.posted == []
    assert world.ledger_opens == 0


def test_backfill_archives_only(world: World) -> None:
    delivery = world.outbox(BACKFILL).post_message("help_wanted", ["part 1"])
    assert delivery == Delivery(keys.digest_key(DAG, "help_wanted", T), "archived_only", 0)
    assert world.posted == []
    # Nothing is claimed either: a later run asked to post the backfill still can.
    assert world.entries() == []
    posting = world.outbox(decide_write_policy("backfill", post_backfill_digests=True))
    assert posting.post_message("help_wanted", ["part 1"]).status == "sent"
    assert world.posted == [("mattermost_default", USERNAME, "part 1")]


def test_failed_post_resumes_in_the_next_run(world: World) -> None:
    broken = world.outbox(webhook=world.failing_on("part 2"))
    with pytest.raises(WritesFailed, match="part 2/2 was not sent"):
        broken.post_message("help_wanted", ["part 1", "part 2"])
    resumed = world.outbox().post_message("help_wanted", ["part 1", "part 2"])
    assert (resumed.status, resumed.parts_sent) == ("resumed", 1)
    assert [text for _, _, text in world.posted] == ["part 1", "part 2"]


def test_alert_once_per_run_and_t(world: World) -> None:
    first = world.outbox().alert("extract_github failed")
    second = world.outbox().alert("extract_forum failed too")
    assert first == Delivery(keys.alert_key(DAG, T), "sent", 1)
    assert second == Delivery(keys.alert_key(DAG, T), "already_sent", 0)
    assert world.posted == [("mattermost_cm", USERNAME, "extract_github failed")]


@pytest.fixture
def fail_task(world: World, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Exception], None]:
    """Fail a task of one run for good, as Airflow's failure callback would: (task id, error)."""
    from types import SimpleNamespace

    from community_monitoring.pipeline import alerts, run

    monkeypatch.setattr(run, "alert_outbox", lambda facts: world.outbox())
    monkeypatch.setattr(
        run, "facts_from_context", lambda context: run.RunFacts(DAG, "manual__1", "manual", T)
    )

    def fail(task_id: str, error: Exception) -> None:
        alerts.alert_on_task_failure(
            {"ti": SimpleNamespace(task_id=task_id, try_number=2), "exception": error}
        )

    return fail


def test_a_post_that_may_not_have_arrived_is_named_even_after_the_runs_alert(
    world: World, fail_task: Callable[[str, Exception], None]
) -> None:
    """The run's one alert already went out (an extract failed first): a webhook post that may or
    may not have arrived must still be named in an alert (SPEC §6), once per task."""
    from community_monitoring.errors import UncertainDelivery

    fail_task("extract_github", RuntimeError("github down"))
    fail_task("post_uservoice_review", UncertainDelivery("uservoice part 1/1: connection reset"))
    fail_task("post_uservoice_review", UncertainDelivery("uservoice part 1/1: connection reset"))  # its retry
    fail_task("extract_forum", RuntimeError("forum down"))
    texts = [text for _, _, text in world.posted]
    assert len(texts) == 2
    assert "`extract_github` failed" in texts[0]
    assert "`post_uservoice_review` failed" in texts[1]
    assert "UncertainDelivery: uservoice part 1/1: connection reset" in texts[1]


def test_a_post_refused_for_good_is_named_even_after_the_runs_alert(
    world: World, fail_task: Callable[[str, Exception], None]
) -> None:
    """An extract failed first and alerted; then a digest's hook refused its post for good (403).
    No digest says that one is missing: its own alert names it, once."""
    fail_task("extract_gitlab", RuntimeError("gitlab answered 401"))
    fail_task("post_help_wanted_digest", RuntimeError("Mattermost answered 403"))
    fail_task("post_help_wanted_digest", RuntimeError("Mattermost answered 403"))  # cleared, failed again
    fail_task("build_uservoice_review", RuntimeError("something else"))  # the run's alert went out already
    texts = [text for _, _, text in world.posted]
    assert len(texts) == 2
    assert "`extract_gitlab` failed" in texts[0]
    assert "`post_help_wanted_digest` failed" in texts[1]
    assert "Mattermost answered 403" in texts[1]


def test_alert_is_sent_whatever_the_policy(world: World) -> None:
    # A failure is news for the CM even on a backfill that posts no digests.
    assert world.outbox(BACKFILL).alert("boom").status == "sent"
    assert world.posted == [("mattermost_cm", USERNAME, "boom")]


class Upstream:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, text: str) -> None:
        self.sent.append(text)


def test_write_upstream_once_across_runs(world: World) -> None:
    upstream = Upstream()
    key = keys.status_key(43_871_022, "Planned", "Completed")
    first = world.outbox().write_upstream(key, "uservoice_status", "uservoice_default", "Completed", upstream)
    second = world.outbox().write_upstream(
        key, "uservoice_status", "uservoice_default", "Completed", upstream
    )
    assert (first.status, first.parts_sent) == ("sent", 1)
    assert (second.status, second.parts_sent) == ("already_sent", 0)
    assert upstream.sent == ["Completed"]
    assert world.outbox().already_done(key)


@pytest.mark.parametrize(
    ("policy", "reason"),
    [(DRY_RUN, "dry run"), (BACKFILL, "backfill run (digests archived, not posted)")],
)
def test_write_upstream_not_allowed(world: World, policy: WritePolicy, reason: str) -> None:
    upstream = Upstream()
    key = keys.thank_key(1, "11.2")
    delivery = world.outbox(policy).write_upstream(
        key, "release_closeout_thank", "uservoice_default", "Thanks", upstream
    )
    assert delivery == Delivery(key, "not_allowed", 0)
    assert policy.reason == reason
    assert upstream.sent == []
    # Not claimed: the real run afterwards still writes it.
    assert world.entries() == []
    assert not world.outbox().already_done(key)
    assert (
        world.outbox()
        .write_upstream(key, "release_closeout_thank", "uservoice_default", "Thanks", upstream)
        .status
        == "sent"
    )
    assert upstream.sent == ["Thanks"]


def test_write_upstream_policy_for_this_write(world: World) -> None:
    upstream = Upstream()
    narrowed = SCHEDULED.needing(["uservoice", "jira"], ["jira"])
    delivery = world.outbox().write_upstream(
        "k", "uservoice_status", "uservoice_default", "x", upstream, narrowed
    )
    assert delivery.status == "not_allowed"
    assert upstream.sent == []


def test_done_elsewhere_is_never_written(world: World) -> None:
    upstream = Upstream()
    key = keys.thank_key(43_871_022, "v11.2")
    assert not world.outbox().already_done(key)
    world.outbox().record_done_elsewhere(key, "release_closeout_thank", "uservoice_default", "Thanks")
    assert world.outbox().already_done(key)
    later = world.outbox().write_upstream(
        key, "release_closeout_thank", "uservoice_default", "Thanks", upstream
    )
    assert later == Delivery(key, "already_sent", 0)
    assert upstream.sent == []
    assert world.posted == []


def test_already_done_is_false_for_a_failed_write(world: World) -> None:
    def down(text: str) -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        world.outbox().write_upstream("k", "upstream_reply", "github", "x", down)
    assert not world.outbox().already_done("k")


def test_each_post_gets_one_reply_across_runs(world: World) -> None:
    """Moved from test_replies: planned replies, sent through the outbox the way the DAG does."""
    settings = load_settings({"replies": {"post_upstream": {"github": True}}})
    items = [
        post(number=1, created=ago(hours=2), container="o/r", author="alice"),
        post(number=2, channel="gitlab", created=ago(hours=2), container="g/p", author="bob"),
        post(number=3, channel="forum", created=ago(hours=2), author="carol"),
        post(number=4, created=ago(hours=2), container="o/r", replies=(reply("dave"),)),
    ]
    sent: list[tuple[str, int, str]] = []

    def run() -> list[Delivery]:
        outbox = world.outbox(settings=settings)
        return [
            outbox.write_upstream(
                keys.reply_key(p.channel, p.source_id),
                "upstream_reply",
                p.channel,
                p.draft,
                lambda text, p=p: sent.append((p.container, p.number, text)),
            )
            for p in plan_replies(items, ROSTER, settings, T)
        ]

    first, second = run(), run()
    assert [(d.key, d.status) for d in first] == [("reply:github:o/r#1", "sent")]
    assert [(d.key, d.status) for d in second] == [("reply:github:o/r#1", "already_sent")]
    assert len(sent) == 1
    assert sent[0][:2] == ("o/r", 1)
    assert sent[0][2].startswith("Hi alice, thanks for reaching out!")


def test_archive_path_and_content(world: World) -> None:
    path = world.outbox().archive("help_wanted", ["part 1", "part 2"])
    expected = world.archive / DAG / "2026-11-18T090000Z" / "help_wanted.md"
    assert path == str(expected)
    assert expected.read_text(encoding="utf-8") == "part 1\n\n---\n\npart 2\n"
    assert sorted(p.name for p in expected.parent.iterdir()) == ["help_wanted.md"]  # no .partial left


def test_a_credential_an_upstream_text_carries_leaves_in_no_message_ledger_row_or_archive(
    world: World,
) -> None:
    """An issue title pasting a webhook URL: the digest, its ledger row, its archive and the alert
    show the outbox's redaction of it (SPEC §6: secrets never leave their connection)."""
    hook = "https://chat.example.com/hooks/cm-channel-hook"
    outbox = world.outbox(redact=lambda text: text.replace("cm-channel-hook", "***"))
    parts = [f"[Triage] 1. Webhook broken: {hook}", "part 2"]
    path = outbox.archive("triage", parts, full_text=f"full: {hook}")
    assert outbox.post_message("triage", parts).status == "sent"
    outbox.alert(f"failed reading {hook}")
    shown = "https://chat.example.com/hooks/***"
    assert [text for _, _, text in world.posted] == [
        f"[Triage] 1. Webhook broken: {shown}",
        "part 2",
        f"failed reading {shown}",
    ]
    assert all("cm-channel-hook" not in part for entry in world.entries() for part in entry.parts)
    assert "cm-channel-hook" not in Path(path).read_text(encoding="utf-8")
    assert Path(path).with_name("triage.full.md").read_text(encoding="utf-8") == f"full: {shown}\n"


def test_archive_is_written_whatever_the_policy_and_replaced_on_rerun(world: World) -> None:
    world.outbox(BACKFILL).archive("triage", ["old"])
    path = Path(world.outbox(BACKFILL).archive("triage", ["new"]))
    assert path.read_text(encoding="utf-8") == "new\n"
    assert world.posted == []


ROW = SheetRow(suggestion_id="43871022", fix_version="v11.2", title="Read receipts", nominator="Lena")


@pytest.mark.parametrize("policy", [BACKFILL, DRY_RUN, SCHEDULED.needing(["jira"], ["jira"])])
def test_update_sheet_not_allowed(world: World, tmp_path: Path, policy: WritePolicy) -> None:
    sheet = tmp_path / "sheet.xlsx"
    assert world.outbox(policy).update_sheet(str(sheet), [ROW]) is None
    assert not sheet.exists()


def test_update_sheet_policy_for_this_write(world: World, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.xlsx"
    assert world.outbox().update_sheet(str(sheet), [ROW], policy=DRY_RUN) is None
    assert not sheet.exists()


def test_a_credential_in_a_suggestion_title_does_not_reach_the_sheet(world: World, tmp_path: Path) -> None:
    from dataclasses import replace

    from community_monitoring.tracking_sheet import read_sheet

    sheet = tmp_path / "sheet.xlsx"
    row = replace(ROW, title="Hook https://chat.example.com/hooks/cm-channel-hook broke")
    world.outbox(redact=lambda text: text.replace("cm-channel-hook", "***")).update_sheet(str(sheet), [row])
    assert [r["title"] for r in read_sheet(sheet)] == ["Hook https://chat.example.com/hooks/*** broke"]


def test_update_sheet_allowed(world: World, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.xlsx"
    result = world.outbox().update_sheet(str(sheet), [ROW])
    assert (result.inserted, result.updated, result.path) == (1, 0, str(sheet))
    assert sheet.exists()
    again = world.outbox().update_sheet(str(sheet), [ROW])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)


def test_write_upstream_reads_back_after_an_ambiguous_failure(world: World) -> None:
    from community_monitoring.errors import AmbiguousWrite

    def lost_answer(_: str) -> None:
        raise AmbiguousWrite("read timed out after sending")

    outbox = world.outbox()
    delivery = outbox.write_upstream("k", "thank", "uv", "hi", lost_answer, read_back=lambda _: True)
    assert delivery.status == "sent"
    assert world.outbox().already_done("k")


def test_an_earlier_days_catch_up_that_may_have_arrived_does_not_hold_back_todays_message(
    world: World,
) -> None:
    """Each try meets the uncertain catch-up again (it is never re-sent by itself): today's [Triage]
    still goes out, once, and the task fails naming the catch-up."""
    from types import SimpleNamespace

    from community_monitoring.errors import UncertainDelivery
    from community_monitoring.pipeline import common
    from community_monitoring.sources.http import AmbiguousWriteError

    def webhook(conn_id: str, username: str) -> Callable[[str], None]:
        def send(text: str) -> None:
            if "EARLIER" in text:
                raise AmbiguousWriteError("mattermost", "POST", "/hooks/…", 0, "read timeout")
            world.posted.append((conn_id, username, text))

        return send

    outbox = world.outbox(webhook=webhook)
    earlier = {"key": f"{DAG}:triage:earlier:recovered:forum", "parts": ["[Triage] EARLIER"]}
    message = {"parts": ["[Triage] TODAY"], "key": f"{DAG}:triage:today", "earlier": [earlier]}
    run = SimpleNamespace(
        store=SimpleNamespace(message=lambda kind: message),
        facts=SimpleNamespace(is_backfill=False),
        policy=SCHEDULED,
        outbox=outbox,
    )
    for _ in range(2):  # the try, and a retry or a clear
        with pytest.raises(UncertainDelivery, match="earlier:recovered:forum"):
            common.post_message.__wrapped__(run, "triage")
    assert [text for _, _, text in world.posted] == ["[Triage] TODAY"]
    assert {e.key: e.status for e in world.entries()} == {
        f"{DAG}:triage:today": "sent",
        f"{DAG}:triage:earlier:recovered:forum": "uncertain",
    }


def _run_owing_an_unfinished_earlier_digest(world: World, today: str) -> Any:
    """A daily run whose message ``today`` follows the catch-up owed by the day before, whose
    [Triage] went out without the forum and had its part 2 refused (the hook refuses it still)."""
    from datetime import timedelta
    from types import SimpleNamespace

    earlier_base = keys.digest_key(DAG, "triage", T - timedelta(days=1))
    refusing = world.failing_on("part 2")
    with pytest.raises(WritesFailed, match="part 2/2 was not sent"):
        world.outbox(webhook=refusing).post_message(
            "triage", ["[Triage] OLD part 1", "[Triage] OLD part 2"], earlier_base + ":without:forum"
        )
    owed = {"key": earlier_base + ":recovered:forum", "parts": ["[Triage] OLD catch-up"]}
    message = {"parts": [today], "key": keys.digest_key(DAG, "triage", T), "earlier": [owed]}
    return SimpleNamespace(
        store=SimpleNamespace(message=lambda kind: message),
        facts=SimpleNamespace(is_backfill=False),
        policy=SCHEDULED,
        outbox=world.outbox(webhook=refusing),
    )


def test_an_earlier_days_digest_left_unfinished_does_not_hold_back_todays_message(world: World) -> None:
    """An earlier day's [Triage] whose part 2 is refused whenever it is sent: its catch-up and
    today's [Triage] go out, once, and every try fails naming the digest left unfinished."""
    from community_monitoring.errors import WritesFailed
    from community_monitoring.pipeline import common

    run = _run_owing_an_unfinished_earlier_digest(world, "[Triage] TODAY")
    for _ in range(2):  # the try, and a retry or a clear
        with pytest.raises(WritesFailed, match="without:forum not finished"):
            common.post_message.__wrapped__(run, "triage")
    assert [text for _, _, text in world.posted] == [
        "[Triage] OLD part 1",
        "[Triage] OLD catch-up",
        "[Triage] TODAY",
    ]


def test_todays_message_failing_too_is_named_beside_an_earlier_days_digest_left_unfinished(
    world: World,
) -> None:
    """An earlier day's [Triage] left unfinished, and today's own [Triage] refused as well: the
    error names both (it named today's alone), and a retry sends today's once the hook takes it."""
    from community_monitoring.errors import WritesFailed
    from community_monitoring.pipeline import common

    run = _run_owing_an_unfinished_earlier_digest(world, "[Triage] TODAY part 2")
    with pytest.raises(
        WritesFailed,
        match=r"^ConnectionError: webhook down.*without:forum not finished",
    ):
        common.post_message.__wrapped__(run, "triage")
    run.outbox = world.outbox()
    common.post_message.__wrapped__(run, "triage")
    assert [text for _, _, text in world.posted] == [
        "[Triage] OLD part 1",
        "[Triage] OLD catch-up",
        "[Triage] OLD part 2",
        "[Triage] TODAY part 2",
    ]


@pytest.mark.parametrize(
    ("ledger", "archived"),
    [
        pytest.param({}, True, id="first run"),
        pytest.param({"sent": False}, True, id="an earlier try provably sent nothing"),
        pytest.param({"sent": True}, False, id="a rerun after it went out"),
    ],
)
def test_a_rerun_of_a_t_whose_digest_went_out_keeps_the_archive_of_what_was_sent(
    ledger: dict[str, bool], archived: bool
) -> None:
    """The posted digest's "… and N more" names the full list archived with it: a rerun (a clear,
    a second run with the same T) must not replace that list with the one it would have sent."""
    from types import SimpleNamespace

    from community_monitoring.messages import RenderedMessage
    from community_monitoring.pipeline.daily import save_message

    archives: list[str] = []
    key = keys.digest_key(DAG, "help_wanted", T)
    run = SimpleNamespace(
        store=SimpleNamespace(save_message=lambda kind, parts, count: None),
        outbox=SimpleNamespace(
            earlier_deliveries=lambda kind: {key: ledger["sent"]} if ledger else {},
            archive=lambda kind, parts, full_text=None: archives.append(kind) or f"/archive/{kind}.md",
        ),
    )
    message = RenderedMessage("help_wanted", ("[Help Wanted] hi",), ("https://x.test/1",))
    save_message(run, message)  # type: ignore[arg-type]
    assert archives == (["help_wanted"] if archived else [])


def test_a_post_that_may_not_have_arrived_is_named_as_people_know_it(world: World) -> None:
    """The alert quotes the error: "[Help Wanted]", not only its ledger key."""
    from community_monitoring.errors import UncertainDelivery
    from community_monitoring.sources.http import AmbiguousWriteError

    def lost(conn_id: str, username: str) -> Callable[[str], None]:
        def send(text: str) -> None:
            raise AmbiguousWriteError("mattermost", "POST", "/hooks/…", 0, "connection reset")

        return send

    with pytest.raises(UncertainDelivery, match=r"^\[Help Wanted\] to mattermost_default: .*:help_wanted:"):
        world.outbox(webhook=lost).post_message("help_wanted", ["[Help Wanted] @here 3 posts"])
    assert message_label("no kind at all") == "a message"


@pytest.mark.parametrize(
    ("sent_before", "cut_short", "then"),
    [
        pytest.param((), ":without:forum", ":recovered:forum", id="a cleared run catches up on the channel"),
        pytest.param(
            (":without:forum,github",),
            ":recovered:forum",
            ":recovered:github",
            id="a catch-up cut short, then the other channel's",
        ),
    ],
)
def test_a_digest_cut_short_by_a_failed_part_is_finished_before_the_next_digest_of_its_t(
    world: World, sent_before: tuple[str, ...], cut_short: str, then: str
) -> None:
    """The [Triage] of T went out without the forum and its second part failed for good (the hook
    answered 503 on every attempt). The run, cleared once the forum reads, sends the forum's posts
    under a key of their own (``covered_digest_key``): the first digest's unsent part goes out
    first, not never."""
    base = keys.digest_key(DAG, "triage", T)

    for key in sent_before:
        world.outbox().post_message("triage", ["before"], base + key)
    with pytest.raises(WritesFailed, match="part 2/2 was not sent"):
        world.outbox(webhook=world.failing_on("part 2")).post_message(
            "triage", ["cut, part 1", "cut, part 2"], base + cut_short
        )
    now = keys.covered_digest_key(base, world.outbox().earlier_deliveries("triage"), [])
    assert now.key == base + then  # the cleared run's message, which does not hold the unsent part
    delivery = world.outbox().post_message("triage", ["catch-up"], now.key)
    texts = [text for _, _, text in world.posted][len(sent_before) :]
    assert texts == ["cut, part 1", "cut, part 2", "catch-up"]
    assert (delivery.status, delivery.parts_sent) == ("sent", 2)
    assert {e.key: e.status for e in world.entries()} == dict.fromkeys(
        [base + k for k in (*sent_before, cut_short, then)], "sent"
    )
    # Nothing more on a rerun.
    assert world.outbox().post_message("triage", ["catch-up"], now.key).status == "already_sent"
    assert len(texts) == 3


def test_a_digest_whose_rest_fails_again_does_not_hold_back_the_catch_up(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The first digest's part 2 is refused again whenever it is sent (the hook refuses that text):
    the forum's catch-up still goes out, once, and every clear fails naming the digest left
    unfinished, which stays failed for a later try to finish."""
    from community_monitoring.errors import WritesFailed

    base = keys.digest_key(DAG, "triage", T)
    refusing = world.failing_on("part 2")
    with pytest.raises(WritesFailed, match="part 2/2 was not sent"):
        world.outbox(webhook=refusing).post_message(
            "triage", ["[Triage] part 1", "[Triage] part 2"], base + ":without:forum"
        )
    for _ in range(2):  # the cleared run, and a clear of it
        with pytest.raises(
            WritesFailed,
            match=r"^\[Triage\] to mattermost_cm: .*:without:forum not finished: part 2/2 was not sent .*: webhook down",
        ):
            world.outbox(webhook=refusing).post_message("triage", ["catch-up"], base + ":recovered:forum")
    assert [text for _, _, text in world.posted] == ["[Triage] part 1", "catch-up"]
    assert {e.key: e.status for e in world.entries()} == {
        base + ":without:forum": "failed",
        base + ":recovered:forum": "sent",
    }
    caplog.clear()
    with caplog.at_level("INFO", logger="community_monitoring.outbox"):
        # The hook takes it now: the catch-up itself was posted already, the digest's rest goes out.
        delivery = world.outbox().post_message("triage", ["catch-up"], base + ":recovered:forum")
    assert [text for _, _, text in world.posted] == ["[Triage] part 1", "catch-up", "[Triage] part 2"]
    assert (delivery.status, delivery.parts_sent) == ("already_sent", 1)
    said = " ".join(record.getMessage() for record in caplog.records)
    assert "nothing sent" not in said
    assert "1 part(s) of another digest of its T sent first" in said


def test_a_catch_up_that_fails_too_names_the_digest_left_unfinished(world: World) -> None:
    """The first digest's rest is refused again and the catch-up itself fails: the task's error (and
    so the CM's alert) names both, and a retry sends both once the hook takes them."""
    from community_monitoring.errors import WritesFailed

    base = keys.digest_key(DAG, "triage", T)
    with pytest.raises(WritesFailed, match="part 2/2 was not sent"):
        world.outbox(webhook=world.failing_on("part 2")).post_message(
            "triage", ["[Triage] part 1", "[Triage] part 2"], base + ":without:forum"
        )

    def refusing_both(conn_id: str, username: str) -> Callable[[str], None]:
        def send(text: str) -> None:
            raise ConnectionError(f"webhook down: 503 on every attempt ({text[-6:]})")

        return send

    with pytest.raises(WritesFailed) as failed:
        world.outbox(webhook=refusing_both).post_message(
            "triage", ["[Triage] catch-up"], base + ":recovered:forum"
        )
    said = str(failed.value)
    assert said.startswith("[Triage] to mattermost_cm: ConnectionError: webhook down")
    assert ":without:forum not finished" in said
    assert [text for _, _, text in world.posted] == ["[Triage] part 1"]
    world.outbox().post_message("triage", ["[Triage] catch-up"], base + ":recovered:forum")
    assert [text for _, _, text in world.posted] == [
        "[Triage] part 1",
        "[Triage] part 2",
        "[Triage] catch-up",
    ]


def test_digests_of_a_t_left_unfinished_are_finished_in_the_order_they_were_first_sent(world: World) -> None:
    """The [Triage] without the forum and GitHub, then the forum's catch-up, each cut short: the
    GitHub catch-up finishes the first digest before the forum's catch-up, as they first went out
    (their keys sort the other way)."""
    from community_monitoring.errors import WritesFailed

    base = keys.digest_key(DAG, "triage", T)
    refusing = world.failing_on("part 2")
    with pytest.raises(WritesFailed, match="part 2/2 was not sent"):
        world.outbox(webhook=refusing).post_message(
            "triage", ["first part 1", "first part 2"], base + ":without:forum,github"
        )
    # The forum's catch-up fails too: its error names the first digest, left unfinished, beside it.
    with pytest.raises(
        WritesFailed, match=r"part 2/2 was not sent .*: webhook down.*:without:forum,github not finished"
    ):
        world.outbox(webhook=refusing).post_message(
            "triage", ["forum part 1", "forum part 2"], base + ":recovered:forum"
        )
    world.outbox().post_message("triage", ["github catch-up"], base + ":recovered:github")
    assert [text for _, _, text in world.posted] == [
        "first part 1",
        "forum part 1",
        "first part 2",
        "forum part 2",
        "github catch-up",
    ]


POST_TRIAGE = f"{DAG}/manual__1/post_triage"


def test_a_digest_whose_sender_died_in_a_retrys_wait_is_sent_before_the_catch_up(world: World) -> None:
    """The first try claimed the [Triage] sent without the forum and died waiting out a 503, nothing
    out (its claim left, no part in flight): it counts as gone out, so the run cleared once the forum
    reads builds the forum's catch-up alone. The digest goes out first, whole, once."""
    base = keys.digest_key(DAG, "triage", T)
    NotificationLedger.from_url(world.ledger_url).claim(
        base + ":without:forum", "triage", "mattermost_cm", ["first"], owner=POST_TRIAGE
    )
    cleared = world.outbox(owner=POST_TRIAGE)
    now = keys.covered_digest_key(base, cleared.earlier_deliveries("triage"), [])
    assert now.key == base + ":recovered:forum"
    cleared.post_message("triage", ["catch-up"], now.key)
    assert [text for _, _, text in world.posted] == ["first", "catch-up"]


def test_a_part_in_doubt_while_finishing_a_digest_does_not_hold_back_the_catch_up(world: World) -> None:
    """Finishing the first digest, its part 2's answer is lost (a reset): never re-sent, and named;
    its part 3 and the catch-up still go out, and the task fails naming the part in doubt."""
    from community_monitoring.errors import UncertainDelivery
    from community_monitoring.sources.http import AmbiguousWriteError

    base = keys.digest_key(DAG, "triage", T)
    first = ["[Triage] part 1", "[Triage] part 2", "[Triage] part 3"]
    with pytest.raises(WritesFailed, match="part 2/3 was not sent"):
        world.outbox(webhook=world.failing_on("part 2")).post_message(
            "triage", first, base + ":without:forum"
        )

    def reset_on_part_2(conn_id: str, username: str) -> Callable[[str], None]:
        def send(text: str) -> None:
            if text.endswith("part 2"):
                raise AmbiguousWriteError("mattermost", "POST", "/hooks/…", 0, "connection reset")
            world.posted.append((conn_id, username, text))

        return send

    with pytest.raises(
        UncertainDelivery, match=r"^\[Triage\] to mattermost_cm: .*part 2/3: .*connection reset"
    ):
        world.outbox(webhook=reset_on_part_2).post_message("triage", ["catch-up"], base + ":recovered:forum")
    assert [text for _, _, text in world.posted] == ["[Triage] part 1", "[Triage] part 3", "catch-up"]
    assert {e.key: e.status for e in world.entries()} == {
        base + ":without:forum": "uncertain",
        base + ":recovered:forum": "sent",
    }


def test_a_digest_in_doubt_keeps_the_cleared_run_red_though_its_catch_up_goes_out(world: World) -> None:
    """The [Triage] sent without the forum may or may not have arrived (its answer was lost). The
    run cleared once the forum reads sends the forum's posts on their own, and fails naming the
    first digest, as a rerun that meets it under its own key does: it is not passed over as sent."""
    from community_monitoring.errors import UncertainDelivery
    from community_monitoring.sources.http import AmbiguousWriteError

    base = keys.digest_key(DAG, "triage", T)

    def lost_answer(conn_id: str, username: str) -> Callable[[str], None]:
        def send(text: str) -> None:
            world.posted.append((conn_id, username, text))
            raise AmbiguousWriteError("mattermost", "POST", "/hooks/…", 0, "connection reset")

        return send

    with pytest.raises(UncertainDelivery):
        world.outbox(webhook=lost_answer).post_message("triage", ["[Triage] first"], base + ":without:forum")
    for _ in range(2):  # the cleared run, and a retry of it
        with pytest.raises(
            UncertainDelivery, match=r"^\[Triage\] to mattermost_cm: .*:without:forum may or may not"
        ):
            world.outbox().post_message("triage", ["[Triage] catch-up"], base + ":recovered:forum")
    assert [text for _, _, text in world.posted] == ["[Triage] first", "[Triage] catch-up"]
    assert {e.key: e.status for e in world.entries()} == {
        base + ":without:forum": "uncertain",
        base + ":recovered:forum": "sent",
    }


def test_a_digest_another_worker_is_sending_is_left_to_it(world: World) -> None:
    """Another run's task holds the claim (sending it now, or dead less than the takeover time ago):
    the catch-up goes out, and the claimed digest stays its holder's to send."""
    base = keys.digest_key(DAG, "triage", T)
    NotificationLedger.from_url(world.ledger_url).claim(
        base + ":without:forum", "triage", "mattermost_cm", ["first"], owner=f"{DAG}/other/post_triage"
    )
    world.outbox(owner=POST_TRIAGE).post_message("triage", ["catch-up"], base + ":recovered:forum")
    assert [text for _, _, text in world.posted] == ["catch-up"]
    assert {e.key: e.status for e in world.entries()} == {
        base + ":without:forum": "sending",
        base + ":recovered:forum": "sent",
    }


def test_a_digest_that_provably_went_out_in_no_part_is_not_sent_beside_the_next(world: World) -> None:
    """Every part refused (the hook's 503 on each attempt): the cleared run's [Triage] holds its posts
    under a key of its own, so the refused one is never sent as well."""
    base = keys.digest_key(DAG, "triage", T)
    with pytest.raises(ConnectionError):
        world.outbox(webhook=world.failing_on("part 1")).post_message(
            "triage", ["first, part 1"], base + ":without:forum"
        )
    now = keys.covered_digest_key(base, world.outbox().earlier_deliveries("triage"), [])
    assert now.key == base
    world.outbox().post_message("triage", ["whole"], now.key)
    assert [text for _, _, text in world.posted] == ["whole"]


def test_an_earlier_ts_digest_cut_short_is_left_to_its_own_key(world: World) -> None:
    """Only the digests of the T being sent are finished: another T's is its own run's to resume,
    and a key that is no digest's (the closeout summary) looks for none."""
    from datetime import timedelta

    earlier = keys.digest_key(DAG, "triage", T - timedelta(days=3))

    with pytest.raises(WritesFailed, match="part 2/2 was not sent"):
        world.outbox(webhook=world.failing_on("part 2")).post_message(
            "triage", ["old, part 1", "old, part 2"], earlier
        )
    world.outbox().post_message("triage", ["today"])
    world.outbox().post_message("triage", ["summary"], f"{DAG}:release_closeout:11.2")
    assert [text for _, _, text in world.posted] == ["old, part 1", "today", "summary"]
