"""The Community page's FastAPI app, mounted by the api-server at ``/community`` (SPEC §10).

Routes (relative to the mount):

* ``GET /`` — the page (HTML): the queue at T, the metrics, the chart. Query parameters, all
  optional: ``as_of`` (T: the latest snapshot at or before it; default the latest recorded),
  ``channel``, ``type`` (post type), ``view`` (``page.VIEWS``), and a digest's ``kind`` and
  ``section`` (what its "… and N more" link cut short: ``page.digest_filter``).
* ``GET /chart.png`` — the chart (``health_rendering.health_chart_png``) of the weekly median time
  to first response per channel, from the table's history up to T; ``as_of``, ``channel``, ``type``.

Authentication is Airflow's own: every route resolves the user with the api-server's
``airflow.api_fastapi.core_api.security.get_user`` (an ``Authorization: Bearer`` JWT, else the
``_token`` cookie the UI's login sets, as every core UI route does), then asks the configured auth
manager ``is_authorized_custom_view(method="GET", resource_name="Community")``. A browser without a
valid session is redirected to the auth manager's login page (``get_url_login(next_url=...)``),
which brings it back; ``chart.png`` and requests that carried a token answer 401/403 instead. A
user the auth manager refuses gets 403.

Importing this module does no I/O and imports nothing heavy (every Airflow process loads plugins):
the state table, pandas and matplotlib are imported by the first request.
"""

from __future__ import annotations

import functools
import logging
import secrets
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from jinja2 import Environment
    from sqlalchemy.engine import Engine
    from starlette.types import ASGIApp, Receive, Scope, Send

    from community_monitoring.web.page import Selection

URL_PREFIX = "/community"
# The resource name the auth manager is asked about (``is_authorized_custom_view``).
RESOURCE_NAME = "Community"
# The ledger's database, where the daily run records the post states (state_table.py).
CONN_ID = "community_monitoring_db"

_log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class LoginRequired(Exception):
    """A browser without a valid Airflow session: sent to the login page, then back."""

    def __init__(self, login_url: str) -> None:
        super().__init__(login_url)
        self.login_url = login_url


async def _airflow_user(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Any:
    """The user, as every core API route resolves it (bearer token first, then the session cookie)."""
    from airflow.api_fastapi.core_api.security import get_user

    return await get_user(request, None, credentials)


async def _authorize(user: Any) -> None:
    from airflow.api_fastapi.app import get_auth_manager

    allowed = await run_in_threadpool(
        functools.partial(
            get_auth_manager().is_authorized_custom_view, method="GET", resource_name=RESOURCE_NAME, user=user
        )
    )
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"Forbidden: no access to the {RESOURCE_NAME} page")


def _login_url(request: Request) -> str:
    from airflow.api_fastapi.app import get_auth_manager

    return str(get_auth_manager().get_url_login(next_url=str(request.url)))


async def page_user(request: Request, credentials: Credentials) -> Any:
    """The signed-in user; a browser without a valid session goes to Airflow's login page."""
    try:
        user = await _airflow_user(request, credentials)
    except HTTPException as error:
        if credentials is None and error.status_code in (
            status.HTTP_401_UNAUTHORIZED,
            status.HTTP_403_FORBIDDEN,
        ):
            raise LoginRequired(_login_url(request)) from None
        raise
    await _authorize(user)
    return user


async def api_user(request: Request, credentials: Credentials) -> Any:
    """The signed-in user; 401 or 403 (Airflow's own answers) otherwise."""
    user = await _airflow_user(request, credentials)
    await _authorize(user)
    return user


# ----- data ----------------------------------------------------------------------------------------


@functools.cache
def _engine(conn_id: str = CONN_ID) -> Engine:
    """The state table's database, opened once per process (a failure is not remembered)."""
    from community_monitoring.state_table import open_engine

    return open_engine(conn_id)


@functools.cache
def _templates() -> Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("community_monitoring.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _headers(nonce: str) -> dict[str, str]:
    """No script or style but the page's own (nonce), images from here, framed only by Airflow's UI."""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; img-src 'self'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}';"
            " form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "private, no-store",
    }


def _weekly_frame(engine: Engine, selection: Selection, at: Any) -> Any:
    """Each post's newest row over the chart's weeks (up to T), created in those weeks."""
    from community_monitoring import state_table
    from community_monitoring.health_rendering import chart_weeks

    first = chart_weeks(at)[0]
    return state_table.newest_frame(
        engine, first, at, selection.channel or None, selection.post_type or None, created_from=first
    )


def _empty_context(selection: Selection) -> dict[str, Any]:
    """The page's data when nothing was recorded (or the table could not be read)."""
    return {
        "at": None,
        "asked": selection.query.as_of,
        "recorded": 0,
        "as_of_choices": [],
        "queue": [],
        "queue_total": 0,
        "tracked": 0,
        "numbers": [],
        "weekly": [],
        "chart_src": "",
        "channels_gone": [],
        "unread": 0,
    }


def page_context(selection: Selection, engine: Engine) -> dict[str, Any]:
    """The page's data: the queue, the numbers and the weekly table of the selection, from ``engine``."""
    from community_monitoring import health, state_table
    from community_monitoring.channels import label as channel_label
    from community_monitoring.web import page

    recorded = state_table.recorded_as_of(engine)
    at = state_table.latest_as_of(engine, selection.query.as_of)
    context = _empty_context(selection)
    context.update(at=at, recorded=len(recorded), as_of_choices=page.as_of_choices(recorded, at))
    if at is None:
        return context
    rows = state_table.snapshot(engine, at, selection.channel or None, selection.post_type or None)
    gone = [
        c for c in state_table.channels_gone(engine, at) if c == selection.channel or not selection.channel
    ]
    context["channels_gone"] = [channel_label(c) for c in gone]
    # Posts the run at T could not read: listed from the row of the run that last read them, marked.
    carried = state_table.carried(engine, at)
    context["unread"] = sum((r.channel, r.source_id) in carried for r in rows)
    queue = page.queue_rows(rows, selection, at)
    weekly = health.weekly_metrics(_weekly_frame(engine, selection, at), at, by=("channel", "post_type"))
    chart_params = {"as_of": page.iso(at), "channel": selection.channel, "type": selection.post_type}
    context.update(
        queue=[page.queue_item(r, at, carried.get((r.channel, r.source_id))) for r in queue[: page.MAX_ROWS]],
        queue_total=len(queue),
        tracked=len(rows),
        numbers=page.number_lines(health.health_numbers(rows, at)),
        weekly=page.weekly_lines(weekly),
        chart_src="chart.png?" + urlencode({k: v for k, v in chart_params.items() if v}),
    )
    return context


def chart_png(selection: Selection, engine: Engine) -> bytes:
    """The chart of the selection as of its T: median hours to first response per channel, by week."""
    from datetime import UTC, datetime

    from community_monitoring import health, state_table
    from community_monitoring.health_rendering import health_chart_png

    at = state_table.latest_as_of(engine, selection.query.as_of)
    if at is None:
        now = datetime.now(UTC)
        return health_chart_png(health.weekly_metrics(health.rows_frame([]), now), now)
    return health_chart_png(
        health.weekly_metrics(_weekly_frame(engine, selection, at), at, by=("channel",)), at
    )


def _selection(
    as_of: str | None,
    channel: str | None,
    post_type: str | None,
    view: str | None,
    kind: str | None,
    section: str | None,
) -> Selection:
    from community_monitoring.web import page

    try:
        return page.select(page.PageQuery.parse(as_of, channel, post_type, view, kind, section))
    except page.BadQuery as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None


# ----- the app -------------------------------------------------------------------------------------

app = FastAPI(
    title="Community page",
    description="The community's queue, metrics and chart, from the post state table (SPEC §10).",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)


@app.exception_handler(LoginRequired)
async def _to_login(request: Request, error: LoginRequired) -> Response:
    return RedirectResponse(error.login_url, status_code=status.HTTP_303_SEE_OTHER)


AsOf = Annotated[str | None, Query(description="T: the latest snapshot at or before it (ISO 8601 or a date)")]
Channel = Annotated[str | None, Query(description="one channel, e.g. github")]
PostType = Annotated[str | None, Query(alias="type", description="one post type, e.g. bug")]


@app.get("/", response_class=HTMLResponse)
def community_page(
    request: Request,
    user: Annotated[Any, Depends(page_user)],
    as_of: AsOf = None,
    channel: Channel = None,
    post_type: PostType = None,
    view: Annotated[str | None, Query(description="waiting, help_wanted, new or all")] = None,
    kind: Annotated[str | None, Query(description="the digest whose full list is asked for")] = None,
    section: Annotated[str | None, Query(description="the digest's section")] = None,
) -> HTMLResponse:
    from community_monitoring.web import page

    selection = _selection(as_of, channel, post_type, view, kind, section)
    nonce = secrets.token_urlsafe(16)
    try:
        data = page_context(selection, _engine())
        error = ""
    except Exception as exc:  # the database or its connection: say so on the page, log the rest
        _log.exception("The Community page could not read the state table")
        data, error = (
            _empty_context(selection),
            f"The state table could not be read ({page.failure_words(exc)}).",
        )
    html = (
        _templates()
        .get_template("community.html.j2")
        .render(
            nonce=nonce,
            error=error,
            data=data,
            selection=selection,
            views=page.VIEWS,
            channels=page.CHANNEL_CHOICES,
            types=page.TYPE_CHOICES,
            kind_titles=page.KIND_TITLES,
            user_name=_user_name(user),
            max_rows=page.MAX_ROWS,
            weekly_columns=page.WEEKLY_COLUMNS,
        )
    )
    return HTMLResponse(html, headers=_headers(nonce), status_code=500 if error else 200)


def _user_name(user: Any) -> str:
    get_name = getattr(user, "get_name", None)
    return str(get_name()) if callable(get_name) else ""


@app.get("/chart.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def community_chart(
    user: Annotated[Any, Depends(api_user)],
    as_of: AsOf = None,
    channel: Channel = None,
    post_type: PostType = None,
) -> Response:
    from community_monitoring.web import page

    selection = _selection(as_of, channel, post_type, None, None, None)
    try:
        png = chart_png(selection, _engine())
    except Exception as exc:  # as on the page: one line for the browser, the rest in the log
        _log.exception("The Community chart could not read the state table")
        return PlainTextResponse(
            f"The state table could not be read ({page.failure_words(exc)}).",
            status_code=500,
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )
    return Response(
        png,
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


class TrailingSlash:
    """A root middleware: ``/community?...`` (as a digest link may write it) → ``/community/?...``.

    Without it the bare prefix misses the mount and lands on the UI's catch-all page.
    """

    def __init__(self, app: ASGIApp, path: str = URL_PREFIX) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        root = scope.get("root_path", "") if scope["type"] == "http" else None
        if root is not None and scope["path"] in (root + self.path, self.path):
            query = scope.get("query_string", b"").decode("latin-1")
            target = f"{root}{self.path}/" + (f"?{query}" if query else "")
            await RedirectResponse(target, status_code=status.HTTP_307_TEMPORARY_REDIRECT)(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)
