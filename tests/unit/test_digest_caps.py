"""Digests stay readable at any scale (SPEC §7): each section capped, "… and N more", the full list
archived beside the digest.

The inputs are the rule outputs (HelpWantedSections, StaleItem lists, UserVoiceReview, new posts
with a stub classifier), built directly: the rules are tested elsewhere, and these must stay fast
at 100,000 items.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from builders import SETTINGS, T, ago
from community_monitoring import messages
from community_monitoring.classify import Classification
from community_monitoring.closeout_plan import Nominee, ThankResult
from community_monitoring.drafts import Suggestion
from community_monitoring.messages import (
    RenderedMessage,
    full_list_name,
    links_here,
    render_closeout_summary,
    render_help_wanted_digest,
    render_triage_list,
    render_uservoice_review,
    render_weekly_review,
)
from community_monitoring.outbox import Outbox
from community_monitoring.params import CloseoutParams
from community_monitoring.policy import WritePolicy
from community_monitoring.records import JiraTicket, Post
from community_monitoring.rules import AgedOutItem, HelpWantedEntry, HelpWantedSections, Release, StaleItem
from community_monitoring.settings import POST_TYPES, Settings, SettingsError, load_settings
from community_monitoring.timeutil import archive_folder_name
from community_monitoring.uservoice_review import Offer, StatusDrift, UserVoiceReview

DASHBOARD = "https://airflow.example.com/community?kind={kind}&as_of={as_of}&section={section}"
# A long but ordinary title and URL: the caps must hold for titles near digest.title_max_chars.
LONG_TITLE = "Server fails to start after upgrading to 11.1 on Ubuntu 22.04 with Postgres 14 behind nginx"
URL_SLUG = "server-fails-to-start"


def _url(section: str, index: int) -> str:
    return f"https://community.example.test/{section}/topics/{index}-{URL_SLUG}"


def _title(section: str, index: int) -> str:
    return f"{LONG_TITLE} ({section} {index})"


# Built once: 100,000 posts must stay cheap to make.
CREATED = tuple(ago(days=3, hours=h) for h in range(20))


def _post(channel: str, section: str, index: int, **kwargs: Any) -> Post:
    return Post(
        channel=channel,
        source_id=f"{section}#{index}",
        url=_url(section, index),
        title=_title(section, index),
        author="a_fairly_long_username_here",
        created_at=CREATED[index % 20],
        container="mattermost/mattermost-mobile" if channel in ("github", "gitlab") else "",
        number=index,
        **kwargs,
    )


# --- One builder per digest: n items in each of its sections, rendered with ``config``. ----------


@dataclass(frozen=True)
class Digest:
    """A digest kind, its sections (list order) and the headers that must keep the true totals."""

    kind: str
    sections: tuple[str, ...]
    render: Callable[[int, Settings], RenderedMessage]
    true_totals: Callable[[int], tuple[str, ...]]


def _help_wanted_entry(section: str, index: int) -> HelpWantedEntry:
    escalated = section == "escalated"
    return HelpWantedEntry(
        post=_post("github", section, index),
        section="waiting_for_first_response" if escalated else section,  # type: ignore[arg-type]
        state="unanswered",
        joined_at=ago(days=3),
        day=index % 30 + 1,
        step="escalated" if escalated else "mention_rotation",
        last_call=escalated,
        owner="mobile-team",
    )


HELP_WANTED_SECTIONS = (
    "escalated",
    "waiting_for_first_response",
    "after_the_release",
    "new_reply_to_core_team_question",
)


def _render_help_wanted(n: int, config: Settings) -> RenderedMessage:
    entries = {s: tuple(_help_wanted_entry(s, i) for i in range(n)) for s in HELP_WANTED_SECTIONS}
    sections = HelpWantedSections(
        waiting_for_first_response=entries["waiting_for_first_response"],
        after_the_release=entries["after_the_release"],
        new_reply_to_core_team_question=entries["new_reply_to_core_team_question"],
        release=Release("v11.1.0", "v11.1.0", ago(days=8)),
        escalated=entries["escalated"],
    )
    return render_help_wanted_digest(sections, config, T, rotation="alex.dev", cm_lead="cm.lead")


class _TypeFromCategory:
    """A stub classifier: the post's category is its type (the real one is tested elsewhere)."""

    def classify(self, item: Post) -> Classification:
        return Classification(item.category, "stub")


def _render_triage(n: int, config: Settings) -> RenderedMessage:
    posts = [
        _post("forum", t, i, category=t, body="Steps: upgrade, restart.")
        for t in POST_TYPES
        for i in range(n)
    ]
    unreadable = [
        {"channel": "github", "item": f"issue {i}", "problem": "no 'title' field"} for i in range(n)
    ]
    return render_triage_list(posts, config, T, classifier=_TypeFromCategory(), unreadable=unreadable)  # type: ignore[arg-type]


WEEKLY_CHANNELS = ("github", "gitlab", "stackoverflow")


def _render_weekly(n: int, config: Settings) -> RenderedMessage:
    def stale(channel: str, i: int) -> StaleItem:
        return StaleItem(
            _post(channel, channel, i), ago(days=9), "a_fairly_long_username_here", "waiting_on_us"
        )

    aged_out = [
        AgedOutItem(_post("forum", "aged_out", i), "unanswered", ago(days=40), "a_fairly_long_username_here")
        for i in range(n)
    ]
    grouped = {c: [stale(c, i) for i in range(n)] for c in WEEKLY_CHANNELS}
    return render_weekly_review(grouped, config, T, stale_after_days=7, aged_out=aged_out)


def _ticket(index: int) -> JiraTicket:
    return JiraTicket(
        key=f"MM-{60000 + index}",
        url=f"https://mattermost.atlassian.net/browse/MM-{60000 + index}",
        summary="",
        status="Closed",
        status_category="Done",
        resolution="Done",
        fix_versions=("11.1",),
        labels=(),
        linked_urls=(),
    )


def _render_uservoice(n: int, config: Settings) -> RenderedMessage:
    review = UserVoiceReview(
        status_drift=tuple(
            StatusDrift(_post("uservoice", "status_drift", i), _ticket(i), "Under Review", "Completed")
            for i in range(n)
        ),
        needs_question=tuple(_post("uservoice", "needs_question", i) for i in range(n)),
        offers=tuple(
            Offer(_post("uservoice", "offers", i), "I'd be happy to submit a PR for this. " * 5, "comment")
            for i in range(n)
        ),
    )
    return render_uservoice_review(review, config, T, pm="amy.blais")


CLOSEOUT_SECTIONS = ("failed", "thanked", "earlier", "skipped")
CLOSEOUT_OUTCOMES = {"failed": "failed", "thanked": "thanked", "earlier": "already_thanked"}


def _nominee(section: str, index: int) -> Nominee:
    return Nominee(
        suggestion_id=index,
        title=_title(section, index),
        url=_url(section, index),
        name="a_fairly_long_username_here",
        jira_key=f"MM-{60000 + index}",
        jira_status="Done",
        fix_version="11.2",
        edition="Team",
        connection="uservoice_default",
        reason="MM-60001 is not resolved yet (In Progress)" if section == "skipped" else "",
    )


def _render_closeout(n: int, config: Settings) -> RenderedMessage:
    results = [
        ThankResult(
            _nominee(section, i),
            outcome,
            error="HTTPError: 404 Not Found: the suggestion was deleted" if outcome == "failed" else "",
        )
        for section, outcome in CLOSEOUT_OUTCOMES.items()
        for i in range(n)
    ]
    skipped = [_nominee("skipped", i) for i in range(n)]
    params = CloseoutParams("11.2", "2026-11-16", "https://mattermost.com/blog/v11-2", False)
    return render_closeout_summary(results, skipped, params, config, as_of=T)


DIGESTS = (
    Digest("help_wanted", HELP_WANTED_SECTIONS, _render_help_wanted, lambda n: ()),
    Digest(
        "triage",
        (*POST_TYPES, "unreadable"),
        _render_triage,
        lambda n: (f" {4 * n} new community posts", f"#### Could not read ({n})"),
    ),
    Digest(
        "weekly_review",
        ("aged_out", *WEEKLY_CHANNELS),
        _render_weekly,
        lambda n: (
            f"{4 * n} open community posts",
            f": {n} aged out without an answer, {3 * n} with no activity",
            f"#### Aged out without an answer ({n})",
            f"#### GitHub ({n})",
            f"#### Stack Overflow ({n})",
        ),
    ),
    Digest(
        "uservoice_review",
        ("status_drift", "needs_question", "offers"),
        _render_uservoice,
        lambda n: (
            f" @amy.blais {3 * n} suggestions",
            f"#### Status to update ({n})",
            f"PM may want to ask a question ({n})",
            f"#### Requester offers to build it ({n})",
        ),
    ),
    Digest(
        "release_closeout",
        CLOSEOUT_SECTIONS,
        _render_closeout,
        lambda n: (
            f"Thanked {n} nominators",
            f"{n} thank-yous failed",
            f"#### Could not thank ({n})",
            f"#### Thanked ({n})",
            f"#### Already thanked for 11.2 earlier ({n})",
            f"#### Skipped ({n})",
        ),
    ),
)
BY_KIND = pytest.mark.parametrize("digest", DIGESTS, ids=[d.kind for d in DIGESTS])


def _with_digest(config: Settings = SETTINGS, **digest: Any) -> Settings:
    return config.model_copy(update={"digest": config.digest.model_copy(update=digest)})


def _cap(digest: Digest, config: Settings) -> int:
    limits = config.digest
    return limits.triage_max_items_per_section if digest.kind == "triage" else limits.max_items_per_section


def _section_urls(section: str, n: int) -> list[str]:
    # [Triage]'s "Could not read" problems have no URL: their lines are counted instead.
    return [] if section == "unreadable" else [_url(section, i) for i in range(n)]


# --- Under the cap: nothing changes. --------------------------------------------------------------


SMALL_CAPS = {"max_items_per_section": 3, "triage_max_items_per_section": 2}
NO_CAPS = {"max_items_per_section": 1000, "triage_max_items_per_section": 1000}


@BY_KIND
@pytest.mark.parametrize(
    ("caps", "at_most"), [({}, "one"), (SMALL_CAPS, "one"), (SMALL_CAPS, "exactly the cap")]
)
def test_under_the_cap_nothing_changes(digest: Digest, caps: dict[str, int], at_most: str) -> None:
    """The same message as with no cap at all (and the demo's digests, far under the caps, stay
    byte-identical to include/scenarios/demo/expected-outbox.json: tests/airflow/test_demo_outbox.py)."""
    config = _with_digest(**caps)
    n = 1 if at_most == "one" else _cap(digest, config)
    capped = digest.render(n, config)
    uncapped = digest.render(n, _with_digest(**NO_CAPS))
    assert capped == uncapped
    assert capped.full_text == ""
    assert "… and" not in capped.text


# --- Over the cap: N shown, "… and M more" with its link, true totals. ----------------------------


@BY_KIND
@pytest.mark.parametrize("url_template", ["", DASHBOARD], ids=["archive", "dashboard"])
def test_over_the_cap_each_section_shows_n_and_links_the_rest(digest: Digest, url_template: str) -> None:
    config = _with_digest(**SMALL_CAPS, full_list_url=url_template)
    cap, more = _cap(digest, config), 5
    message = digest.render(cap + more, config)
    text = message.text
    for section in digest.sections:
        urls = _section_urls(section, cap + more)
        assert [u for u in urls if f"({u})" in text] == urls[:cap], section
    if digest.kind == "triage":
        assert len(re.findall(r"^- github issue \d+: ", text, re.MULTILINE)) == cap
    more_lines = [line for line in text.splitlines() if "… and" in line]
    # The Community page is linked only for the lists it can show; the rest name the archived list.
    assert more_lines == [
        _more_line(
            digest.kind, section, more, url_template if links_here(url_template, digest.kind, section) else ""
        )
        for section in digest.sections
    ]
    assert all(total in text for total in digest.true_totals(cap + more))
    # item_urls still lists every item, those behind "… and N more" too.
    listed = [u for section in digest.sections for u in _section_urls(section, cap + more)]
    assert set(message.item_urls) == set(listed)
    assert len(message.item_urls) == len(listed)


def _more_line(kind: str, section: str, more: int, url_template: str) -> str:
    if url_template:
        return f"- [… and {more} more](https://airflow.example.com/community?kind={kind}&as_of=2026-11-18T09:00:00Z&section={section})"
    return f"- … and {more} more in the full list, archived as `2026-11-18T090000Z/{kind}.full.md`"


@BY_KIND
def test_the_full_list_holds_every_item_uncapped(digest: Digest) -> None:
    config = _with_digest(max_items_per_section=2, triage_max_items_per_section=2)
    n = 3
    message = digest.render(n, config)
    uncapped = digest.render(n, _with_digest(**NO_CAPS))
    assert len(uncapped.parts) == 1  # so that its text is the whole message, unsplit
    assert "… and" not in message.full_text
    assert all(f"({url})" in message.full_text for url in message.item_urls)
    if digest.kind != "triage":
        assert message.full_text == uncapped.text


def test_the_triage_full_list_drafts_what_the_digest_shows_and_lists_the_rest_in_a_line() -> None:
    config = _with_digest(triage_max_items_per_section=2)
    message = _render_triage(3, config)
    uncapped = _render_triage(3, _with_digest(**NO_CAPS))
    full = message.full_text
    # Two entries of each type with their draft, as the digest shows them; the third in one line.
    assert full.count("Reply draft:") == 2 * len(POST_TYPES)
    assert uncapped.text.count("Reply draft:") == 3 * len(POST_TYPES)
    for post_type in POST_TYPES:
        line = next(ln for ln in full.splitlines() if f"({_url(post_type, 2)})" in ln)
        assert line.startswith("- ")
        assert "Suggested action" not in line
        assert all(f"({_url(post_type, i)})" in message.text for i in range(2))
        assert f"({_url(post_type, 2)})" not in message.text


# --- At 100,000 posts a day, no digest needs more than 3 posts. -----------------------------------


@pytest.fixture
def quick_drafts(monkeypatch: pytest.MonkeyPatch) -> None:
    """[Triage] items a little longer than the demo's on average (~700 characters; theirs: 410-970,
    650 on average), without the cost of writing 100,000 real drafts (drafts.py is tested on its own)."""
    draft = (
        "> Hi there, thanks for reaching out!\n" + "> Could you tell us your server version and edition? " * 5
    )

    class Writer:
        def __init__(self, *_: Any, **__: Any) -> None:
            pass

        def suggest(self, *_: Any, **__: Any) -> Suggestion:
            return Suggestion(
                "Help troubleshoot; route to a developer if needed.", ("server version",), (), draft
            )

    monkeypatch.setattr(messages, "DraftWriter", Writer)


# Every character of a 160-character title escaped, and 150-character URLs: at the default caps,
# [Help Wanted] and [Weekly Review] would need a 4th post; their sections then list fewer.
HOSTILE_TITLE = "[x]_*`(y)`* " * 20
HOSTILE_SLUG = "very-long-slug-" * 8


@BY_KIND
@pytest.mark.parametrize("content", ["ordinary", "hostile"])
def test_100k_items_fit_in_three_posts(
    digest: Digest, content: str, quick_drafts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if content == "hostile":
        monkeypatch.setattr(sys.modules[__name__], "LONG_TITLE", HOSTILE_TITLE)
        monkeypatch.setattr(sys.modules[__name__], "URL_SLUG", HOSTILE_SLUG)
    per_section = 100_000 // len(digest.sections)
    message = digest.render(per_section, SETTINGS)
    assert 1 < len(message.parts) <= 3, [len(p) for p in message.parts]
    assert all(len(part) <= SETTINGS.digest.message_max_chars for part in message.parts)
    assert all(total in message.text for total in digest.true_totals(per_section))
    # Every section still lists its oldest items and says how many more there are.
    assert all(
        f"({_url(section, 0)})" in message.text for section in digest.sections if section != "unreadable"
    )
    more_lines = [line for line in message.text.splitlines() if "… and" in line]
    assert len(more_lines) == len(digest.sections)
    if content == "ordinary":  # the configured cap alone keeps them within 3 posts
        hidden = f"… and {per_section - _cap(digest, SETTINGS):,} more"
        assert all(hidden in line for line in more_lines), more_lines


# --- The full list is archived beside the digest, where the "… and N more" line says. -------------


def _outbox(root: Path) -> Outbox:
    return Outbox(
        "community_daily_monitoring",
        T,
        SETTINGS,
        WritePolicy(post_messages=False, write_upstream=False, update_sheet=False),
        open_ledger=lambda: None,
        webhook=lambda *_: lambda _: None,
        archive_root=lambda: root,
    )


@pytest.mark.parametrize("capped", [True, False])
def test_a_capped_digest_archives_its_full_list_where_it_says(tmp_path: Path, capped: bool) -> None:
    n = 30 if capped else 3
    message = _render_help_wanted(n, SETTINGS)
    archived = Path(_outbox(tmp_path).archive(message.kind, message.parts, full_text=message.full_text))
    full = archived.with_name(full_list_name("help_wanted"))
    assert archived.read_text(encoding="utf-8") == "\n\n---\n\n".join(message.parts) + "\n"
    assert full.exists() is capped
    if capped:
        assert full.read_text(encoding="utf-8") == message.full_text + "\n"
        named = f"`{archived.parent.name}/{full.name}`"
        assert named in message.text
        assert archived.parent.name == archive_folder_name(T)


def test_save_message_archives_the_full_list_of_a_capped_digest(tmp_path: Path) -> None:
    from community_monitoring.pipeline.daily import save_message

    class Store:
        def save_message(self, kind: str, parts: Any, items: int) -> None:
            self.saved = (kind, tuple(parts), items)

    run = SimpleNamespace(store=Store(), outbox=_outbox(tmp_path))
    message = _render_weekly(30, SETTINGS)
    assert save_message(run, message) == {"kind": "weekly_review", "items": 120, "parts": len(message.parts)}  # type: ignore[arg-type]
    folder = tmp_path / "community_daily_monitoring" / archive_folder_name(T)
    assert (folder / "weekly_review.full.md").read_text(encoding="utf-8") == message.full_text + "\n"
    assert sorted(p.name for p in folder.iterdir()) == ["weekly_review.full.md", "weekly_review.md"]


# --- What the triage list can show: related items are looked up for these only. -------------------


@pytest.mark.parametrize(
    ("per_type", "cap", "drafts", "shown_per_type"),
    [(3, 15, 15, 3), (15, 15, 15, 15), (16, 15, 15, 15), (40, 5, 8, 5), (1, 1, 1, 1), (30, 25, 8, 8)],
)
def test_listed_in_triage_is_what_each_capped_section_shows(
    per_type: int, cap: int, drafts: int, shown_per_type: int
) -> None:
    """The entries shown whole (with a draft and related items): the first ``drafts`` of each type,
    never more than the section lists."""
    update = {"triage_max_items_per_section": cap, "triage_drafts_per_section": drafts}
    config = SETTINGS.model_copy(update={"digest": SETTINGS.digest.model_copy(update=update)})
    # Types interleaved, as a day's posts come: each section keeps its own first ``cap``.
    posts = [_post("forum", t, i, category=t) for i in range(per_type) for t in POST_TYPES]
    decisions = [Classification(p.category, "stub") for p in posts]
    listed = messages.listed_in_triage(posts, decisions, config)
    assert len(listed) == shown_per_type * len(POST_TYPES)
    for t in POST_TYPES:
        assert [p.url for p in listed if p.category == t] == [_url(t, i) for i in range(shown_per_type)]
    rendered = render_triage_list(posts, config, T, decisions=decisions)
    assert all(p.url in rendered.text for p in listed)


# --- Settings. ------------------------------------------------------------------------------------


def test_defaults_cap_at_25_with_8_triage_drafts() -> None:
    digest = SETTINGS.digest
    assert (digest.max_items_per_section, digest.triage_max_items_per_section) == (25, 25)
    assert (digest.triage_drafts_per_section, digest.triage_whole_per_section) == (8, 8)
    assert SETTINGS.digest.full_list_url == ""


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (DASHBOARD, None),
        ("https://airflow.example.com/community", None),
        ("https://airflow.example.com/community?dag={dag_id}", r"not \['dag_id'\]"),
        ("https://airflow.example.com/community/{}", r"not \['\{\}'\]"),
        ("https://airflow.example.com/community/{kind", "not a valid URL template"),
        ("javascript:alert(1)//{kind}", "should match pattern"),
        ({"max_items_per_section": 0}, "greater than or equal to 1"),
        ({"triage_max_items_per_section": "10"}, "valid integer"),
    ],
)
def test_digest_cap_settings_are_validated(value: Any, error: str | None) -> None:
    digest = value if isinstance(value, dict) else {"full_list_url": value}
    if error is None:
        assert load_settings({"digest": digest}).digest.full_list_url == value
        return
    with pytest.raises(SettingsError, match=error):
        load_settings({"digest": digest})


def test_as_of_in_the_link_is_utc() -> None:
    cap = messages.SectionCap("triage", T.astimezone(timezone(timedelta(hours=2))), 1, DASHBOARD)
    assert cap.more_line("bug", 2) == (
        "- [… and 2 more](https://airflow.example.com/community?kind=triage&as_of=2026-11-18T09:00:00Z&section=bug)"
    )


@pytest.mark.parametrize(
    ("base_url", "configured", "expected"),
    [
        pytest.param(
            "https://airflow.example.com/",
            "",
            "https://airflow.example.com/community?kind={kind}&as_of={as_of}&section={section}",
            id="empty: this Airflow's Community page",
        ),
        pytest.param("", "", "", id="Airflow does not know its address: the archived list's name"),
        pytest.param(
            "https://airflow.example.com",
            "https://dash.example.com/{kind}",
            "https://dash.example.com/{kind}",
            id="configured: kept",
        ),
    ],
)
def test_more_links_the_community_page_of_this_airflow_by_default(
    monkeypatch: pytest.MonkeyPatch, base_url: str, configured: str, expected: str
) -> None:
    from community_monitoring.pipeline.run import with_community_page_links

    monkeypatch.setenv("AIRFLOW__API__BASE_URL", base_url)
    settings = load_settings({"digest": {"full_list_url": configured}} if configured else None)
    assert with_community_page_links(settings).digest.full_list_url == expected


@pytest.mark.parametrize(
    ("url_template", "kind", "section", "linked"),
    [
        (DASHBOARD, "help_wanted", "escalated", True),
        (DASHBOARD, "triage", "bug", True),
        # Lists the Community page has no rows for: the archived full list instead.
        (DASHBOARD, "weekly_review", "aged_out", False),
        (DASHBOARD, "weekly_review", "github", False),
        (DASHBOARD, "uservoice_review", "status_drift", False),
        (DASHBOARD, "help_wanted", "after_the_release", False),
        (DASHBOARD, "triage", "unreadable", False),
        (
            "https://airflow.example.com/community/?kind={kind}&section={section}",
            "weekly_review",
            "aged_out",
            False,
        ),
        # A dashboard of the team's own may list anything.
        ("https://dash.example.com/{kind}/{section}", "weekly_review", "aged_out", True),
        ("", "help_wanted", "escalated", False),
    ],
)
def test_more_links_the_community_page_only_for_the_lists_it_shows(
    url_template: str, kind: str, section: str, linked: bool
) -> None:
    assert links_here(url_template, kind, section) is linked
