"""``python -m community_devtools.eval_answers FILE``: the report on a few hand-written threads."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from community_devtools.eval_answers import (
    decide,
    in_half,
    load_threads,
    precision_recall,
    run,
    thread_from_dict,
)
from community_devtools.eval_triage import EvalDataError
from community_monitoring.settings import load_settings

SETTINGS = load_settings()


def row(label: str, *replies: tuple[str, str, bool], author: str = "ann") -> dict[str, Any]:
    return {
        "id": f"t-{label}-{len(replies)}",
        "channel": "github",
        "author": author,
        "replies": [
            {"author": who, "created_at": f"2026-01-0{i + 2}T10:00:00Z", "body": body, "maintainer": staff}
            for i, (who, body, staff) in enumerate(replies)
        ],
        "label": label,
    }


ROWS = [
    row("unanswered", ("bob", "+1", False)),
    row("waiting_on_reporter", ("max", "Which version do you run?", True)),
    row("waiting_on_us", ("max", "Which version do you run?", True), ("ann", "Version 2.1 on Linux.", False)),
    row("answered", ("max", "Fixed in 2.2, upgrade and it goes away.", True)),
    # The person says answered; the product reads a reply that asks.
    row("answered", ("max", "Fixed in 2.2. Does that help?", True)),
]


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("case", "index", "predicted", "deciding"),
    [
        ("only a me-too: nobody answered", 0, "unanswered", ""),
        ("a maintainer's question", 1, "waiting_on_reporter", "Which version do you run?"),
        ("the author answered it", 2, "waiting_on_us", "Version 2.1 on Linux."),
        ("a fix named", 3, "answered", "Fixed in 2.2, upgrade and it goes away."),
        ("a question after the fix", 4, "waiting_on_reporter", "Fixed in 2.2. Does that help?"),
    ],
)
def test_decide_as_of_just_after_the_last_reply(case: str, index: int, predicted: str, deciding: str) -> None:
    outcome = decide(thread_from_dict(ROWS[index], index + 1), SETTINGS)
    assert (outcome.predicted, outcome.deciding) == (predicted, deciding), case


def test_the_maintainers_of_a_row_are_its_staff() -> None:
    thread = thread_from_dict(ROWS[2], 3)
    assert thread.roster.is_staff("github", "max")
    assert not thread.roster.is_staff("github", "ann")
    assert thread.post.created_at < thread.post.replies[0].created_at < thread.as_of


@pytest.mark.parametrize(
    ("case", "line", "half", "kept"),
    [
        ("every line", 2, "", True),
        ("an odd line, odd half", 3, "odd", True),
        ("an odd line, even half", 3, "even", False),
        ("an even line, even half", 4, "even", True),
    ],
)
def test_in_half(case: str, line: int, half: str, kept: bool) -> None:
    assert in_half(thread_from_dict(ROWS[0], line), half) is kept, case


def test_precision_and_recall_per_state() -> None:
    outcomes = [decide(thread_from_dict(r, i + 1), SETTINGS) for i, r in enumerate(ROWS)]
    assert precision_recall(outcomes, "waiting_on_reporter") == (0.5, 1.0, 1)
    assert precision_recall(outcomes, "answered") == (1.0, 0.5, 2)


@pytest.mark.parametrize(
    ("case", "data", "message"),
    [
        ("unknown label", {**ROWS[0], "label": "closed"}, "label 'closed'"),
        ("no author", {k: v for k, v in ROWS[0].items() if k != "author"}, "author"),
        ("no replies and no time", {**ROWS[0], "replies": []}, "created_at"),
        (
            "a time without offset",
            {**ROWS[0], "replies": [{"author": "bob", "created_at": "2026-01-02T10:00:00", "body": "x"}]},
            "offset",
        ),
    ],
)
def test_a_malformed_line_names_its_file_and_line(
    tmp_path: Path, case: str, data: dict[str, Any], message: str
) -> None:
    path = write(tmp_path / "bad.jsonl", [ROWS[1], data])
    with pytest.raises(EvalDataError, match=rf"bad\.jsonl:2: .*{message}"):
        load_threads(path)


def test_report_with_errors(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run([str(write(tmp_path / "t.jsonl", ROWS)), "--errors"], out) == 0
    text = out.getvalue()
    assert "agreement  80.0%  (4/5)" in text
    assert "line   5 t-answered-1: answered -> waiting_on_reporter | Fixed in 2.2. Does that help?" in text
    assert text.count("  line ") == 1


def test_report_on_one_half(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run([str(write(tmp_path / "t.jsonl", ROWS)), "--half", "even"], out) == 0
    assert "== even lines: 2 threads ==" in out.getvalue()


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    assert run([str(write(tmp_path / "t.jsonl", []))], io.StringIO()) == 2
