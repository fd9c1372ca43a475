"""Airflow's HttpHook, unchanged, against the sandbox's Stack Exchange API 2.3 emulation."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow.providers.http.hooks.http import HttpHook

from community_sandbox import Sandbox
from community_sandbox.loading import ScenarioError
from community_sandbox.synth import is_history_id

DEMO = Path(__file__).resolve().parents[2] / "include" / "scenarios" / "demo"
DAY = 86_400
T0 = 1_794_000_000  # unix seconds


def question(
    qid: int, created: int, activity: int | None = None, tags: tuple[str, ...] = ("mattermost",)
) -> dict[str, Any]:
    return {
        "question_id": qid,
        "title": f"Question {qid} &amp; more",
        "tags": list(tags),
        "creation_date": T0 + created * DAY,
        "last_activity_date": T0 + (created if activity is None else activity) * DAY,
        "score": qid % 3,
        "body": f"<p>Body {qid}</p>",
        "link": f"https://stackoverflow.com/questions/{qid}",
    }


QUESTIONS = [
    question(1, 0),
    question(2, 1, activity=9),  # old question, recent activity
    question(3, 2, tags=("mattermost", "docker")),
    question(4, 3, tags=("slack",)),
    question(5, 4),
    question(6, 5, tags=("Mattermost", "docker")),
]
ANSWERS = [
    {"answer_id": 21, "question_id": 2, "creation_date": T0 + 9 * DAY, "score": 1, "body": "<p>A21</p>"},
    {"answer_id": 23, "question_id": 3, "creation_date": T0 + 3 * DAY, "score": 0, "body": "<p>A23</p>"},
    {"answer_id": 25, "question_id": 5, "creation_date": T0 + 5 * DAY, "score": 2, "body": "<p>A25</p>"},
    {"answer_id": 26, "question_id": 6, "creation_date": T0 + 6 * DAY, "score": 0, "body": "<p>A26</p>"},
]
COMMENTS = [
    {"comment_id": 31, "post_id": 2, "post_type": "question", "creation_date": T0 + 2 * DAY, "body": "Q?"},
    {"comment_id": 32, "post_id": 21, "post_type": "answer", "creation_date": T0 + 10 * DAY, "body": "Thx"},
    {"comment_id": 33, "post_id": 3, "post_type": "question", "creation_date": T0 + 4 * DAY, "body": "Dup?"},
]
FILES = {
    "stackexchange/questions.json": QUESTIONS,
    "stackexchange/answers.json": ANSWERS,
    "stackexchange/comments.json": COMMENTS,
}


def connect(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "http", "host": f"{sandbox.base_url}/stackexchange"}
    monkeypatch.setenv("AIRFLOW_CONN_SE_TEST", json.dumps(conn))


@pytest.fixture
def sandbox(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> Sandbox:
    started = start_sandbox(write_scenario(FILES))
    connect(started, monkeypatch)
    return started


def call(endpoint: str, data: dict[str, Any] | None = None) -> requests.Response:
    hook = HttpHook(method="GET", http_conn_id="se_test")
    return hook.run(endpoint, data=data, extra_options={"check_response": False})


def get(endpoint: str, **params: Any) -> dict[str, Any]:
    response = call(endpoint, {"site": "stackoverflow", **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_responses_are_gzip_and_wrapped(sandbox: Sandbox) -> None:
    raw = requests.get(
        f"{sandbox.base_url}/stackexchange/2.3/questions",
        params={"site": "stackoverflow"},
        stream=True,
        timeout=5,
    )
    payload = json.loads(gzip.decompress(raw.raw.read(decode_content=False)))
    decoded = call("/2.3/questions", {"site": "stackoverflow", "pagesize": 2})

    assert raw.headers["Content-Encoding"] == "gzip"
    assert decoded.headers["Content-Encoding"] == "gzip"  # requests decoded it for the hook
    assert set(payload) == {"items", "has_more", "quota_max", "quota_remaining", "page", "page_size"}
    assert payload["quota_max"] == 10_000
    assert decoded.json()["quota_remaining"] == payload["quota_remaining"] - 1
    assert decoded.json()["page_size"] == 2


def test_has_more_paging_by_activity_with_tags(sandbox: Sandbox) -> None:
    pages: list[dict[str, Any]] = []
    page = 1
    while True:
        body = get("/2.3/questions", tagged="mattermost", pagesize=2, page=page)
        pages.append(body)
        if not body["has_more"]:
            break
        page += 1

    ids = [item["question_id"] for body in pages for item in body["items"]]
    assert ids == [2, 6, 5, 3, 1]  # activity desc; #4 is untagged; tags match case-insensitively
    assert [body["has_more"] for body in pages] == [True, True, False]
    assert [body["page"] for body in pages] == [1, 2, 3]
    assert "body" not in pages[0]["items"][0]  # the default filter has no body
    both = get("/2.3/questions", tagged="mattermost;docker", sort="creation", order="asc")
    assert [item["question_id"] for item in both["items"]] == [3, 6]


def test_min_applies_to_the_sort_field_and_fromdate_to_creation(sandbox: Sandbox) -> None:
    active = get("/2.3/questions", tagged="mattermost", sort="activity", min=T0 + 4 * DAY)
    created = get("/2.3/questions", tagged="mattermost", sort="creation", min=T0 + 4 * DAY)
    window = get("/2.3/questions", fromdate=T0 + DAY, todate=T0 + 3 * DAY, sort="creation", order="asc")
    voted = get("/2.3/questions", sort="votes", max=0)

    assert [q["question_id"] for q in active["items"]] == [2, 6, 5]  # #2: created day 1, active day 9
    assert [q["question_id"] for q in created["items"]] == [6, 5]
    assert [q["question_id"] for q in window["items"]] == [2, 3, 4]
    assert sorted(q["question_id"] for q in voted["items"]) == [3, 6]  # score = id % 3


def test_batch_answers_and_comments_in_one_request(sandbox: Sandbox) -> None:
    sandbox.requests_log.clear()

    answers = get("/2.3/questions/2;3;5;999/answers", filter="withbody", sort="creation", order="asc")
    question_comments = get("/2.3/questions/2%3B3/comments")
    answer_comments = get("/2.3/answers/21;23/comments")

    assert [(a["answer_id"], a["question_id"]) for a in answers["items"]] == [(23, 3), (25, 5), (21, 2)]
    assert answers["items"][0]["body"] == "<p>A23</p>"  # filter=withbody adds the body
    assert [c["comment_id"] for c in question_comments["items"]] == [33, 31]  # creation desc
    assert [c["comment_id"] for c in answer_comments["items"]] == [32]
    assert sandbox.requests_log[0]["path"] == "/stackexchange/2.3/questions/2;3;5;999/answers"
    assert len(sandbox.requests_log) == 3


def test_error_bodies(sandbox: Sandbox) -> None:
    no_site = call("/2.3/questions")
    too_many = call(
        "/2.3/questions/" + ";".join(str(n) for n in range(1, 102)) + "/answers", {"site": "stackoverflow"}
    )
    bad_sort = call("/2.3/questions", {"site": "stackoverflow", "sort": "hot"})
    big_page = call("/2.3/questions", {"site": "stackoverflow", "pagesize": 101})

    assert no_site.status_code == 400
    assert no_site.headers["Content-Encoding"] == "gzip"
    assert no_site.json() == {
        "error_id": 400,
        "error_message": "site is required",
        "error_name": "bad_parameter",
    }
    assert too_many.status_code == 400
    assert too_many.json()["error_name"] == "bad_parameter"
    assert "100" in too_many.json()["error_message"]
    assert (bad_sort.status_code, bad_sort.json()["error_message"]) == (400, "sort")
    assert (big_page.status_code, big_page.json()["error_message"]) == (400, "pagesize")
    exactly_100 = call(
        "/2.3/questions/" + ";".join(str(n) for n in range(1, 101)) + "/answers", {"site": "stackoverflow"}
    )
    assert exactly_100.status_code == 200


def test_throttle_fault_and_backoff(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fault = {"service": "stackexchange", "path": "/answers$", "status": 502, "times": 1}
    backoff = [{"path": "/questions$", "backoff": 7, "times": 1}]
    files = {**FILES, "stackexchange/backoff.json": backoff}
    sandbox = start_sandbox(write_scenario(files, faults=[fault]))
    connect(sandbox, monkeypatch)

    throttled = call("/2.3/questions/2/answers", {"site": "stackoverflow"})
    retried = get("/2.3/questions/2/answers")
    first = get("/2.3/questions")
    second = get("/2.3/questions")

    assert throttled.status_code == 502
    assert throttled.json()["error_id"] == 502
    assert throttled.json()["error_name"] == "throttle_violation"
    assert [a["answer_id"] for a in retried["items"]] == [21]
    assert first["backoff"] == 7  # served normally, with the backoff the scenario asked for
    assert len(first["items"]) == len(QUESTIONS)
    assert "backoff" not in second


def test_demo_scenario_serves_stackexchange(monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(DEMO) as sandbox:
        connect(sandbox, monkeypatch)
        questions = get("/2.3/questions", tagged="mattermost", pagesize=100)
        answers = get("/2.3/questions/79835520;79829311;79887001/answers")
        comments = get("/2.3/answers/79835610/comments", filter="withbody")

    # Beyond the 11 written by hand: the triage model's history (all answered, older than 180 days).
    assert len([q for q in questions["items"] if not is_history_id("question", q["question_id"])]) == 11
    assert not questions["has_more"]
    assert {a["answer_id"] for a in answers["items"]} == {79836002, 79835610, 79829977, 79887100}
    assert [c["comment_id"] for c in comments["items"]] == [139822001]
    assert comments["items"][0]["body"]


THREAD = "question.body;question.answers;question.comments;question.comment_count;answer.body;answer.comments;comment.body"


def make_filter(include: str, **params: Any) -> dict[str, Any]:
    response = call("/2.3/filters/create", {"include": include, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_filters_create_needs_no_site_and_its_ids_are_stable(sandbox: Sandbox) -> None:
    sandbox.requests_log.clear()
    made = make_filter(THREAD, base="default", unsafe="false")
    again = make_filter(";".join(reversed(THREAD.split(";"))))
    unsafe = make_filter(THREAD, unsafe="true")
    bad_base = call("/2.3/filters/create", {"include": THREAD, "base": "everything"})
    bad_field = call("/2.3/filters/create", {"include": "question body"})

    (item,) = made["items"]
    assert set(made) == {"items", "has_more", "quota_max", "quota_remaining"}
    assert item["filter"].startswith("!")
    assert item["filter"] == again["items"][0]["filter"]  # the same fields, the same id
    assert item["filter_type"] == "safe"
    assert unsafe["items"][0]["filter_type"] == "unsafe"
    assert set(THREAD.split(";")) <= set(item["included_fields"])
    # The default filter's fields come along: owners (with user_type), dates, acceptance.
    assert {"question.accepted_answer_id", "answer.is_accepted", "shallow_user.user_type"} <= set(
        item["included_fields"]
    )
    assert "answer.comment_count" not in item["included_fields"]
    assert [r["path"] for r in sandbox.requests_log[:3]] == ["/stackexchange/2.3/filters/create"] * 3
    assert "site" not in sandbox.requests_log[0]["query"]
    assert (bad_base.status_code, bad_base.json()["error_message"]) == (400, "base")
    assert bad_field.status_code == 400
    assert bad_field.json()["error_name"] == "bad_parameter"


def test_a_made_filter_inlines_answers_and_comments(sandbox: Sandbox) -> None:
    thread = make_filter(THREAD)["items"][0]["filter"]
    sandbox.requests_log.clear()

    body = get("/2.3/questions", tagged="mattermost", sort="creation", order="asc", filter=thread)
    by_id = {q["question_id"]: q for q in body["items"]}

    assert [r["query"]["filter"] for r in sandbox.requests_log] == [[thread]]
    two, three = by_id[2], by_id[3]
    assert two["body"] == "<p>Body 2</p>"
    assert (two["answer_count"], two["comment_count"]) == (1, 1)
    assert [c["comment_id"] for c in two["comments"]] == [31]
    (answer,) = two["answers"]
    assert (answer["answer_id"], answer["body"]) == (21, "<p>A21</p>")
    assert [(c["comment_id"], c["post_id"], c["body"]) for c in answer["comments"]] == [(32, 21, "Thx")]
    assert "comment_count" not in answer  # not in this filter
    assert [c["comment_id"] for c in three["comments"]] == [33]
    # Empty lists are left out, counts are not; the default fields stay.
    assert not {"answers", "comments"} & set(by_id[1])
    assert (by_id[1]["answer_count"], by_id[1]["comment_count"]) == (0, 0)
    assert by_id[1]["title"] == "Question 1 &amp; more"


def test_excluded_fields_and_the_none_base(sandbox: Sandbox) -> None:
    trimmed = make_filter("question.comment_count", exclude="question.title;question.answer_count")
    bare = make_filter("question.question_id;question.answers;answer.answer_id", base="none")

    shown = get("/2.3/questions/2", filter=trimmed["items"][0]["filter"])["items"][0]
    only = get("/2.3/questions/2", filter=bare["items"][0]["filter"])["items"][0]

    assert not {"title", "answer_count", "body"} & set(shown)
    assert shown["comment_count"] == 1
    assert only == {"question_id": 2, "answers": [{"answer_id": 21}]}


def test_a_filter_made_elsewhere_gets_every_field(sandbox: Sandbox) -> None:
    # Another client's filter, baked in from the real API: unreadable here, so it gets every
    # field the sandbox can add, a superset of what it asked for (Perceval reads "total").
    body = get("/2.3/questions", tagged="mattermost", pagesize=2, filter="Bx0MadeUpstream")
    default = get("/2.3/questions", tagged="mattermost", pagesize=2)

    assert body["total"] == 5
    assert (body["page"], body["page_size"], body["has_more"]) == (1, 2, True)
    first = body["items"][0]
    assert (first["question_id"], first["body"], first["comment_count"]) == (2, "<p>Body 2</p>", 1)
    assert [a["answer_id"] for a in first["answers"]] == [21]
    assert [c["body"] for c in first["answers"][0]["comments"]] == ["Thx"]
    assert "total" not in default
    assert not {"body", "answers", "comments"} & set(default["items"][0])
    assert default["items"][0]["answer_count"] == 1  # counted from the data


def test_inline_caps_leave_counts_true(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    comments = [
        {"comment_id": 40 + n, "post_id": 5, "post_type": "question", "creation_date": T0 + n, "body": "c"}
        for n in range(4)
    ]
    files = {
        **FILES,
        "stackexchange/comments.json": COMMENTS + comments,
        "stackexchange/inline.json": {"question.comments": 2},
    }
    sandbox = start_sandbox(write_scenario(files))
    connect(sandbox, monkeypatch)
    thread = make_filter(THREAD)["items"][0]["filter"]

    question = get("/2.3/questions/5", filter=thread)["items"][0]
    listed = get("/2.3/questions/5/comments", filter=thread, sort="creation", order="asc")

    assert question["comment_count"] == 4
    assert [c["comment_id"] for c in question["comments"]] == [40, 41]  # the oldest two
    assert [c["comment_id"] for c in listed["items"]] == [40, 41, 42, 43]  # the method is not capped


def test_a_bad_inline_file_names_itself(write_scenario: Callable[..., Path]) -> None:
    root = write_scenario({**FILES, "stackexchange/inline.json": {"question.votes": 2}})
    with pytest.raises(ScenarioError, match=r"stackexchange/inline.json: unknown list 'question.votes'"):
        Sandbox(root)


def test_a_comment_without_post_type_is_served_under_its_post(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The default filter leaves "post_type" out; a comment copied from it still belongs to its post.
    comments = [{key: value for key, value in c.items() if key != "post_type"} for c in COMMENTS]
    started = start_sandbox(write_scenario({**FILES, "stackexchange/comments.json": comments}))
    connect(started, monkeypatch)

    assert [c["comment_id"] for c in get("/2.3/answers/21;23/comments")["items"]] == [32]
    assert [c["comment_id"] for c in get("/2.3/questions/2;3/comments")["items"]] == [33, 31]


def test_a_question_written_without_tags_is_served_with_none(
    write_scenario: Callable[..., Path],
    start_sandbox: Callable[[Path], Sandbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The API always sends a question's tags; a hand-written question that leaves them out has none.
    bare = {k: v for k, v in QUESTIONS[0].items() if k != "tags"}
    started = start_sandbox(write_scenario({**FILES, "stackexchange/questions.json": [bare]}))
    connect(started, monkeypatch)

    [served] = get("/2.3/questions")["items"]
    assert served["tags"] == []
    assert get("/2.3/questions", tagged="mattermost")["items"] == []


def test_a_comment_whose_post_type_contradicts_its_post_names_itself(
    write_scenario: Callable[..., Path],
) -> None:
    comments = [*COMMENTS, {"comment_id": 34, "post_id": 21, "post_type": "question", "creation_date": T0}]
    root = write_scenario({**FILES, "stackexchange/comments.json": comments})
    with pytest.raises(
        ScenarioError,
        match=r'^stackexchange/comments.json: item 3 has "post_type" \'question\', but post 21 is in answers.json$',
    ):
        Sandbox(root)
