"""Stack Overflow extraction through HttpHook against the sandbox: output, batching and requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from community_monitoring.sources.http import ApiClient, HttpPolicy, InvalidResponseError, UpstreamError
from community_monitoring.sources.stackexchange import (
    THREAD_FIELDS,
    StackExchangeClient,
    StackExchangeError,
    fetch_stackoverflow_questions,
)
from community_sandbox import Sandbox
from scenario_files import days
from scenario_files_more import se_answer, se_comment, se_question, write_more_scenario

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)
QUESTIONS = 130  # more than one page (100) and more than one batch of ids (100)
DEMO = Path(__file__).resolve().parents[2] / "include" / "scenarios" / "demo"
API = "/stackexchange/2.3"


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def stack_data() -> dict[str, list[dict[str, Any]]]:
    # Questions 1000..1129, one every 5 hours from T-29d; each has one answer (id 5000 + i).
    questions = [
        se_question(1000 + i, f"Question {i}", f"asker{i}", NOW - days(29) + hours(i * 5))
        for i in range(QUESTIONS)
    ]
    questions[0] = se_question(
        1000,
        "Can&#39;t connect &amp; &quot;fails&quot;",
        None,  # a deleted user
        NOW - days(29),
        accepted_answer_id=5000,
        last_activity=NOW - days(20),
    )
    questions[1]["closed_date"] = int((NOW - days(3)).timestamp())
    questions += [
        # Created long ago but active since: the API returns it, the window does not want it.
        se_question(2000, "Old but active", "old", NOW - days(60), last_activity=NOW - days(1)),
        se_question(2001, "Other tag", "py", NOW - days(1), tags=["python"]),
        se_question(2002, "After T", "late", NOW + hours(2)),
        se_question(2003, "Old and quiet", "old", NOW - days(60), last_activity=NOW - days(45)),
    ]
    answers = [
        se_answer(5000 + i, 1000 + i, f"helper{i % 3}", NOW - days(29) + hours(i * 5 + 1))
        for i in range(QUESTIONS)
    ]
    answers[0]["is_accepted"] = True
    comments = [
        se_comment(9001, 1000, "asker0", NOW - days(28)),
        se_comment(9002, 5001, "helper", NOW - days(27), post_type="answer"),
        se_comment(9003, 2000, "old", NOW - days(1)),
    ]
    return {"questions": questions, "answers": answers, "comments": comments}


def connect(monkeypatch: pytest.MonkeyPatch, running: Sandbox, conn_id: str, **extra: Any) -> None:
    conn = {"conn_type": "http", "host": f"{running.base_url}/stackexchange", "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    data = stack_data()
    data["backoff"] = [{"path": "/questions$", "backoff": 10, "times": 1}]
    scenario = write_more_scenario(tmp_path / "s", NOW, stackexchange=data)
    running = Sandbox(scenario).start()
    connect(monkeypatch, running, "stackexchange_test", site="stackoverflow", key="app-key")
    yield running
    running.stop()


def fake_client(sleeps: list[float]) -> StackExchangeClient:
    # A frozen clock: every backoff is slept in full, so the test can compare exact seconds.
    return StackExchangeClient(
        ApiClient("stackexchange_test", "stackoverflow"), sleep=sleeps.append, clock=lambda: 0.0
    )


def ids_in(path: str) -> list[str]:
    return path.split("/")[-2].split(";")


def test_questions_created_in_window_with_answers_and_comments(sandbox: Sandbox) -> None:
    posts = list(fetch_stackoverflow_questions(fake_client([]), ["mattermost"], NOW - days(30), NOW))
    assert [p.source_id for p in posts] == [str(1000 + i) for i in range(QUESTIONS)]
    first, second = posts[0], posts[1]
    assert first.title == 'Can\'t connect & "fails"'
    assert first.author == "deleted-user"
    assert first.channel == "stackoverflow"
    assert first.container == "stackoverflow"
    assert first.url == "https://stackoverflow.com/questions/1000/q-1000"
    assert first.body == "<p>Question 1000</p>"
    assert first.state == "open"
    assert first.labels == ("mattermost",)
    assert [(r.kind, r.author) for r in first.replies] == [("answer", "helper0"), ("comment", "asker0")]
    assert (first.number, first.accepted_at, first.updated_at) == (
        1000,
        NOW - days(29) + hours(1),
        NOW - days(20),
    )
    # The accepted answer (id 5000) is where the acceptance time comes from.
    assert next(r for r in first.replies if r.reply_id == "a5000").created_at == first.accepted_at
    # A comment on the answer is a reply to the question too.
    assert [(r.kind, r.author) for r in second.replies] == [("answer", "helper1"), ("comment", "helper")]
    assert second.state == "closed"
    assert second.closed_at == NOW - days(3)
    assert second.accepted_at is None
    assert second.number == 1001


def test_one_filter_then_one_call_per_page_of_100_questions(sandbox: Sandbox) -> None:
    list(fetch_stackoverflow_questions(fake_client([]), ["mattermost"], NOW - days(30), NOW))
    log = sandbox.requests_log
    # 130 questions created in the window: two pages (the old question active since the window
    # start is never read), and every answer and comment came inlined, so nothing else is asked.
    assert [r["path"] for r in log] == [f"{API}/filters/create", f"{API}/questions", f"{API}/questions"]
    made = log[0]["query"]
    assert made["include"][0].split(";") == list(THREAD_FIELDS)
    assert (made["base"], made["unsafe"]) == (["default"], ["false"])
    assert "site" not in made  # filters belong to no site
    question_pages = log[1:]
    assert [r["query"]["page"] for r in question_pages] == [["1"], ["2"]]
    query = question_pages[0]["query"]
    assert query["fromdate"] == [str(int((NOW - days(30)).timestamp()))]
    assert query["todate"] == [str(int(NOW.timestamp()))]
    assert query["sort"] == ["creation"]
    assert "min" not in query
    assert query["order"] == ["desc"]
    assert query["tagged"] == ["mattermost"]
    assert query["pagesize"] == ["100"]
    assert query["filter"][0].startswith("!")  # the sandbox's id for the filter just made
    assert all(r["query"]["filter"] == query["filter"] for r in question_pages)
    assert query["site"] == ["stackoverflow"]
    assert "key" not in query  # this client was built without one
    assert all(r["status"] == 200 for r in log)


def test_one_call_for_a_small_window(sandbox: Sandbox) -> None:
    posts = list(fetch_stackoverflow_questions(fake_client([]), ["mattermost"], NOW - days(5), NOW))
    assert len(posts) == 14  # questions 1116..1129
    assert [p.replies[0].reply_id for p in posts] == [f"a{5116 + i}" for i in range(14)]
    assert [r["path"] for r in sandbox.requests_log] == [f"{API}/filters/create", f"{API}/questions"]


def replies_of(posts: list[Any]) -> dict[str, list[tuple[str, str, str]]]:
    return {p.source_id: [(r.reply_id, r.author, r.body) for r in p.replies] for p in posts}


def test_short_inlined_lists_are_read_again_for_those_posts_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = stack_data()
    # Question 1003 gets three comments; its answer 5003 three more. The sandbox inlines two.
    data["comments"] += [se_comment(9100 + n, 1003, f"c{n}", NOW - days(20)) for n in range(3)]
    data["comments"] += [
        se_comment(9200 + n, 5003, f"d{n}", NOW - days(20), post_type="answer") for n in range(3)
    ]
    data["answers"] += [se_answer(6000 + n, 1004, f"e{n}", NOW - days(20)) for n in range(3)]
    scenario = write_more_scenario(tmp_path / "capped", NOW, stackexchange=data)
    limits = {"question.comments": 2, "answer.comments": 2, "question.answers": 2}
    (scenario / "stackexchange" / "inline.json").write_text(json.dumps(limits), encoding="utf-8")
    with Sandbox(scenario) as capped:
        connect(monkeypatch, capped, "stackexchange_test")
        posts = list(fetch_stackoverflow_questions(fake_client([]), ["mattermost"], NOW - days(30), NOW))
        paths = [r["path"] for r in capped.requests_log]
    # Read again, batched, for the short lists only: 1004's answers, 1003's comments, 5003's.
    assert paths[3:] == [
        f"{API}/questions/1004/answers",
        f"{API}/questions/1003/comments",
        f"{API}/answers/5003/comments",
    ]
    by_id = {p.source_id: p for p in posts}
    assert [r.reply_id for r in by_id["1003"].replies if r.kind == "comment"] == [
        "c9100", "c9101", "c9102", "c9200", "c9201", "c9202"
    ]  # fmt: skip
    assert [r.reply_id for r in by_id["1004"].replies if r.kind == "answer"] == [
        "a5004", "a6000", "a6001", "a6002"
    ]  # fmt: skip
    # The same replies as when nothing is capped.
    whole = write_more_scenario(tmp_path / "whole", NOW, stackexchange=data)
    with Sandbox(whole) as running:
        connect(monkeypatch, running, "stackexchange_test")
        uncapped = list(fetch_stackoverflow_questions(fake_client([]), ["mattermost"], NOW - days(30), NOW))
        assert len(running.requests_log) == 3
    assert replies_of(posts) == replies_of(uncapped)


def test_a_configured_filter_without_counts_still_reads_every_reply(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A baked-in filter that inlines nothing (here the built-in "withbody"): no filter is made,
    # and every list is read with the batched calls, up to 100 posts per call.
    connect(monkeypatch, sandbox, "stackexchange_baked", filter="withbody")
    client = StackExchangeClient.from_connection("stackexchange_baked", sleep=lambda s: None)
    posts = list(fetch_stackoverflow_questions(client, ["mattermost"], NOW - days(30), NOW))
    assert [(r.kind, r.author) for r in posts[1].replies] == [("answer", "helper1"), ("comment", "helper")]
    log = sandbox.requests_log
    assert {r["query"]["filter"][0] for r in log} == {"withbody"}
    batched = [(r["path"].split("/")[3], r["path"].split("/")[-1], len(ids_in(r["path"]))) for r in log[2:]]
    assert batched == [
        ("questions", "answers", 100),
        ("questions", "answers", 30),
        ("questions", "comments", 100),
        ("questions", "comments", 30),
        ("answers", "comments", 100),
        ("answers", "comments", 30),
    ]


def test_a_filter_made_without_the_thread_fields_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = {"filter": "!abc", "filter_type": "safe", "included_fields": ["question.title"]}
    body = json.dumps({"items": [made], "has_more": False, "quota_max": 10000, "quota_remaining": 9})
    fault = {
        "service": "stackexchange",
        "path": "/filters/create$",
        "kind": "body",
        "body": body,
        "content_type": "application/json",
    }
    scenario = write_more_scenario(tmp_path / "f", NOW, stackexchange=stack_data(), faults=[fault])
    with Sandbox(scenario) as running:
        connect(monkeypatch, running, "stackexchange_test")
        with pytest.raises(InvalidResponseError, match=r"filters/create answered 200: .*question.answers"):
            list(fetch_stackoverflow_questions(fake_client([]), ["mattermost"], NOW - days(5), NOW))
        assert [r["path"] for r in running.requests_log] == [f"{API}/filters/create"]


def test_a_page_parameter_ignored_is_an_invalid_answer_not_ten_thousand_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read to the page cap, an API answering page 1 for ever with has_more spent a day's quota."""
    questions = [q for q in stack_data()["questions"]][:2]
    body = json.dumps({"items": questions, "has_more": True, "quota_max": 10000, "quota_remaining": 9000})
    fault = {
        "service": "stackexchange",
        "path": "/questions$",
        "kind": "body",
        "body": body,
        "content_type": "application/json",
    }
    scenario = write_more_scenario(tmp_path / "p", NOW, stackexchange=stack_data(), faults=[fault])
    with Sandbox(scenario) as running:
        connect(monkeypatch, running, "stackexchange_test")
        with pytest.raises(InvalidResponseError, match=r"/questions answered 200: page 2 holds only items"):
            list(fetch_stackoverflow_questions(fake_client([]), ["mattermost"], NOW - days(30), NOW))
        pages = [r for r in running.requests_log if r["path"].endswith("/questions")]
    assert len(pages) == 2


def test_backoff_is_honoured_before_the_next_call_to_that_method(sandbox: Sandbox) -> None:
    sleeps: list[float] = []
    list(fetch_stackoverflow_questions(fake_client(sleeps), ["mattermost"], NOW - days(30), NOW))
    # The first /questions page asked for 10 s; the second page waited, answers/comments did not.
    assert sleeps == [10.0]


def test_a_backoff_longer_than_allowed_fails_the_call_rather_than_sleeping_it(sandbox: Sandbox) -> None:
    sleeps: list[float] = []
    api = ApiClient("stackexchange_test", "stackoverflow", policy=HttpPolicy(max_wait=5.0))
    client = StackExchangeClient(api, sleep=sleeps.append, clock=lambda: 0.0)
    with pytest.raises(UpstreamError, match=r"back off questions for 10s more, longer than the 5s allowed"):
        list(fetch_stackoverflow_questions(client, ["mattermost"], NOW - days(30), NOW))
    assert sleeps == []


def test_connection_extra_sets_site_key_and_filter(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = StackExchangeClient.from_connection("stackexchange_test", sleep=lambda s: None)
    assert client.site == "stackoverflow"
    active = list(client.questions(["mattermost"], NOW - days(2)))
    assert client.quota_remaining == 10_000 - len(sandbox.requests_log)
    assert [r["query"]["key"] for r in sandbox.requests_log] == [["app-key"], ["app-key"]]
    made = client.thread_filter()
    # A filter id never expires: one configured in the extra saves the /filters/create call.
    sandbox.requests_log.clear()
    connect(monkeypatch, sandbox, "stackexchange_baked", filter=made)
    baked = StackExchangeClient.from_connection("stackexchange_baked", sleep=lambda s: None)
    assert list(baked.questions(["mattermost"], NOW - days(2))) == active
    assert [(r["path"], r["query"]["filter"]) for r in sandbox.requests_log] == [(f"{API}/questions", [made])]


def test_error_body_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"error_id": 400, "error_message": "ids " + "x" * 400, "error_name": "bad_parameter"}
    scenario = write_more_scenario(
        tmp_path / "bad",
        NOW,
        stackexchange=stack_data(),
        faults=[{"service": "stackexchange", "path": "/answers$", "status": 400, "body": body}],
    )
    with Sandbox(scenario) as running:
        connect(monkeypatch, running, "stackexchange_bad", site="nosuchsite")
        client = StackExchangeClient.from_connection("stackexchange_bad", sleep=lambda s: None)
        with pytest.raises(
            StackExchangeError, match=r"GET /2.3/questions answered 400: bad_parameter"
        ) as err:
            list(client.questions(["mattermost"], NOW - days(1)))
        assert "No site found for name `nosuchsite`" in str(err.value)
        # An error body longer than what ApiClient keeps still yields its name (from error_id).
        client = StackExchangeClient.from_connection("stackexchange_bad", site="stackoverflow")
        with pytest.raises(
            StackExchangeError, match=r"/answers answered 400: bad_parameter \(error_id 400\)"
        ):
            list(client.answers([1000]))


@pytest.mark.parametrize("status", [400, 500])
def test_an_error_message_that_echoes_the_app_key_does_not_show_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """The error is the failure alert's text, which Airflow's log masker never reads."""
    body = {"error_id": status, "error_message": "bad key=se-app-key-123456 for site", "error_name": "x"}
    scenario = write_more_scenario(
        tmp_path / "echo",
        NOW,
        stackexchange=stack_data(),
        faults=[{"service": "stackexchange", "path": "/questions$", "status": status, "body": body}],
    )
    with Sandbox(scenario) as running:
        connect(monkeypatch, running, "stackexchange_echo", site="stackoverflow", key="se-app-key-123456")
        client = StackExchangeClient.from_connection("stackexchange_echo", sleep=lambda s: None)
        with pytest.raises(StackExchangeError, match=r"bad key=\*\*\* for site") as err:
            list(client.questions(["mattermost"], NOW - days(1)))
    assert "se-app-key-123456" not in str(err.value)


def test_demo_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(DEMO) as running:
        connect(monkeypatch, running, "stackexchange_demo", site="stackoverflow")
        client = StackExchangeClient.from_connection("stackexchange_demo", sleep=lambda s: None)
        now = running.scenario.now
        posts = {
            int(p.source_id): p
            for p in fetch_stackoverflow_questions(client, ["mattermost"], now - days(180), now)
        }
        request_count = len(running.requests_log)
    assert 79891002 not in posts  # created after T
    assert 79601234 not in posts  # created more than 180 days before T
    assert len(posts) == 9
    assert posts[79858010].title == 'Mattermost incoming webhook with "props" card not rendering'
    accepted = posts[79835520]
    assert accepted.number == 79835520
    assert accepted.accepted_at == datetime(2026, 10, 26, 8, tzinfo=UTC)
    # The accepted answer (id 79835610) is where the acceptance time comes from.
    assert next(r for r in accepted.replies if r.reply_id == "a79835610").created_at == accepted.accepted_at
    assert [(r.kind, r.author) for r in accepted.replies] == [
        ("answer", "weichen"),
        ("comment", "kenji_s"),  # on the accepted answer
        ("answer", "snowfox42"),
    ]
    assert [r.author for r in posts[79846700].replies] == ["amy-blais"]
    assert posts[79812004].replies == ()
    assert request_count == 2  # the filter, then one page of questions with their threads inlined


def test_the_thread_filter_is_made_once_per_deployment_and_remembered_between_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from community_monitoring.item_cache import ItemCache
    from community_monitoring.settings import load_settings
    from community_monitoring.sources import FetchRequest
    from community_monitoring.sources.stackexchange import FILTER_CACHE_KEY, SERVICE, fetch

    scenario = write_more_scenario(tmp_path / "runs", NOW, stackexchange=stack_data())
    with Sandbox(scenario) as running:
        connect(monkeypatch, running, "stackexchange_default", site="stackoverflow")
        cache = ItemCache.in_memory()
        request = FetchRequest(load_settings(), NOW - days(30), NOW, cache=cache)

        first = [p.source_id for p in fetch(request).posts]
        assert running.requests_log[0]["path"] == f"{API}/filters/create"
        made = running.requests_log[1]["query"]["filter"][0]
        version = "default+" + ";".join(THREAD_FIELDS)
        assert cache.get_many(SERVICE, {FILTER_CACHE_KEY: version}) == {FILTER_CACHE_KEY: made}

        running.requests_log.clear()
        second = [p.source_id for p in fetch(request).posts]
        assert second == first
        assert [r["path"] for r in running.requests_log] == [f"{API}/questions"] * 2
        assert {r["query"]["filter"][0] for r in running.requests_log} == {made}


def test_a_remembered_filter_the_api_refuses_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = {"error_id": 400, "error_name": "bad_parameter", "error_message": "filter"}
    fault = {
        "service": "stackexchange",
        "path": "/questions$",
        "query": "filter=gone",
        "status": 400,
        "body": refused,
    }
    scenario = write_more_scenario(tmp_path / "r", NOW, stackexchange=stack_data(), faults=[fault])
    with Sandbox(scenario) as running:
        connect(monkeypatch, running, "stackexchange_test")
        api = ApiClient("stackexchange_test", "stackoverflow")
        client = StackExchangeClient(api, remembered_filter="gone", sleep=lambda s: None)
        posts = list(fetch_stackoverflow_questions(client, ["mattermost"], NOW - days(30), NOW))
        assert len(posts) == QUESTIONS
        paths = [(r["path"], r["query"].get("filter", [""])[0]) for r in running.requests_log]
        assert paths[:2] == [(f"{API}/questions", "gone"), (f"{API}/filters/create", "")]
        assert client.made_filter is not None
        assert {f for p, f in paths[2:]} == {client.made_filter}

        # A filter the operator configured is never replaced behind their back: the error stands.
        running.requests_log.clear()
        configured = StackExchangeClient(api, filter_id="gone", sleep=lambda s: None)
        with pytest.raises(StackExchangeError, match="bad_parameter"):
            list(configured.questions(["mattermost"], NOW - days(30), NOW))
        assert [r["path"] for r in running.requests_log] == [f"{API}/questions"]


def test_several_tags_read_questions_with_any_of_them(sandbox: Sandbox) -> None:
    """The API's ``tagged`` asks for all its tags: a team that lists a second tag wants its questions
    too, so each tag is read on its own and a question carrying both comes once."""
    start = len(sandbox.requests_log)
    client = fake_client([])
    posts = list(fetch_stackoverflow_questions(client, ["mattermost", "python"], NOW - days(30), NOW))
    ids = [p.source_id for p in posts]
    assert "2001" in ids  # tagged python only
    assert "1000" in ids  # tagged mattermost only
    assert len(ids) == len(set(ids)) == QUESTIONS + 1
    lists = [r for r in sandbox.requests_log[start:] if r["path"].endswith("/questions")]
    tagged = [r["query"]["tagged"][0] for r in lists]
    assert set(tagged) == {"mattermost", "python"}  # one tag a list, never "mattermost;python"
    assert tagged.count("python") == 1


class QuestionsOnly:
    """A question list as given, without the sandbox's own checks; threads read again are empty."""

    site = "stackoverflow"
    request_count = 1
    quota_remaining = 10_000

    def __init__(self, questions: list[Any]) -> None:
        self._questions = questions

    def questions(self, tags: list[str], since: datetime, until: datetime) -> Iterator[Any]:
        return iter(self._questions)

    def answers(self, ids: list[int]) -> Iterator[Any]:
        return iter(())

    comments = answer_comments = answers


def read_beside_a_good_question(bad: dict[str, Any]) -> list[Any]:
    """The problems of reading question 1 (fine) and ``bad``; question 1 alone is read."""
    from community_monitoring.sources import ItemProblem

    good = se_question(1, "Fine", "alice", NOW - days(1))
    problems: list[ItemProblem] = []
    posts = list(
        fetch_stackoverflow_questions(
            QuestionsOnly([good, bad]), ["mattermost"], NOW - days(30), NOW, problems
        )
    )  # type: ignore[arg-type]
    assert [p.source_id for p in posts] == ["1"]
    return problems


def test_a_question_left_out_is_named_with_the_post_it_would_have_been() -> None:
    problems = read_beside_a_good_question({**se_question(2, "Broken", "bob", NOW - days(1)), "title": None})
    assert [(p.item, p.post_id) for p in problems] == [("https://stackoverflow.com/questions/2/q-2", "2")]


def test_a_question_answered_without_its_tags_is_named_not_read_as_untagged() -> None:
    """The API always sends a question's tags (the default filter, which the thread filter builds
    on, has them). Read as none, a question answered without them lost the tags that route it to
    its owner; it is named as unreadable instead, with its post id."""
    bare = {k: v for k, v in se_question(2, "Untagged", "bob", NOW - days(1)).items() if k != "tags"}
    problems = read_beside_a_good_question(bare)
    assert [(p.item, p.post_id) for p in problems] == [("https://stackoverflow.com/questions/2/q-2", "2")]
    assert "tags" in problems[0].problem


def test_a_time_in_milliseconds_is_named_as_such() -> None:
    """Stack Exchange dates are UNIX seconds; one in milliseconds (a proxy or a mirror that
    rewrites them) was named "year 57851 is out of range", which says neither what nor why."""
    created = int((NOW - days(1)).timestamp()) * 1000
    problems = read_beside_a_good_question(
        {**se_question(2, "Millis", "bob", NOW - days(1)), "creation_date": created}
    )
    [problem] = problems
    assert "creation_date" in problem.problem
    assert f"{created}" in problem.problem
    assert "milliseconds" in problem.problem
