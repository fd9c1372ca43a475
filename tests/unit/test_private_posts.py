"""Posts not everyone may read (a restricted forum category, a confidential GitLab issue) never
reach a public channel's digest; the CM's own [Triage] still lists them."""

from __future__ import annotations

import pytest

from builders import ROSTER, SETTINGS, T, ago, post, reply
from community_monitoring.records import Post
from community_monitoring.rules import (
    find_aged_out,
    find_help_wanted_sections,
    find_new_posts,
    find_stale_posts,
)


def listed_in_help_wanted(item: Post) -> bool:
    sections = find_help_wanted_sections([item], ROSTER, SETTINGS, T)
    return sections.total > 0


@pytest.mark.parametrize("public", [True, False])
def test_a_post_not_everyone_may_read_stays_out_of_the_public_lists(public: bool) -> None:
    waiting = post("forum", created=ago(days=3), public=public, number=1)
    new = post("forum", created=ago(hours=2), public=public, number=2)
    stale = post("gitlab", created=ago(days=20), public=public, number=3)
    aged = post(
        "forum", created=ago(days=60), public=public, number=4, replies=(reply("alice", ago(days=59)),)
    )
    assert listed_in_help_wanted(waiting) is public
    assert bool(find_stale_posts([stale], ROSTER, SETTINGS, T, channels=("gitlab",))) is public
    assert bool(find_aged_out([aged], ROSTER, SETTINGS, T)) is public
    # The CM's [Triage] goes to the CM's own channel: every new post, public or not.
    assert find_new_posts([new], ROSTER, SETTINGS, T) == [new]
