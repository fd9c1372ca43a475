"""The Community page (SPEC §10) in a real browser, inside a real Airflow.

A real api-server (``make airflow``'s, ``community_devtools/local_airflow.py``; only the api-server:
nothing here needs a scheduler) loads the plugin from the plugins folder and reads the state table
from the ``community_monitoring_db`` connection, given to it as ``AIRFLOW_CONN_*`` exactly as to
the daily run's tasks. The table holds two snapshots written with ``state_table.upsert_snapshot``,
the function the daily run's ``record_post_states`` task calls.

Headless Chromium (Debian's ``chromium``, installed by ``ensure_chromium`` when missing; Playwright
only drives it, never downloads a browser) signs in on Airflow's login page, opens the page through
the **Community** item of the UI's navigation, filters by channel, checks the rows and the chart,
picks a past T, and follows a digest's "… and N more" link. The screenshot is kept in the test's
tmp folder and as ``test-artifacts/community-page.png`` (ignored by git).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from harness import PROJECT_ROOT
from markupsafe import escape

from community_devtools.local_airflow import LocalAirflow
from community_monitoring import state_table
from community_monitoring.health import StateRow

pytestmark = pytest.mark.airflow

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACT = PROJECT_ROOT / "test-artifacts" / "community-page.png"
T1 = datetime(2026, 11, 17, 9, tzinfo=UTC)
T2 = T1 + timedelta(days=1)
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1"> Crash on @here & <b>login</b>'


def ensure_chromium() -> str:
    """Debian's chromium, installed with apt-get when it is missing (as root, or through sudo -n)."""
    from community_devtools.cluster import passwordless_sudo

    if Path(CHROMIUM).exists():
        return CHROMIUM
    as_root = [] if os.geteuid() == 0 else passwordless_sudo()
    if as_root is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (sudo apt-get install -y chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        [*as_root, "apt-get", "update", "-qq"],
        [*as_root, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
    assert Path(CHROMIUM).exists(), f"apt-get installed chromium, but {CHROMIUM} is not there"
    return CHROMIUM


def state(channel: str, source_id: str, title: str, at: datetime, **values: Any) -> StateRow:
    fields: dict[str, Any] = {
        "channel": channel,
        "source_id": source_id,
        "url": f"https://{channel}.example.com/posts/{source_id}",
        "title": title,
        "author": "reporter",
        "post_type": "bug",
        "created_at": at - timedelta(days=3),
        "first_response_at": None,
        "first_staff_response_at": None,
        "answer_state": "unanswered",
        "owner": "",
        "escalation": "listed",
        "day_on_list": 3,
        "as_of": at,
    }
    return StateRow(**{**fields, **values})


def snapshot_rows(at: datetime) -> list[StateRow]:
    """The posts as they stood at T; the forum question got its staff answer between T1 and T2."""
    answered_forum = at == T2
    return [
        state("github", "101", HOSTILE_TITLE, at, escalation="escalated", day_on_list=6, owner="sam.desk"),
        state(
            "github", "102", "Webhook retries twice", at, created_at=at - timedelta(hours=20), day_on_list=1
        ),
        state(
            "github",
            "103",
            "Answered: export fails",
            at,
            answer_state="answered",
            escalation="",
            day_on_list=0,
            first_response_at=at - timedelta(days=2, hours=20),
            first_staff_response_at=at - timedelta(days=2, hours=20),
        ),
        state(
            "forum",
            "7",
            "How do I move channels between teams?",
            at,
            post_type="question",
            answer_state="answered" if answered_forum else "unanswered",
            escalation="" if answered_forum else "listed",
            day_on_list=0 if answered_forum else 2,
            first_response_at=T2 - timedelta(hours=1) if answered_forum else None,
            first_staff_response_at=T2 - timedelta(hours=1) if answered_forum else None,
            created_at=T1 - timedelta(days=2),
        ),
        state(
            "stackoverflow",
            "55",
            "Plugin API returns 403",
            at,
            post_type="question",
            answer_state="waiting_on_us",
            first_response_at=at - timedelta(days=2),
            first_staff_response_at=None,
            owner="plugins",
        ),
    ]


@pytest.fixture(scope="module")
def community_airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAirflow]:
    """A real api-server with the plugin, reading a state table with snapshots at T1 and T2."""
    work = tmp_path_factory.mktemp("community-page")
    ledger = work / "ledger.db"
    engine = sa.create_engine(f"sqlite:///{ledger}")
    for at in (T1, T2):
        state_table.upsert_snapshot(engine, snapshot_rows(at), at, ["github", "forum", "stackoverflow"])
    engine.dispose()
    connection = {"conn_type": "sqlite", "host": str(ledger)}
    airflow = LocalAirflow(
        work / "airflow-home",
        env={"AIRFLOW_CONN_COMMUNITY_MONITORING_DB": json.dumps(connection)},
        components=("api-server",),
    )
    try:
        airflow.start()
        yield airflow
    finally:
        airflow.stop()


def test_the_page_needs_an_airflow_session(community_airflow: LocalAirflow) -> None:
    base = community_airflow.base_url
    with httpx.Client(base_url=base, trust_env=False, timeout=30) as client:
        page = client.get("/community/?channel=github")
        assert page.status_code == 303
        login = urlsplit(page.headers["location"])
        assert login.path == "/auth/login"
        assert parse_qs(login.query) == {"next": [f"{base}/community/?channel=github"]}
        assert client.get("/community/chart.png").status_code == 401
        forged = client.get("/community/", headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 403
        # A digest's link may leave out the slash: it is kept with its query.
        bare = client.get("/community?kind=triage&as_of=2026-11-18T09:00:00Z")
        assert bare.status_code == 307
        assert bare.headers["location"] == "/community/?kind=triage&as_of=2026-11-18T09:00:00Z"

        token = client.post(
            "/auth/token", json={"username": "admin", "password": community_airflow.admin_password}
        ).json()["access_token"]
        signed = client.get("/community/?channel=github", headers={"Authorization": f"Bearer {token}"})
        assert signed.status_code == 200
        assert "Content-Security-Policy" in signed.headers
        assert "Webhook retries twice" in signed.text
        bad = client.get("/community/?channel=irc", headers={"Authorization": f"Bearer {token}"})
        assert bad.status_code == 400
        assert "channel" in bad.json()["detail"]
        plugins = client.get("/api/v2/plugins", headers={"Authorization": f"Bearer {token}"}).json()
    [view] = [v for p in plugins["plugins"] for v in p["external_views"] if v["name"] == "Community"]
    assert view["href"] == "/community/"
    assert view["destination"] == "nav"


def test_every_route_of_the_page_asks_airflow_who_is_there() -> None:
    """No route of the app (the page, its chart, any added later) answers without Airflow's user."""
    from fastapi.routing import APIRoute

    from community_monitoring.web import app

    routes = app.app.routes
    assert all(isinstance(route, APIRoute) for route in routes)
    assert {route.path for route in routes} == {"/", "/chart.png"}
    for route in routes:
        assert {d.call for d in route.dependant.dependencies} & {app.page_user, app.api_user}, route.path


@pytest.mark.parametrize("path", ["/", "/chart.png"])
def test_a_user_the_auth_manager_refuses_gets_403(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow.api_fastapi.app as airflow_app

    from community_monitoring.web import app

    class Refusing:
        def is_authorized_custom_view(self, *, method: str, resource_name: str, user: Any) -> bool:
            assert (method, resource_name) == ("GET", "Community")
            return False

    async def signed_in(request: Any, credentials: Any) -> object:
        return object()

    monkeypatch.setattr(app, "_airflow_user", signed_in)
    monkeypatch.setattr(airflow_app, "get_auth_manager", Refusing)
    monkeypatch.setattr(app, "_engine", lambda: pytest.fail("read the table for a refused user"))

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(path, params={"channel": "github"})

    answer = asyncio.run(get())
    assert answer.status_code == 403
    assert "Community" in answer.json()["detail"]


def _queue_titles(frame: Any) -> list[str]:
    return [t.strip() for t in frame.locator("#queue tbody tr td:first-child a.post").all_inner_texts()]


def test_community_page_in_a_browser(community_airflow: LocalAirflow, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = ensure_chromium()
    base = community_airflow.base_url
    began = time.monotonic()
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1400})
            # Posts live upstream: answer their URLs here, nothing leaves the machine.
            context.route(
                "https://*.example.com/**",
                lambda route: route.fulfill(status=200, content_type="text/html", body="<p>the post</p>"),
            )
            page = context.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            # Airflow's own login page (simple auth manager, the generated admin password).
            page.goto(f"{base}/")
            page.wait_for_url("**/auth/login**")
            page.locator("input[name=username]").fill("admin")
            page.locator("input[name=password]").fill(community_airflow.admin_password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/auth/login" not in url)

            # The Community item of the navigation shows the page inside the UI.
            nav = page.get_by_role("link", name="Community")
            expect(nav).to_be_visible(timeout=30_000)
            nav.click()
            page.wait_for_url("**/plugin/community**")
            frame = page.frame_locator("iframe[title=Community]")
            expect(frame.locator("#as-of")).to_have_text("2026-11-18 09:00 UTC", timeout=30_000)
            # Waiting at T2: the escalated one first, then the others oldest first; answered ones not.
            assert _queue_titles(frame) == [
                HOSTILE_TITLE,
                "Plugin API returns 403",
                "Webhook retries twice",
            ]

            # Filter by channel: the select box submits the form.
            frame.locator("select[name=channel]").select_option("github")
            expect(frame.locator("#queue-summary")).to_contain_text("on GitHub")
            assert _queue_titles(frame) == [HOSTILE_TITLE, "Webhook retries twice"]
            assert set(
                frame.locator("#queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.channel)")
            ) == {"github"}
            first = frame.locator("#queue tbody tr").first
            expect(first.locator("td").nth(3)).to_have_text("unanswered")
            expect(first.locator("td").nth(4)).to_have_text("3 d")
            expect(first.locator("td").nth(6)).to_have_text("sam.desk")
            expect(first.locator("td").nth(7)).to_have_text("escalated")
            expect(first.locator("td").nth(8)).to_have_text("6")
            # The browser URL follows the frame's: the filtered page can be bookmarked.
            expect(page).to_have_url(
                re.compile(r"/plugin/community/community/\?channel=github&view=waiting$")
            )

            # Untrusted text is text: nothing ran, nothing was injected.
            assert frame.locator("#queue img").count() == 0
            assert frame.locator("#queue b").count() == 0
            assert frame.locator("body").evaluate("() => window.__pwned === undefined")

            # The chart: an image that loaded.
            chart = frame.locator("img#chart")
            expect(chart).to_be_visible()
            chart.scroll_into_view_if_needed()
            page.wait_for_function(
                "() => { const f = document.querySelector('iframe[title=Community]');"
                " const img = f && f.contentDocument && f.contentDocument.getElementById('chart');"
                " return img && img.complete && img.naturalWidth > 0; }",
                timeout=30_000,
            )
            assert chart.evaluate("img => img.naturalWidth") > 0
            expect(frame.locator("#numbers")).to_contain_text("Escalated in [Help Wanted]")
            expect(frame.locator("#weekly")).to_contain_text("GitHub")

            frame.locator("body").evaluate("() => window.scrollTo(0, 0)")
            shot = tmp_path / "community-page.png"
            page.screenshot(path=str(shot), full_page=True)
            ARTIFACT.parent.mkdir(exist_ok=True)
            shutil.copyfile(shot, ARTIFACT)

            # A post opens in a new tab, even from inside the UI's sandboxed frame.
            with context.expect_page() as opened:
                frame.get_by_role("link", name="Webhook retries twice").click()
            assert opened.value.url == "https://github.example.com/posts/102"
            opened.value.close()

            # A past T, chosen in the select box: the forum question was still waiting then.
            frame.locator("select[name=channel]").select_option("")
            expect(frame.locator("#queue-summary")).not_to_contain_text("on GitHub")
            frame.locator("select[name=as_of]").select_option("2026-11-17T09:00:00Z")
            expect(frame.locator("#as-of")).to_have_text("2026-11-17 09:00 UTC")
            assert "How do I move channels between teams?" in _queue_titles(frame)

            # A digest's "… and N more" link (digest.full_list_url), opened on its own.
            page.goto(f"{base}/community?kind=help_wanted&as_of=2026-11-18T09:00:00Z&section=escalated")
            expect(page.locator("#digest-note")).to_contain_text("[Help Wanted]: escalated items")
            assert _queue_titles(page) == [HOSTILE_TITLE]
            page.goto(f"{base}/community?kind=triage&as_of=2026-11-18T09:00:00Z&section=bug")
            assert _queue_titles(page) == ["Webhook retries twice"]
        finally:
            browser.close()
    assert dialogs == []
    print(f"\nbrowser part: {time.monotonic() - began:.1f} s; screenshot {ARTIFACT} and {shot}")


# --- The page's query parameters (no Airflow needed) -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-18T09:00:00Z", T2),
        ("2026-11-18T09:00:00+00:00", T2),
        # An unencoded "+" in a query string arrives as a space.
        ("2026-11-18T10:00:00 01:00", T2),
        ("2026-11-18T09:00:00", T2),
        ("2026-11-18", datetime(2026, 11, 18, 23, 59, 59, 999999, tzinfo=UTC)),
        # A date in ISO 8601's other forms is that day too, not its first instant (a snapshot earlier).
        ("20261118", datetime(2026, 11, 18, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2026-W47-3", datetime(2026, 11, 18, 23, 59, 59, 999999, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_as_of_is_read_in_every_form_a_link_writes(text: str | None, expected: datetime | None) -> None:
    from community_monitoring.web.page import parse_as_of

    assert parse_as_of(text) == expected


@pytest.mark.parametrize(
    ("as_of", "written"),
    [
        ("2026-11-18T09:00:00Z", "2026-11-18T09:00:00Z"),
        ("2026-11-18T10:00:00.250+01:00", "2026-11-18T09:00:00Z"),
        # Before any run, as far back as the calendar goes: still a link the page can read back.
        ("0001-01-01", "0001-01-01T23:59:59Z"),
        ("0999-12-31T12:00:00Z", "0999-12-31T12:00:00Z"),
        ("9999-12-30", "9999-12-30T23:59:59Z"),
    ],
)
def test_the_page_links_t_as_it_reads_it(as_of: str, written: str) -> None:
    """A link the page writes (a digest note's "without the filter", the chart) reads back as T."""
    from community_monitoring.web.page import PageQuery, parse_as_of, select

    link = select(PageQuery.parse(as_of=as_of, kind="triage", section="bug")).link(kind="", section="")
    [value] = parse_qs(urlsplit(link).query)["as_of"]
    assert value == written
    assert parse_as_of(value) == parse_as_of(written)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"as_of": "yesterday"}, "as_of"),
        # Dates the calendar holds whose end of day or UTC it does not (an OverflowError, once a 500).
        ({"as_of": "9999-12-31"}, "as_of"),
        ({"as_of": "0001-01-01T00:00:00+01:00"}, "as_of"),
        ({"channel": "irc"}, "channel"),
        ({"post_type": "rant"}, "type"),
        ({"view": "everything"}, "view"),
        ({"kind": "release_closeout"}, "kind"),
        # SQL-ish, markup, a NUL, an offset out of range: named, never a 500.
        ({"channel": "github' OR 1=1--"}, "channel"),
        ({"post_type": "<script>alert(1)</script>"}, "type"),
        ({"as_of": "\x00"}, "as_of"),
        ({"as_of": "2026-11-18T09:00:00+99:00"}, "as_of"),
        ({"view": "all; DROP TABLE community_post_states"}, "view"),
    ],
)
def test_a_bad_parameter_is_named(params: dict[str, str], message: str) -> None:
    from community_monitoring.web.page import BadQuery, PageQuery

    with pytest.raises(BadQuery, match=f"^{message}:"):
        PageQuery.parse(**params)


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({"as_of": "9" * 100_000}, "'" + "9" * 63 + "…'"),
        ({"channel": "x" * 5_000}, "'" + "x" * 63 + "…'"),
        ({"view": "v" * 64}, "'" + "v" * 64 + "'"),
    ],
)
def test_a_huge_bad_value_is_quoted_cut(params: dict[str, str], shown: str) -> None:
    """The 400 answer names the parameter and quotes its value cut, not the kilobytes a URL sent."""
    from community_monitoring.web.page import BadQuery, PageQuery

    with pytest.raises(BadQuery) as raised:
        PageQuery.parse(**params)
    [name] = params
    message = str(raised.value)
    assert message.startswith(f"{name}: ")
    assert shown in message
    assert len(message) < 200


@pytest.mark.parametrize(
    ("kind", "section", "view", "channel", "post_type", "titles"),
    [
        ("help_wanted", "escalated", "help_wanted", "", "", [HOSTILE_TITLE]),
        (
            "help_wanted",
            "waiting_for_first_response",
            "help_wanted",
            "",
            "",
            [HOSTILE_TITLE, "Webhook retries twice"],
        ),
        ("help_wanted", "new_reply_to_core_team_question", "help_wanted", "", "", ["Plugin API returns 403"]),
        ("triage", "bug", "new", "", "bug", ["Webhook retries twice"]),
        ("weekly_review", "stackoverflow", "waiting", "stackoverflow", "", ["Plugin API returns 403"]),
        ("uservoice_review", "status_drift", "all", "uservoice", "", []),
    ],
)
def test_a_digest_link_shows_the_list_it_cut_short(
    kind: str, section: str, view: str, channel: str, post_type: str, titles: list[str]
) -> None:
    from community_monitoring.web.page import PageQuery, queue_rows, select

    selection = select(PageQuery.parse(as_of="2026-11-18T09:00:00Z", kind=kind, section=section))
    assert (selection.view, selection.channel, selection.post_type) == (view, channel, post_type)
    rows = [
        r
        for r in snapshot_rows(T2)
        if (not channel or r.channel == channel) and (not post_type or r.post_type == post_type)
    ]
    assert [r.title for r in queue_rows(rows, selection, T2)] == titles
    # Parameters given explicitly win over the digest's.
    assert select(PageQuery.parse(kind=kind, section=section, view="all")).view == "all"


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (
            timedelta(days=61, hours=14),
            "61 d",
        ),  # the backlog line's "oldest 61 d", an item line's "61 days ago"
        (timedelta(days=1), "1 d"),
        (timedelta(hours=16, minutes=50), "16 h"),
    ],
)
def test_the_queue_counts_waiting_as_the_digests_count_ages(age: timedelta, shown: str) -> None:
    from community_monitoring.web.page import queue_item

    assert queue_item(state("github", "9", "x", T2, created_at=T2 - age), T2).waiting == shown


def test_only_web_links_become_links() -> None:
    from community_monitoring.web.page import queue_item

    hostile = state("github", "9", "x", T2, url="javascript:alert(1)")
    assert queue_item(hostile, T2).url == ""
    assert queue_item(state("github", "9", "x", T2), T2).url == "https://github.example.com/posts/9"


def _page_html(monkeypatch: pytest.MonkeyPatch, engine: sa.Engine, **params: str) -> str:
    """The page as the app renders it for a signed-in user (the routes' auth is tested above)."""
    from community_monitoring.web import app

    monkeypatch.setattr(app, "_engine", lambda: engine)
    return bytes(app.community_page(None, object(), **params).body).decode()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("mallory", "mallory"),
        # Direction overrides, embeddings and isolates of its own: gone (the page isolates it).
        ("\u202emallory", "mallory"),
        ("\u202bsam\u202c", "sam"),
        ("sam\u2066x\u2069", "sam x"),
        ("two\nlines\r\n", "two lines"),
        # Right-to-left letters and markup stay as they are (the template isolates and escapes them).
        ("\u05e9\u05dc\u05d5\u05dd", "\u05e9\u05dc\u05d5\u05dd"),
        ('"><script>alert(1)</script>', '"><script>alert(1)</script>'),
    ],
)
def test_upstream_text_has_no_direction_of_its_own(text: str, shown: str) -> None:
    from community_monitoring.web.page import queue_item

    item = queue_item(state("github", "9", text, T2, author=text, owner=text), T2)
    assert (item.title, item.author, item.owner) == (shown, shown, shown)


@pytest.mark.parametrize(
    ("title", "author", "shown_title", "shown_author"),
    [
        ("x" * 300, "a" * 100, "x" * 300, "a" * 100),
        ("x" * 100_000, "a" * 5_000, "x" * 299 + "…", "a" * 99 + "…"),
        ("word " * 100, "name", ("word " * 60).rstrip() + "…", "name"),
    ],
)
def test_a_very_long_title_or_name_is_cut(
    title: str, author: str, shown_title: str, shown_author: str
) -> None:
    """A title of any length upstream (a thousand such rows made a page of megabytes, and one
    unbroken word stretched the queue past the screen) is shown cut, "…" last."""
    from community_monitoring.web.page import queue_item

    item = queue_item(state("github", "9", title, T2, author=author, owner=author), T2)
    assert (item.title, item.author, item.owner) == (shown_title, shown_author, shown_author)


HOSTILE_URLS = [
    "javascript:alert(1)",
    " JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example.com/x",
]


def test_hostile_posts_render_as_inert_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anyone can write a title, a name or a link upstream: none becomes markup, a script URL or
    text that turns the page's own words around (an author's U+202E showed the date backwards)."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'states.db'}")
    arabic = "\u0645\u0631\u064a\u0645"
    rows = [
        state(
            "github",
            "1",
            '"><img src=x onerror=alert(1)><script>alert(2)</script> &amp; **bold**',
            T2,
            author="\u202emallory",
            owner=f"{arabic}\u202e",
        ),
        *(state("github", str(i + 10), f"link {i}", T2, url=url) for i, url in enumerate(HOSTILE_URLS)),
    ]
    state_table.upsert_snapshot(engine, rows, T2, ["github"])
    html = _page_html(monkeypatch, engine, view="all")
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt; &amp;amp; **bold**" in html
    assert not re.search(r"href=\"\s*(javascript|data|vbscript|//)", html, re.IGNORECASE)
    assert html.count('class="post"') == 1  # only the post whose link is https
    assert "\u202e" not in html
    assert "by <bdi>mallory</bdi>, 2026-11-15 09:00 UTC" in html
    assert f"<td><bdi>{arabic}</bdi></td>" in html


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            sa.exc.OperationalError(
                "SELECT title FROM community_post_states WHERE channel = ?",
                ("github",),
                Exception("no such column: title"),
            ),
            "OperationalError: (builtins.Exception) no such column: title",
        ),
        (KeyError("community_monitoring_db"), "KeyError: 'community_monitoring_db'"),
        (RuntimeError("x" * 1000), "RuntimeError: " + "x" * 185 + "…"),
    ],
)
def test_a_table_that_cannot_be_read_is_named_without_its_sql(
    error: Exception, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page says the table could not be read and why in a line; the SQL and its parameters a
    database error carries stay in the log."""
    from community_monitoring.web import app

    def fail(selection: Any, engine: Any) -> None:
        raise error

    monkeypatch.setattr(app, "page_context", fail)
    monkeypatch.setattr(app, "_engine", lambda: None)
    answer = app.community_page(None, object())  # type: ignore[arg-type]
    html = bytes(answer.body).decode()
    assert answer.status_code == 500
    assert f'<p class="error">The state table could not be read ({escape(words)}).</p>' in html
    assert "SELECT" not in html
    assert "[SQL" not in html


def test_a_chart_whose_table_cannot_be_read_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chart, like the page, answers one line naming the failure, never the SQL or a trace."""
    from community_monitoring.web import app

    def fail(selection: Any, engine: Any) -> None:
        raise sa.exc.OperationalError(
            "SELECT * FROM community_post_states", ("x",), Exception("database is locked")
        )

    monkeypatch.setattr(app, "chart_png", fail)
    monkeypatch.setattr(app, "_engine", lambda: None)
    answer = app.community_chart(object())
    text = bytes(answer.body).decode()
    assert answer.status_code == 500
    assert answer.media_type == "text/plain"
    assert (
        text
        == "The state table could not be read (OperationalError: (builtins.Exception) database is locked)."
    )
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_channel_with_no_rows_at_t_that_had_some_before_is_named(tmp_path: Path) -> None:
    """A run that could not read a channel writes none of its rows: its posts must not vanish from
    the page without a word (the backlog fell as though they were all answered)."""
    import sqlalchemy as sa

    from community_monitoring import state_table
    from community_monitoring.web.app import page_context
    from community_monitoring.web.page import PageQuery, select

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'states.db'}")
    state_table.upsert_snapshot(engine, snapshot_rows(T1), T1)
    read_without_github = [r for r in snapshot_rows(T2) if r.channel != "github"]
    state_table.upsert_snapshot(engine, read_without_github, T2, channels=["forum", "stackoverflow"])
    assert state_table.channels_gone(engine, T2) == ["github"]
    assert state_table.channels_gone(engine, T1) == []
    context = page_context(select(PageQuery.parse()), engine)
    assert (context["at"], context["channels_gone"]) == (T2, ["GitHub"])
    forum_only = page_context(select(PageQuery.parse(channel="forum")), engine)
    assert forum_only["channels_gone"] == []
    assert page_context(select(PageQuery.parse(as_of="2026-11-17T09:00:00Z")), engine)["channels_gone"] == []


def test_every_section_a_digest_links_here_has_a_list_of_its_own() -> None:
    """messages.PAGE_SECTIONS says which "… and N more" link this page; each must open its section's
    rows, not a whole digest's (the rest link their archived full list)."""
    from community_monitoring.messages import PAGE_SECTIONS
    from community_monitoring.web.page import digest_filter

    for kind, sections in PAGE_SECTIONS.items():
        for section in sections:
            found = digest_filter(kind, section)
            assert found is not None
            assert "the whole list" not in found.words, (kind, section)
            assert "every type" not in found.words, (kind, section)


def test_a_post_the_run_could_not_read_stays_in_the_queue_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A post the run at T named as unreadable has no row of its own at T: it is listed from the row
    of the run that last read it, marked so, and the page says how many; never left out of the queue
    (and the backlog) without a word."""
    from community_monitoring.web import app
    from community_monitoring.web.page import PageQuery, select

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'states.db'}")
    channels = ["github", "forum", "stackoverflow"]
    state_table.upsert_snapshot(engine, snapshot_rows(T1), T1, channels)
    unread = ("github", "102")
    read = [r for r in snapshot_rows(T2) if (r.channel, r.source_id) != unread]
    state_table.upsert_snapshot(engine, read, T2, channels, unread=[unread])
    context = app.page_context(select(PageQuery.parse()), engine)
    assert (context["at"], context["unread"], context["tracked"]) == (T2, 1, len(snapshot_rows(T2)))
    marked = {item.title: item.last_read for item in context["queue"] if item.last_read}
    assert marked == {"Webhook retries twice": "2026-11-17 09:00"}
    assert app.page_context(select(PageQuery.parse(channel="forum")), engine)["unread"] == 0
    assert app.page_context(select(PageQuery.parse(as_of="2026-11-17T09:00:00Z")), engine)["unread"] == 0

    monkeypatch.setattr(app, "_engine", lambda: engine)
    html = bytes(app.community_page(None, object()).body).decode()  # type: ignore[arg-type]
    assert 'id="posts-unread">1 tracked post could not be read by this run' in html
    assert html.count("not read at this T: as last read at 2026-11-17 09:00 UTC") == 1
