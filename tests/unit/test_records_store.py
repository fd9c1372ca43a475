"""The records' JSON-lines form (msgspec) and the run store that hands them from task to task."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from community_monitoring.pipeline.store import RunStore
from community_monitoring.records import (
    JiraTicket,
    Post,
    Release,
    Reply,
    category_names,
    read_records,
    record_to_dict,
    ticket_from_dict,
    write_record_lines,
    write_records,
)
from community_monitoring.sources import Fetched, ItemProblem

T = datetime(2026, 11, 18, 9, tzinfo=UTC)


def post(number: int, created: datetime, **extra: object) -> Post:
    return Post(
        channel="github",
        source_id=f"o/r#{number}",
        url=f"https://github.com/o/r/issues/{number}",
        title=f"Crash on upgrade ünïcode {number}",
        author="someone",
        created_at=created,
        number=number,
        **extra,  # type: ignore[arg-type]
    )


FULL = post(
    1,
    T - timedelta(hours=3),
    body="Steps:\n1. upgrade",
    state="closed",
    closed_at=T - timedelta(hours=1),
    updated_at=T - timedelta(minutes=5, microseconds=250),
    labels=("Bug", "Area/Server"),
    author_platform_staff=True,
    replies=(
        Reply("10", "helper", T - timedelta(hours=2), body="Which version?", author_is_bot=False),
        Reply("11", "bot", T - timedelta(hours=2), kind="note", author_is_bot=True),
    ),
)
TICKET = JiraTicket(
    key="MM-1",
    url="https://jira.example/browse/MM-1",
    summary="Pin messages",
    status="Done",
    status_category="Done",
    resolution=None,
    fix_versions=("v11.2",),
    labels=(),
    linked_urls=("https://uv.example/suggestions/123-pin",),
    updated_at="2026-11-17T10:00:00.000+0000",
)


def lines_of(records: list[Post]) -> bytes:
    stream = io.BytesIO()
    write_record_lines(records, stream)
    return stream.getvalue()


def test_a_post_with_replies_comes_back_equal_with_utc_times() -> None:
    [decoded] = read_records(io.BytesIO(lines_of([FULL])))
    assert decoded == FULL
    assert decoded.created_at.tzinfo is UTC
    assert isinstance(decoded.labels, tuple)
    assert isinstance(decoded.replies[0], Reply)


def test_the_line_keeps_the_field_names_sorted_and_readable() -> None:
    line = lines_of([FULL]).decode("utf-8")
    assert line.endswith("\n")
    assert line.count("\n") == 1
    data = json.loads(line)
    assert list(data) == sorted(data)
    assert data["created_at"] == "2026-11-18T06:00:00Z"
    assert data["replies"][0]["reply_id"] == "10"
    assert "ünïcode" in line  # UTF-8, not \\u escapes


def test_a_line_written_by_the_earlier_json_dumps_form_still_reads() -> None:
    # What json.dumps(asdict(post) with isoformat() times, sort_keys=True) wrote before msgspec.
    old = {
        "channel": "forum",
        "source_id": "7",
        "url": "https://forum.example/t/7",
        "title": "Old",
        "author": "a",
        "created_at": "2026-11-17T10:00:00.123456+00:00",
        "closed_at": None,
        "labels": ["x"],
        "replies": [{"reply_id": "1", "author": "b", "created_at": "2026-11-17T11:00:00+00:00"}],
    }
    line = json.dumps(old, ensure_ascii=False, sort_keys=True) + "\n"
    [decoded] = read_records(io.StringIO(line))
    assert decoded.created_at == datetime(2026, 11, 17, 10, 0, 0, 123456, tzinfo=UTC)
    assert decoded.labels == ("x",)
    assert decoded.replies[0].created_at == datetime(2026, 11, 17, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad_line",
    ['{"channel": "github"}', "{not json", '{"channel": 1, "source_id": "x"}'],
    ids=["missing fields", "not JSON", "wrong type"],
)
def test_a_bad_line_is_named_by_its_number(bad_line: str) -> None:
    text = lines_of([FULL]).decode() + "\n" + bad_line + "\n"
    with pytest.raises(ValueError, match=r"^line 3: not a record"):
        list(read_records(io.StringIO(text)))


def test_created_after_skips_older_posts_unbuilt_and_still_names_bad_lines() -> None:
    day_start = T - timedelta(days=1)
    posts = [post(n, T - timedelta(hours=h)) for n, h in ((1, 30), (2, 24), (3, 23), (4, 1))]
    kept = list(read_records(io.BytesIO(lines_of(posts)), Post, created_after=day_start))
    assert [p.number for p in kept] == [3, 4]  # created exactly at T − 1 day is not after it
    with pytest.raises(ValueError, match="line 2"):
        list(read_records(io.StringIO(lines_of(posts[:1]).decode() + '{"title": "x"}\n'), Post, day_start))


def test_text_streams_and_dict_converters_still_work() -> None:
    stream = io.StringIO()
    assert write_records([TICKET], stream) == 1
    stream.seek(0)
    assert list(read_records(stream, ticket_from_dict)) == [TICKET]
    # An older writer's null list reads as empty.
    assert ticket_from_dict({**record_to_dict(TICKET), "labels": None}).labels == ()


def test_the_run_store_round_trips_a_channel(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    release = Release("v11.1.0", "v11.1.0", T - timedelta(days=8), url="https://github.com/r/1")
    fetched = Fetched(
        posts=(post(n, T - timedelta(days=n)) for n in range(1, 4)),
        tickets=iter([TICKET]),
        releases=[release],
        problems=[ItemProblem("github", "o/r#9", "field 'title' is missing", "o/r#9")],
    )
    counts = store.save_channel("github", fetched)
    assert counts == {"posts": 3, "tickets": 1, "releases": 1, "problems": 1}
    assert store.channel_counts("github") == counts
    assert [p.number for p in store.posts(["github", "forum"])] == [1, 2, 3]  # forum: never written
    assert [p.number for p in store.posts(["github"], created_after=T - timedelta(days=2))] == [1]
    assert store.tickets("github") == [TICKET]
    assert store.releases("github") == [release]
    assert store.problems("github") == [
        {"channel": "github", "item": "o/r#9", "problem": "field 'title' is missing", "post_id": "o/r#9"}
    ]
    assert not list(tmp_path.rglob("*.partial"))


def test_the_run_store_names_the_file_and_line_of_a_bad_record(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.save_channel("forum", Fetched(posts=[post(1, T)]))
    path = tmp_path / "channels" / "forum.posts.jsonl"
    path.write_bytes(path.read_bytes() + b'{"title": "half a record"}\n')
    with pytest.raises(ValueError, match=r"forum\.posts\.jsonl: line 2: not a record"):
        list(store.posts(["forum"]))


@pytest.mark.parametrize("kind", ["posts", "tickets"])
def test_a_channel_file_lost_after_its_extract_finished_is_an_error_not_an_empty_channel(
    tmp_path: Path, kind: str
) -> None:
    store = RunStore(tmp_path)
    store.save_channel("jira", Fetched(posts=[post(1, T)], tickets=iter([TICKET])))
    (tmp_path / "channels" / f"jira.{kind}.jsonl").unlink()
    read = {"posts": lambda: list(store.posts(["jira"])), "tickets": lambda: store.tickets("jira")}[kind]
    with pytest.raises(
        FileNotFoundError, match=rf"jira\.{kind}\.jsonl is missing although the extract of jira"
    ):
        read()
    # A channel whose extract never finished has no records: the run names it missing instead.
    assert list(store.posts(["forum"])) == []
    assert store.tickets("forum") == []


@pytest.mark.parametrize(
    ("category", "nested", "names"),
    [
        ("", True, ()),
        ("Troubleshooting", True, ("Troubleshooting",)),
        ("Troubleshooting › Mobile", True, ("Troubleshooting › Mobile", "Mobile", "Troubleshooting")),
        ("A › B › C", True, ("A › B › C", "C", "A › B", "B", "A")),
        ("Installation / Upgrade", True, ("Installation / Upgrade",)),  # one name: "/" is no level
        ("A › B", False, ("A › B",)),  # another channel's category: its name alone
    ],
)
def test_category_names_most_specific_first(category: str, nested: bool, names: tuple[str, ...]) -> None:
    assert category_names(category, nested) == names


def test_an_earlier_days_triage_builds_none_of_the_days_after_it(tmp_path: Path) -> None:
    """A run catching up on a month with no [Triage] reads each missed day's posts: before, each
    read built every post from that day's start to the run's T (a month of posts for the oldest
    day, some 15 months' worth over the 30 days); now only the day's, the later ones skipped on
    their ``created_at`` alone."""
    from types import SimpleNamespace

    from community_monitoring.pipeline.daily import posts_of_the_day

    store = RunStore(tmp_path)
    store.save_channel("github", Fetched(posts=(post(n, T - timedelta(hours=12 * n)) for n in range(1, 9))))
    store.write_json("channels.json", {"read": {"github": 8}, "missing": [], "unreadable": []})
    run = SimpleNamespace(store=store, as_of=T, channels_read=lambda: store.read_json("channels.json"))
    built: list[int] = []
    real_posts = store.posts

    def spying(*args: object, **kwargs: object) -> object:
        for p in real_posts(*args, **kwargs):  # type: ignore[arg-type]
            built.append(p.number)
            yield p

    store.posts = spying  # type: ignore[method-assign]
    three_days_back = T - timedelta(days=3)
    days_posts = list(
        posts_of_the_day(run, ["github"], three_days_back, since=T - timedelta(days=3, hours=14))
    )  # type: ignore[arg-type]
    assert [p.number for p in days_posts] == [6, 7]
    assert built == [6, 7]  # not 5, 4, 3, 2, 1: created after that day's T
    assert [p.number for p in posts_of_the_day(run)] == [1]  # type: ignore[arg-type]


def test_a_channel_file_cut_at_a_line_boundary_is_an_error_naming_it_not_fewer_posts(tmp_path: Path) -> None:
    """Every line is whole, so no line is a bad record, yet posts are missing: the file holds fewer
    records than its extract wrote (the done marker's count), and the channel's posts are not read
    as if there were no more."""
    store = RunStore(tmp_path)
    store.save_channel("forum", Fetched(posts=[post(n, T - timedelta(hours=n)) for n in (1, 2, 3)]))
    path = tmp_path / "channels" / "forum.posts.jsonl"
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:2]))
    with pytest.raises(
        ValueError, match=r"forum\.posts\.jsonl holds 2 records, but the extract of forum wrote 3"
    ):
        list(store.posts(["forum"]))
    # The same when the reader skips lines by their time: every line counts.
    with pytest.raises(ValueError, match=r"holds 2 records, but the extract of forum wrote 3"):
        list(store.posts(["forum"], created_after=T - timedelta(hours=1, minutes=30)))


@pytest.mark.parametrize(
    "name", ["channels/forum.done.json", "channels/forum.problems.json", "messages/triage.json"]
)
def test_a_run_file_cut_short_is_an_error_naming_it(tmp_path: Path, name: str) -> None:
    """Cut short after it was written (a copy or sync that stopped halfway): json's own error
    named a line and column, never the file."""
    store = RunStore(tmp_path)
    store.save_channel("forum", Fetched(posts=[post(1, T)]))
    store.save_message("triage", ["[Triage] one"], 1)
    path = tmp_path / name
    whole = path.read_bytes()
    path.write_bytes(whole[: max(len(whole) // 2, 1)])
    read = {
        "channels/forum.done.json": lambda: store.channel_counts("forum"),
        "channels/forum.problems.json": lambda: store.problems("forum"),
        "messages/triage.json": lambda: store.message("triage"),
    }[name]
    with pytest.raises(ValueError, match=re.escape(f"{name}: not whole JSON")):
        read()
