"""The pieces the sources share: item checks, problems, rate-limit forms, secrets, transport errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import NewConnectionError, ProtocolError

from community_monitoring.records import DELETED_USER
from community_monitoring.sources import ItemProblem, discourse, gitlab, stackexchange
from community_monitoring.sources.github import GithubComment, GithubIssue, github_rate_limit, normalise_issue
from community_monitoring.sources.http import (
    ApiClient,
    RateLimit,
    RawResponse,
    describe_transport_error,
    origin_label,
    request_never_sent,
    same_origin,
    sends_in_clear,
    upstream_rate_limit,
)
from community_monitoring.sources.items import ItemChecker, time_of
from community_monitoring.sources.stackexchange import stackexchange_rate_limit

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)


def answer(status: int, body: Any = None, **headers: str) -> RawResponse:
    text = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
    return RawResponse(status, CaseInsensitiveDict(headers), text)


# ----- items ----------------------------------------------------------------------------------------


def issue(**changes: Any) -> dict[str, Any]:
    raw = {
        "number": 7,
        "title": "Crash",
        "created_at": "2026-11-17T10:00:00Z",
        "state": "open",
        "html_url": "https://github.com/o/r/issues/7",
        "user": {"login": "ana", "type": "User"},
        "labels": [{"name": "bug"}],
        "author_association": "NONE",
    }
    raw.update(changes)
    return {key: value for key, value in raw.items() if value is not ...}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (issue(labels="bug"), "field 'labels': Input should be a valid list"),
        (issue(labels=[7]), "field 'labels.0': Input should be a valid dictionary"),
        (issue(created_at=...), "field 'created_at' is missing"),
        (issue(created_at="last week"), "field 'created_at': Value error, not an ISO-8601 time"),
        (issue(created_at=1763370000), "field 'created_at': Value error, not an ISO-8601 time"),
        (issue(number="7"), "field 'number': Input should be a valid integer"),
        (issue(user={"id": 3}), "field 'user.login' is missing"),
        # Whether the author is staff or a bot decides every list: an issue without its author is
        # not what GitHub sends (a deleted account comes as null, or as the "ghost" user).
        (issue(user=...), "field 'user' is missing"),
        # Open or not decides every list; every message links the issue.
        (issue(state=...), "field 'state' is missing"),
        (issue(html_url=...), "field 'html_url' is missing"),
        ("not an issue", "not an object but str"),
    ],
)
def test_a_bad_item_is_named_with_what_was_wrong(raw: Any, problem: str) -> None:
    problems: list[ItemProblem] = []
    checker = ItemChecker("github", problems)
    assert checker.check(GithubIssue, raw, "o/r#7") is None
    [found] = problems
    assert (found.channel, found.item) == ("github", "o/r#7")
    assert found.problem.startswith(problem)
    assert "Crash" not in found.problem  # the item's text stays out of the problem


def test_a_good_item_passes_and_keeps_its_types() -> None:
    checker = ItemChecker("github")
    checked = checker.check(GithubIssue, issue(), "o/r#7")
    assert checked is not None
    assert checked.created_at == datetime(2026, 11, 17, 10, tzinfo=UTC)
    assert [label.name for label in checked.labels] == ["bug"]
    assert checker.problems == []


def test_labels_in_each_documented_form_are_read() -> None:
    # GitHub's issue schema gives a label as oneOf: its bare name, or an object whose properties
    # (name included) are all optional. A hand-trimmed file may use either.
    checker = ItemChecker("github")
    raw = issue(labels=["Type/Question", {"name": "bug", "color": "f29513"}, {"id": 3}])
    checked = checker.check(GithubIssue, raw, "o/r#7")
    assert checker.problems == []
    assert checked is not None
    assert normalise_issue(checked, "o/r").labels == ("Type/Question", "bug")


def test_a_deleted_author_is_null_and_reads_as_ghost() -> None:
    checker = ItemChecker("github")
    checked = checker.check(GithubIssue, issue(user=None), "o/r#7")
    assert checked is not None
    assert checked.user is None
    assert normalise_issue(checked, "o/r").author == "ghost"
    comment = {
        "id": 9,
        "issue_url": "https://api.github.com/repos/o/r/issues/7",
        "created_at": "2026-11-17T11:00:00Z",
    }
    assert checker.check(GithubComment, {**comment, "user": None}, "o/r#7 comment 9") is not None
    assert checker.problems == []
    assert checker.check(GithubComment, comment, "o/r#7 comment 9") is None
    assert [p.problem for p in checker.problems] == ["field 'user' is missing"]


# Each source's item with its author as the real API sends it: GitLab moves a deleted account's
# issues and notes to its "ghost" user and always sends ``author``; every Discourse post serializer
# sends ``username``, null once the account is gone; Stack Exchange leaves ``owner`` out where a post
# has none, and a shallow_user always carries ``user_type`` ("does_not_exist" for a deleted account).
GITLAB_ISSUE = {
    "iid": 3,
    "title": "Crash",
    "created_at": "2026-11-17T10:00:00Z",
    "state": "opened",
    "web_url": "https://gitlab.com/g/p/-/issues/3",
    "author": {"username": "ana"},
    "labels": [],
}
GITLAB_NOTE = {
    "id": 9,
    "created_at": "2026-11-17T11:00:00Z",
    "body": "Same here",
    "author": {"username": "ana"},
}
FORUM_POST = {
    "id": 5,
    "topic_id": 1,
    "post_number": 2,
    "created_at": "2026-11-17T11:00:00Z",
    "username": "ana",
}
SO_QUESTION = {
    "question_id": 4,
    "creation_date": 1763370000,
    "title": "Crash",
    "tags": ["mattermost"],
    "owner": {"user_id": 7, "user_type": "registered", "display_name": "Ana"},
}
SO_ANSWER = {"answer_id": 8, "question_id": 4, "creation_date": 1763370000, "owner": SO_QUESTION["owner"]}
SO_COMMENT = {"comment_id": 6, "post_id": 4, "creation_date": 1763370000, "owner": SO_QUESTION["owner"]}


OWNER_UNNAMED = (
    'field \'owner\': Value error, names nobody (no "display_name", and "user_type" is not "does_not_exist")'
)


def without(raw: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k != key}


def _gitlab_issue_author(raw: dict[str, Any]) -> str:
    return gitlab.normalise_issue(raw, "g/p").author


def _gitlab_note_author(raw: dict[str, Any]) -> str:
    note = gitlab.normalise_note(raw)
    assert note is not None
    return note.author


def _so_question_author(raw: dict[str, Any]) -> str:
    return stackexchange.normalise_question(raw, [], []).author


AUTHOR_READERS: dict[str, tuple[str, type[Any], Callable[[dict[str, Any]], str]]] = {
    "gitlab issue": ("gitlab", gitlab.GitlabIssue, _gitlab_issue_author),
    "gitlab note": ("gitlab", gitlab.GitlabNote, _gitlab_note_author),
    "forum post": ("forum", discourse.DiscoursePost, lambda raw: discourse.normalise_reply(raw).author),
    "so question": ("stackoverflow", stackexchange.Question, _so_question_author),
    "so answer": (
        "stackoverflow",
        stackexchange.Answer,
        lambda raw: stackexchange.normalise_answer(raw).author,
    ),
    "so comment": (
        "stackoverflow",
        stackexchange.Comment,
        lambda raw: stackexchange.normalise_comment(raw).author,
    ),
}


@pytest.mark.parametrize(
    ("kind", "raw", "problem"),
    [
        ("gitlab issue", without(GITLAB_ISSUE, "author"), "field 'author' is missing"),
        ("gitlab note", without(GITLAB_NOTE, "author"), "field 'author' is missing"),
        ("forum post", without(FORUM_POST, "username"), "field 'username' is missing"),
        # An owner that names nobody and does not say the account is gone: never read as deleted.
        ("so question", {**SO_QUESTION, "owner": {"user_id": 7}}, OWNER_UNNAMED),
        ("so answer", {**SO_ANSWER, "owner": {"user_id": 7, "user_type": "registered"}}, OWNER_UNNAMED),
        (
            "so comment",
            {**SO_COMMENT, "owner": {"user_type": "registered", "display_name": ""}},
            OWNER_UNNAMED,
        ),
    ],
)
def test_an_author_missing_where_the_api_always_sends_one_is_an_item_problem(
    kind: str, raw: dict[str, Any], problem: str
) -> None:
    """Who wrote it decides the staff and bot rules: an item without it is named and the run red, as
    on GitHub, never listed as a deleted account's."""
    channel, model, _ = AUTHOR_READERS[kind]
    checker = ItemChecker(channel)
    assert checker.check(model, raw, kind) is None
    assert [(p.channel, p.item, p.problem) for p in checker.problems] == [(channel, kind, problem)]


@pytest.mark.parametrize(
    ("kind", "raw", "author"),
    [
        ("gitlab issue", GITLAB_ISSUE, "ana"),
        (
            "gitlab issue",
            {**GITLAB_ISSUE, "author": {"id": 1, "username": "ghost", "name": "Ghost User"}},
            "ghost",
        ),
        ("gitlab issue", {**GITLAB_ISSUE, "author": None}, "ghost"),
        ("gitlab note", GITLAB_NOTE, "ana"),
        (
            "gitlab note",
            {**GITLAB_NOTE, "author": {"id": 1, "username": "ghost", "name": "Ghost User"}},
            "ghost",
        ),
        ("gitlab note", {**GITLAB_NOTE, "author": None}, "ghost"),
        ("forum post", FORUM_POST, "ana"),
        ("forum post", {**FORUM_POST, "username": None}, DELETED_USER),
        ("so question", SO_QUESTION, "Ana"),
        ("so question", without(SO_QUESTION, "owner"), DELETED_USER),
        (
            "so question",
            {**SO_QUESTION, "owner": {"user_type": "does_not_exist", "display_name": "user123"}},
            DELETED_USER,
        ),
        ("so question", {**SO_QUESTION, "owner": {"user_type": "does_not_exist"}}, DELETED_USER),
        ("so answer", without(SO_ANSWER, "owner"), DELETED_USER),
        ("so answer", {**SO_ANSWER, "owner": {"user_type": "does_not_exist"}}, DELETED_USER),
        ("so comment", without(SO_COMMENT, "owner"), DELETED_USER),
        (
            "so comment",
            {**SO_COMMENT, "owner": {"user_type": "does_not_exist", "display_name": "x"}},
            DELETED_USER,
        ),
    ],
)
def test_the_real_deleted_account_shapes_still_read_as_deleted(
    kind: str, raw: dict[str, Any], author: str
) -> None:
    channel, model, read_author = AUTHOR_READERS[kind]
    checker = ItemChecker(channel)
    assert checker.check(model, raw, kind) is not None
    assert checker.problems == []
    assert read_author(raw) == author


@pytest.mark.parametrize("kind", ["so question", "so answer", "so comment"])
def test_an_owner_without_its_user_type_from_a_configured_filter_reads_as_the_person_it_names(
    kind: str,
) -> None:
    """The connection's ``filter`` is the operator's: one made without ``shallow_user.user_type``
    sends owners without it. The name and account id say who wrote the post (the staff roster goes
    by id); only ``does_not_exist`` or a missing owner is a deleted account."""
    channel, model, read_author = AUTHOR_READERS[kind]
    raw = {**{"so question": SO_QUESTION, "so answer": SO_ANSWER, "so comment": SO_COMMENT}[kind]}
    raw["owner"] = {"user_id": 7, "display_name": "Ana"}
    checker = ItemChecker(channel)
    assert checker.check(model, raw, kind) is not None
    assert checker.problems == []
    assert read_author(raw) == "Ana"
    assert stackexchange._owner_id(raw) == "7"


def test_a_normaliser_that_fails_names_the_item_instead_of_crashing() -> None:
    checker = ItemChecker("gitlab")

    def normalise(raw: dict[str, Any]) -> None:
        raise KeyError("web_url")

    assert checker.build("acme/widgets#3", normalise, {}) is None
    [problem] = checker.problems
    assert problem == ItemProblem("gitlab", "acme/widgets#3", "could not be read: KeyError: 'web_url'")


def test_the_same_problem_is_named_once() -> None:
    checker = ItemChecker("forum")
    checker.report("t/1", "field 'id' is missing")
    checker.report("t/1", "field 'id' is missing")
    assert len(checker.problems) == 1


def test_time_of_is_lenient() -> None:
    assert time_of({"created_at": "2026-11-18T09:00:00Z"}, "created_at") == NOW
    assert time_of({"creation_date": int(NOW.timestamp())}, "creation_date") == NOW
    assert time_of({"created_at": "soon"}, "created_at") is None
    assert time_of("not a dict", "created_at") is None


# ----- rate limits in each service's form -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (answer(429, {"message": "slow"}, **{"Retry-After": "30"}), RateLimit(30.0)),
        (answer(429, "busy"), RateLimit(None)),
        (answer(403, {"message": "Forbidden"}), None),
        (
            answer(403, {"message": "x"}, **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": "12"}),
            RateLimit(12.0),
        ),
        (answer(503, "down", **{"Retry-After": "5"}), RateLimit(5.0)),
        (answer(503, "down"), None),  # retried as a 5xx, with the exponential backoff
        (answer(429, {"extras": {"wait_seconds": 9}}), RateLimit(9.0)),
        (answer(400, {"error_id": 502}), None),
    ],
)
def test_common_rate_limit_forms(raw: RawResponse, expected: RateLimit | None) -> None:
    assert upstream_rate_limit(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            answer(403, {"message": "API rate limit exceeded for user"}, **{"Retry-After": "7"}),
            RateLimit(7.0),
        ),
        (answer(429, {"message": "too many"}), RateLimit(None)),
        (answer(403, {"message": "You have exceeded a secondary rate limit."}), RateLimit(60.0)),
        (answer(403, {"message": "API rate limit exceeded for 1.2.3.4."}), RateLimit(None)),
        (answer(403, {"message": "Resource not accessible by integration"}), None),
    ],
)
def test_github_rate_limit_forms(raw: RawResponse, expected: RateLimit | None) -> None:
    assert github_rate_limit(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            answer(400, {"error_id": 502, "error_message": "more requests available in 17 seconds"}),
            RateLimit(17.0),
        ),
        (answer(400, {"error_id": 502, "error_message": "slow down", "backoff": 3}), RateLimit(3.0)),
        # No wait named ("Violation of backoff parameter"): a minute, never a quick retry.
        (answer(400, {"error_id": 502, "error_name": "throttle_violation"}), RateLimit(60.0)),
        (answer(400, {"error_id": 400, "error_name": "bad_parameter"}), None),
    ],
)
def test_stack_exchange_throttle_forms(raw: RawResponse, expected: RateLimit | None) -> None:
    assert stackexchange_rate_limit(raw) == expected


# ----- transport errors: was anything sent? ---------------------------------------------------------


def test_a_refused_connection_was_never_sent() -> None:
    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    error = requests.ConnectionError(refused)
    assert request_never_sent(error)
    assert request_never_sent(requests.exceptions.ConnectTimeout())


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104))), "reset"),
        (requests.exceptions.ReadTimeout("HTTPConnectionPool(host='x'): /hooks/secret"), "read timeout"),
        (requests.exceptions.ChunkedEncodingError("broken"), "connection failed (ChunkedEncodingError)"),
    ],
)
def test_an_error_after_sending_may_have_been_processed(error: Exception, words: str) -> None:
    assert not request_never_sent(error)
    description = describe_transport_error(error)
    assert words in description
    assert "secret" not in description  # never the URL


def test_origins() -> None:
    assert same_origin("http://h:80/a", "http://h/b")
    assert not same_origin("http://h:1/a", "http://h:2/a")
    assert not same_origin("http://h/a", "https://h/a")
    assert origin_label("https://user:pw@example.com:8443/path?token=x") == "https://example.com:8443"


@pytest.mark.parametrize(
    ("url", "in_clear"),
    [
        ("http://forum.example.com", True),
        ("HTTP://forum.example.com:8080/discourse", True),
        ("https://forum.example.com", False),
        ("http://127.0.0.1:8765", False),  # this machine: the sandbox, a local proxy
        ("http://localhost:8065", False),
        ("http://[::1]:8065", False),
        ("http://127.0.0.2", False),
    ],
)
def test_what_crosses_a_network_unencrypted(url: str, in_clear: bool) -> None:
    assert sends_in_clear(url) is in_clear


@pytest.mark.parametrize(
    ("host", "warned"), [("forum.example.com", True), ("https://forum.example.com", False)]
)
def test_credentials_over_plain_http_are_warned_of_naming_the_connection(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, host: str, warned: bool
) -> None:
    """Airflow reads a host written without a scheme as http: the key would cross the network in clear."""
    conn = {
        "conn_type": "http",
        "host": host,
        "extra": {"Api-Key": "discourse-key-456", "Api-Username": "system"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_FORUM_PLAIN", json.dumps(conn))
    with caplog.at_level("WARNING", logger="community_monitoring.sources.http"):
        ApiClient("forum_plain", "discourse").base_path()  # builds the session; sends nothing
    warnings = [r.getMessage() for r in caplog.records if "plain http" in r.getMessage()]
    assert warnings == (
        [
            "discourse: connection 'forum_plain' sends its credentials over plain http to http://forum.example.com:80; "
            "write https:// in its host"
        ]
        if warned
        else []
    )
    assert "discourse-key-456" not in caplog.text


def test_a_mattermost_webhook_over_plain_http_is_warned_of_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A webhook's id is its credential (whoever has it posts to the channel) and travels in the
    path, not in a header or the session's auth: a host without https:// sends it in clear too."""
    from community_monitoring.mattermost import MattermostWebhook

    conn = {"conn_type": "http", "host": "chat.example.com", "password": "hook-id-789"}
    monkeypatch.setenv("AIRFLOW_CONN_MM_PLAIN", json.dumps(conn))
    webhook = MattermostWebhook("mm_plain")
    with caplog.at_level("WARNING", logger="community_monitoring.sources.http"):
        webhook._resolve()
        webhook._api.base_path()  # builds the session, as the first post does; sends nothing
    warnings = [r.getMessage() for r in caplog.records if "plain http" in r.getMessage()]
    assert warnings == [
        "mattermost (mm_plain): connection 'mm_plain' sends its credentials over plain http to "
        "http://chat.example.com:80; write https:// in its host"
    ]
    assert "hook-id-789" not in caplog.text


# ----- secrets of a connection go to the masker -----------------------------------------------------


def test_an_api_client_masks_its_connection_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    masked: list[Any] = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", lambda value, name=None: masked.append(value))
    conn = {
        "conn_type": "http",
        "host": "http://127.0.0.1:9",
        "login": "bot@example.com",
        "password": "jira-api-token-123",
        "extra": {"Api-Key": "discourse-key-456", "Api-Username": "system"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_MASKED", json.dumps(conn))
    ApiClient("masked", "jira").base_path()  # builds the session; sends nothing
    assert "jira-api-token-123" in masked
    assert "discourse-key-456" in masked
    assert "system" not in masked  # a user name is no secret
