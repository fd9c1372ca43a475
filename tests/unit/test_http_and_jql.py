"""Rate-limit waits from every upstream's headers, and the JQL the Jira source sends."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta, timezone

import pytest

from community_monitoring.sources.http import (
    Call,
    RawResponse,
    relative_endpoint,
    retry_after_seconds,
    scrub_secrets,
)
from community_monitoring.sources.jira import build_jql
from community_monitoring.sources.stackexchange import stackexchange_rate_limit

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "7"}, None, 7.0),
        ({"retry-after": "0"}, None, 0.0),
        # UserVoice: the epoch second its per-minute limit ends, not a number of seconds.
        ({"Retry-After": str(int(NOW) + 3)}, None, 3.0),
        ({"Retry-After": str(int(NOW) - 5)}, None, 0.0),
        ({}, {"extras": {"wait_seconds": 12}}, 12.0),
        ({}, {"backoff": 3}, 3.0),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 30)}, None, 30.0),
        ({"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "45"}, None, 45.0),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-11-18T09:10Z"}, None, 600.0),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "soon"}, None, None),
        ({"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "45"}, None, None),
        ({}, None, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str], body: object, expected: float | None) -> None:
    assert retry_after_seconds(headers, body, now=NOW) == expected


def test_next_page_url_becomes_an_endpoint() -> None:
    assert (
        relative_endpoint("http://127.0.0.1:9/discourse/latest.json?page=2")
        == "/discourse/latest.json?page=2"
    )


@pytest.mark.parametrize(
    ("base", "since", "expected"),
    [
        ("project = MM", None, "project = MM ORDER BY updated DESC"),
        (
            "project = MM",
            datetime(2026, 11, 18, 10, 30, tzinfo=timezone(timedelta(hours=1))),
            # 09:30 UTC, twelve hours earlier: Jira reads it in the API user's zone (UTC-12 at most).
            'project = MM AND updated >= "2026-11-17 21:30" ORDER BY updated DESC',
        ),
        (
            "project = MM AND labels = UserVoice ORDER BY key",
            datetime(2026, 10, 19, 9, 5, 59, tzinfo=UTC),
            'project = MM AND labels = UserVoice AND updated >= "2026-10-18 21:05" ORDER BY updated DESC',
        ),
        ("project = MM order by created ASC", None, "project = MM ORDER BY updated DESC"),
    ],
)
def test_build_jql(base: str, since: datetime | None, expected: str) -> None:
    assert build_jql(base, since) == expected


def test_empty_jql_is_refused_with_the_key() -> None:
    with pytest.raises(ValueError, match=r"'jira\.jql' is empty"):
        build_jql("  ", None)


def test_a_short_secret_is_hidden_where_it_stands_alone_not_inside_every_word() -> None:
    """A one-to-four character password (Airflow's own masker skips those) replaced everywhere made
    every error unreadable ("i***ems of earlier pages", "/repos/ma***ermos***/..."); where it stands
    as a value of its own it is still hidden."""
    error = Call("github", "GET", "/repos/mattermost/mattermost/issues", secrets=("t",)).error(
        200, "page 2 holds only items of earlier pages"
    )
    assert str(error) == (
        "github: GET /repos/mattermost/mattermost/issues answered 200: page 2 holds only items of earlier pages"
    )
    assert scrub_secrets("token=t&per_page=100 'ab1' (ab1) cab1e ab12", ["t", "ab1"]) == (
        "token=***&per_page=100 '***' (***) cab1e ab12"
    )
    assert scrub_secrets("Bearer t", ["t"]) == "Bearer ***"
    # From five characters on, a secret is hidden wherever it is, inside a word too.
    assert scrub_secrets("xxs3cr3tyy s3cr3t", ["s3cr3t"]) == "xx***yy ***"


@pytest.mark.parametrize(
    "echoed",
    [
        "a\\/b+c=d&e",  # JSON with its slashes escaped (PHP, many gateways)
        "a/b+c=d\\u0026e",  # Rails' to_json (Discourse): & < > as \u escapes
        "a\\/b+c=d\\u0026e",
        "a%2Fb%2Bc%3Dd%26e",  # URL-encoded in an echoed URL or form body
        "a%2fb%2bc%3dd%26e",
        "a/b%2Bc%3Dd%26e",  # encoded as a query value (the slash kept)
        "a%2Fb+c%3Dd%26e",
        "a/b+c=d&amp;e",  # an HTML error page
        "a&#x2F;b+c=d&amp;e",  # Rack's escape_html writes / as a numeric entity
        "a&#47;b&#43;c&#61;d&#38;e",  # decimal numeric entities
        "a&#X2f;b+c=d&#x26;e",
    ],
)
def test_a_secret_echoed_escaped_or_url_encoded_is_hidden(echoed: str) -> None:
    """An upstream that echoes the request in its error escapes it as its format wants: the secret
    'a/b+c=d&e' came back as 'a\\/b+c=d\\u0026e' or 'a%2Fb%2Bc%3Dd%26e', which the scrubber did not
    know, so the error and the failure alert showed the credential."""
    secret = "a/b+c=d&e"
    call = Call("uservoice", "GET", "/api/v2/admin/suggestions", secrets=(secret,))
    error = call.error(400, f'{{"error": "bad token {echoed}"}}')
    assert "bad token ***" in str(error), str(error)
    for part in ("a/b", "a\\/b", "a%2", "d&e", "d\\u0026e", "%26e", "&#"):
        assert part not in str(error)


@pytest.mark.parametrize(
    "echoed", ["P\\u00e4ssw\\u00f6rd2024", "P%C3%A4ssw%C3%B6rd2024", "P%c3%a4ssw%c3%b6rd2024"]
)
def test_a_secret_of_letters_beyond_ascii_echoed_escaped_is_hidden(echoed: str) -> None:
    """A secret of letters and digits alone was only replaced as written: one with a letter beyond
    ASCII ('Pässwörd2024') echoed as JSON writes it by default ('P\\u00e4…') or percent-encoded
    ('P%C3%A4…') stood in the error."""
    assert scrub_secrets(f"bad password {echoed}.", ["Pässwörd2024"]) == "bad password ***."


def test_a_secret_with_a_character_past_the_bmp_echoed_as_an_upper_case_pair_is_hidden() -> None:
    """JSON writes a character past U+FFFF as its UTF-16 pair, some writers in upper case."""
    assert scrub_secrets("bad key k\\uD83D\\uDE00ey!", ["k\U0001f600ey!"]) == "bad key ***"


def _alarm_after(seconds: int) -> None:
    def stop(*_: object) -> None:
        raise TimeoutError(f"still scrubbing after {seconds}s")

    signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)


# A long secret that repeats itself ("ab/" 800 times): each near copy in an answer is read to its end
# from each "ab" in it.
LONG_SECRET = "ab/" * 800


def test_an_excerpt_of_a_long_answer_full_of_near_copies_of_a_long_secret_is_scrubbed_in_linear_time() -> (
    None
):
    """The excerpt scrubbed the whole answer before cutting it: near copies of a 2.4 KB secret that
    repeats itself, filling a 2.4 MB error page, took 8 s (a 1.2 KB one in 1.2 MB: 2 to 5 s), each
    from each place the secret's start stood. Only the start that can be shown is scrubbed now."""
    call = Call("uservoice", "GET", "/api/v2/admin/suggestions", secrets=(LONG_SECRET,))
    body = (LONG_SECRET[:-1] + "x") * 1000
    _alarm_after(3)
    try:
        excerpt = call.excerpt(RawResponse(500, {}, body))
    finally:
        signal.alarm(0)
    assert excerpt == " ".join(body.split())[:200]


@pytest.mark.parametrize("before", [0, 1_000, 1_999, 2_000, 29_000, 31_000])
def test_a_secret_echoed_where_the_scrubbed_start_ends_shows_no_part_of_it(before: int) -> None:
    """An echo across the end of the scrubbed start (after a run of other echoes, which take little
    room once hidden) shows none of its characters."""
    secret = "p/ss-" + "w0rd" * 200
    echoes = ("\\/".join(secret.split("/")) + " ") * (before // 100)
    body = echoes + "x" * (before % 100) + secret.replace("/", "%2F") + " end"
    call = Call("uservoice", "GET", "/api/v2/admin/suggestions", secrets=(secret,))
    excerpt = call.excerpt(RawResponse(500, {}, body))
    for part in ("p/ss", "p\\/ss", "p%2Fss", "w0rdw0rd"):
        assert part not in excerpt, excerpt


@pytest.mark.parametrize(
    ("message", "wait"),
    [
        ("1" * 65_536 + " requests", 60.0),  # a long run of digits naming no seconds
        ("x" + "0" * 65_536 + "7 seconds", 7.0),
        ("more requests available in 79 seconds", 79.0),
        ("in 5seconds, 7 second", 5.0),
    ],
)
def test_a_stack_exchange_throttle_message_of_many_digits_is_read_in_linear_time(
    message: str, wait: float
) -> None:
    """The wait a throttle_violation names was read from each digit of a run of them to the run's
    end again: an error_message of 65,536 digits took 68 s (the API's message is upstream text)."""
    body = json.dumps({"error_id": 502, "error_name": "throttle_violation", "error_message": message})
    _alarm_after(5)
    try:
        limit = stackexchange_rate_limit(RawResponse(400, {"Content-Type": "application/json"}, body))
    finally:
        signal.alarm(0)
    assert limit is not None
    assert limit.wait == wait
