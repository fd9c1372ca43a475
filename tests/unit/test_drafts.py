"""The reply draft's "what is missing" list reads only what the author filled in (SPEC §4)."""

from __future__ import annotations

import pytest
from test_classify import bug_form, legacy_template

from builders import SETTINGS, post
from community_monitoring.classify import Classification
from community_monitoring.drafts import DraftWriter, missing_details

WRITER = DraftWriter(SETTINGS)


@pytest.mark.parametrize(
    ("case", "body", "missing"),
    [
        # Headings alone give nothing: not "Steps to reproduce", nor "Server Version", nor the
        # "(what version are you using?)" of a placeholder, nor an empty Log Output block.
        ("unfilled markdown template", legacy_template(), ("versions", "logs", "steps")),
        ("unfilled bug form", bug_form(), ("versions", "logs", "steps")),
        (
            "steps and version filled, log block left empty",
            bug_form(
                "10.5.2", "Ubuntu", "1. open a thread\n2. edit the root post", "count stays", "count is 0"
            ),
            ("logs",),
        ),
        (
            "steps written under the heading, version in the environment list",
            legacy_template(steps="Open any channel and pin a post.").replace(
                "- Mattermost Server Version:", "- Mattermost Server Version: 10.4.2"
            ),
            ("logs",),
        ),
        (
            "a log pasted in the text",
            "Server 10.5.2, every time:\n1. open\n2. click\n\n"
            '{"level":"error","msg":"Unable to get the user","caller":"app/user.go:12"}',
            (),
        ),
        ("plain text with nothing", "It crashes.", ("versions", "logs", "steps")),
    ],
)
def test_missing_details_reads_only_filled_sections(case: str, body: str, missing: tuple[str, ...]) -> None:
    assert missing_details(post(title="Reply counter is wrong", body=body), "bug") == missing, case


def test_types_that_need_nothing_miss_nothing() -> None:
    assert missing_details(post(body=legacy_template()), "feature_proposal") == ()


def test_the_draft_asks_for_what_an_unfilled_template_left_out() -> None:
    item = post(title="Thread counter", body=bug_form("10.6.0", "macOS", "1. reply\n2. edit the root"))
    suggestion = WRITER.suggest(item, Classification("bug", 'filled section "Steps to reproduce"'))
    assert suggestion.missing_details == ("logs",)
    unfilled = WRITER.suggest(post(title="Thread counter", body=bug_form()), Classification("bug", "x"))
    assert unfilled.missing_details == ("versions", "logs", "steps")
