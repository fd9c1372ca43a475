"""``python -m community_devtools.eval_triage``: the report on a small labelled file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from community_devtools.eval_triage import DEFAULT_DATA, load_examples, run
from community_monitoring.settings import POST_TYPES

TEN = [
    ("bug", "github", "App crashes when opening a thread with a video", ""),
    ("bug", "github", "Reply counter shows 0 instead of 2 after editing", ""),
    (
        "troubleshooting",
        "forum",
        "nginx websocket error 400",
        "We run behind nginx. Login fails with error 400.",
    ),
    (
        "troubleshooting",
        "github",
        "Push not arriving with our own push proxy",
        "We built our own push proxy, it fails.",
    ),
    ("feature_proposal", "github", "Feature request: dark mode for emails", ""),
    ("feature_proposal", "uservoice", "Polls without a plugin", "Native polls would be nice."),
    ("question", "stackoverflow", "How do I list channel members with mmctl?", ""),
    ("question", "github", "Question: where are custom emojis stored?", ""),
    ("question", "forum", "Which port does the cluster use?", ""),
    ("bug", "gitlab", "Weird", ""),
]


def write_set(path: Path) -> Path:
    with path.open("w") as out:
        for index, (post_type, channel, title, body) in enumerate(TEN):
            record = {"id": f"t{index}", "type": post_type, "channel": channel, "title": title, "body": body}
            out.write(json.dumps(record) + "\n")
    return path


def test_prints_accuracy_per_type_figures_and_confusion_for_both_splits(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run(["--data", str(write_set(tmp_path / "ten.jsonl")), "--errors"], out) == 0
    text = out.getvalue()
    assert "== whole set: 10 posts ==" in text
    assert "== held-out split (every 4th line, not tuned on): 2 posts ==" in text
    assert text.count("accuracy ") == 2
    assert text.count("confusion (rows: true type, columns: rules' type)") == 2
    for post_type in POST_TYPES:
        assert text.count(f"\n{post_type} ") >= 4  # a precision/recall row and a matrix row per split
    assert "decided by (right/all):" in text


def test_model_option_reports_rules_alone_and_rules_with_the_model(tmp_path: Path) -> None:
    from test_triage_model import generated_examples, settings_with

    from community_monitoring.triage_model import train

    model, _ = train(generated_examples(), settings_with(), as_of=None)
    (tmp_path / "model.json").write_text(model.to_json())
    out = io.StringIO()
    assert run(["--data", str(write_set(tmp_path / "ten.jsonl")), "--model", str(tmp_path)], out) == 0
    text = out.getvalue()
    assert "(rules alone)" in text
    assert "(rules + model)" in text


def test_a_broken_model_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "model.json").write_text('{"format": "nope"}')
    assert (
        run(["--data", str(write_set(tmp_path / "ten.jsonl")), "--model", str(tmp_path)], io.StringIO()) == 2
    )
    assert "--model" in capsys.readouterr().err


def test_a_malformed_line_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"type": "bug", "channel": "github", "title": "x"}\n{"type": "rant", "channel": "github"}\n'
    )
    assert run(["--data", str(bad)], io.StringIO()) == 2
    assert "bad.jsonl:2" in capsys.readouterr().err


def test_the_bundled_set_is_big_and_balanced_enough() -> None:
    examples = load_examples(DEFAULT_DATA)
    assert len(examples) >= 200
    counts = {t: sum(1 for e in examples if e.post_type == t) for t in POST_TYPES}
    assert min(counts.values()) >= 30, counts
    assert len({e.id for e in examples}) == len(examples)
