"""Jira Cloud tickets (search with ``nextPageToken``) and the UserVoice suggestions they link.

A ticket links a suggestion through a remote link whose URL is the suggestion's portal URL, or
by that URL in its description. Jira has no batch endpoint for remote links, so they are read
per ticket, for the tickets the configured JQL returns only, and only for the tickets whose
``fields.updated`` changed since their links were last read: the links' URLs are kept in the
item cache (``item_cache.py``) with that stamp (SPEC §9).

Every search page must carry its ``issues`` list (and remote links a list): anything else is
retried by the HTTP layer, then an error, never an empty page. A ticket without its key or with
fields of the wrong shape is skipped and named in ``Fetched.problems``; so is a remote link
without a URL, and a ticket whose remote links answer 404 (deleted, or hidden from the API user,
since the search listed it): both tickets are kept, the latter without its remote links.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, StrictBool

from community_monitoring.item_cache import CachedItem, kept_as_read
from community_monitoring.records import JiraTicket, JiraVersion
from community_monitoring.sources import Fetched, FetchRequest, ItemProblem
from community_monitoring.sources.http import (
    ApiClient,
    Call,
    HttpPolicy,
    InvalidResponseError,
    NewItemsOnly,
    UpstreamError,
    endless_pages,
)
from community_monitoring.sources.items import IsoTime, Item, ItemChecker, field_of
from community_monitoring.timeutil import parse_time

if TYPE_CHECKING:
    from community_monitoring.item_cache import ItemCache

log = logging.getLogger(__name__)

JIRA_CONN_ID = "jira_default"
SEARCH = "/rest/api/3/search/jql"
MYSELF = "/rest/api/3/myself"
MAX_PAGES = 10_000  # a million tickets: a search still going on after that is not answering pages
# The item cache's name for a ticket's remote-link URLs (a new payload form needs a new name).
REMOTE_LINKS_CACHE = "jira.remote_links.v1"
FIELDS = "summary,description,status,resolution,fixVersions,labels,updated,resolutiondate,created"
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")
# A ticket's remote links answering this are the ticket's own problem: Jira says 404 for a ticket
# that does not exist or that the API user may not see, which a ticket deleted (or put under issue
# security) between the search and its links' call is. 403 is not among them: Jira answers it when
# issue linking is switched off for the whole site, so every ticket would answer it.
GONE_STATUSES = frozenset({404})
# How far a JQL date is written before the time it means: the furthest a time zone lies behind UTC
# (UTC-12), so a ticket updated at ``since`` is found whatever zone the API user has.
JQL_ZONE_SLACK = timedelta(hours=12)


class SearchPage(BaseModel):
    """``/rest/api/3/search/jql``."""

    issues: list[Any]
    nextPageToken: str | None = None
    isLast: bool | None = None


class Named(Item):
    name: str | None = None


class FixVersion(Item):
    """A version object of ``fields.fixVersions``. Jira (Cloud v3 and Server/DC v2 alike) always
    sends ``released`` and ``archived``: left out, another product's released version would read as
    unreleased and its tracking-sheet row wait for ever, so an object without them is an item error.
    ``releaseDate`` (YYYY-MM-DD) is sent only when the version has one."""

    name: str | None = None
    released: StrictBool
    archived: StrictBool
    releaseDate: date | None = None


class StatusCategory(Item):
    name: str | None = None


class Status(Item):
    name: str = Field(min_length=1)
    statusCategory: StatusCategory | None = None


class Fields(Item):
    summary: str | None = None
    # Every search asks for it: a ticket without one cannot be told resolved or open (an item error).
    status: Status
    # Asked for by every search and always sent (null or []) when the API user can see them; Jira
    # leaves out a field hidden from the ticket. Read as "none", a hidden fixVersions drops the
    # ticket from its release's closeout, hidden labels make an Enterprise ticket Team Edition, a
    # hidden resolution makes it look open: an item error instead.
    resolution: Named | None
    fixVersions: list[FixVersion]
    labels: list[str]
    updated: IsoTime | None = None
    resolutiondate: IsoTime | None = None
    created: IsoTime | None = None


class Ticket(Item):
    """The fields of a search result that the normaliser and the review read."""

    key: str = Field(min_length=1)
    fields: Fields


class LinkObject(Item):
    url: str


class RemoteLink(Item):
    object: LinkObject


def _description_text(description: Any) -> str:
    """Plain text of a description: a string (Server, v2) or an Atlassian document (Cloud, v3)."""
    if description is None:
        return ""
    if isinstance(description, str):
        return description
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                parts.append(str(node.get("text") or ""))
            href = (node.get("attrs") or {}).get("href") or (node.get("attrs") or {}).get("url")
            if href:
                parts.append(str(href))
            for child in node.get("content") or ():
                walk(child)
            for mark in node.get("marks") or ():
                walk(mark)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(description)
    return " ".join(parts)


# A status category's key is the same in every language; its name is the API user's (a Jira in
# German says "Fertig"): the rules file names the categories in English.
_CATEGORY_NAMES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}


def _status_category(category: dict[str, Any]) -> str:
    """The status category by its key's English name (its own name when the key is unknown)."""
    return _CATEGORY_NAMES.get(str(category.get("key") or ""), str(category.get("name") or ""))


def normalise_ticket(
    raw: dict[str, Any], remote_links: Iterable[dict[str, Any]], browse_base: str
) -> JiraTicket:
    fields = raw.get("fields") or {}
    status = fields.get("status") or {}
    resolution = fields.get("resolution") or None
    urls = [str((link.get("object") or {}).get("url") or "") for link in remote_links]
    versions = [v for v in fields.get("fixVersions") or () if isinstance(v, dict)]
    # A URL at the end of a sentence keeps none of the sentence's punctuation.
    urls += [u.rstrip(".,;:!?") for u in _URL.findall(_description_text(fields.get("description")))]
    return JiraTicket(
        key=str(raw["key"]),
        url=f"{browse_base.rstrip('/')}/browse/{raw['key']}",
        summary=str(fields.get("summary") or ""),
        status=str(status.get("name") or ""),
        status_category=_status_category(status.get("statusCategory") or {}),
        resolution=str(resolution.get("name")) if isinstance(resolution, dict) else None,
        fix_versions=tuple(str(v.get("name") or "") for v in versions),
        versions=tuple(
            JiraVersion(
                name=str(v.get("name") or ""),
                released=v.get("released") is True,
                archived=v.get("archived") is True,
                release_date=str(v.get("releaseDate") or "") or None,
            )
            for v in versions
        ),
        labels=tuple(str(label) for label in fields.get("labels") or ()),
        linked_urls=tuple(u for u in dict.fromkeys(urls) if u),
        updated_at=parse_time(fields["updated"]).isoformat() if fields.get("updated") else None,
        resolved_at=parse_time(fields["resolutiondate"]).isoformat()
        if fields.get("resolutiondate")
        else None,
        created_at=parse_time(fields["created"]).isoformat() if fields.get("created") else None,
    )


class JiraClient:
    def __init__(self, api: ApiClient) -> None:
        self._api = api
        self._checked_credentials = False

    @classmethod
    def from_connection(cls, conn_id: str = JIRA_CONN_ID, policy: HttpPolicy | None = None) -> JiraClient:
        return cls(ApiClient(conn_id, "jira", policy=policy))

    @property
    def request_count(self) -> int:
        return self._api.request_count

    def search_pages(self, jql: str, fields: str = FIELDS) -> Iterator[list[Any]]:
        """Every page of the search, following ``nextPageToken`` while there is one.

        The token is what pages: ``isLast`` is optional in the endpoint's schema, and Cloud leaves
        out a key rather than send null, so a page without it is not the last one when it carries a
        token. A token given twice would page forever, and ``isLast: false`` without a token cannot
        be paged on: both are invalid answers. (Only Cloud's token search is read: the offset-paged
        ``/rest/api/*/search`` is gone from Cloud.)
        """
        call = self._api.call("GET", SEARCH)
        new_only = NewItemsOnly(call, _issue_id)
        token: str | None = None
        seen: set[str] = set()
        found = 0
        for number in range(1, MAX_PAGES + 1):
            params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": 100}
            if token:
                params["nextPageToken"] = token
            try:
                page = self._api.get_page(SEARCH, SearchPage, params)
            except UpstreamError as exc:
                if exc.status == 400:
                    # Anonymous may not see the project: "The value 'MM' does not exist for the
                    # field 'project'" is then about the credentials, not the JQL.
                    self._check_credentials_taken(call, "was refused")
                raise
            token = page.nextPageToken
            if token and not page.issues:
                # Never a page of a search that goes on: paging on would ask for ever.
                raise call.error(
                    200, f"page {number} is empty but carries a nextPageToken", InvalidResponseError
                )
            if page.isLast is False and not token:
                # A search that says it goes on but gives no way to the next page: ending here would
                # lose the rest of its tickets in a green run.
                detail = f"page {number} says isLast: false but carries no nextPageToken"
                raise call.error(200, detail, InvalidResponseError)
            found += len(page.issues)
            yield new_only(page.issues, number)
            if not token:
                if not found:
                    self._check_credentials_taken(call, "found nothing")
                return
            if token in seen:
                raise call.error(200, "the same nextPageToken came back twice", InvalidResponseError)
            seen.add(token)
        raise endless_pages(call, MAX_PAGES)

    def _check_credentials_taken(self, search: Call, outcome: str) -> None:
        """After a search that found nothing or was refused (``outcome``): the connection's
        credentials were taken.

        Jira Cloud serves a request whose Basic credentials it does not take (a revoked or expired
        API token, a wrong email) as anonymous: a search answers 200 with what anonymous may see,
        nothing for a private project, so a dead token read as a quiet day (or 400, the project
        "does not exist", which sends the operator to the JQL). Only ``/myself`` answers 401 then. Any other answer to it (a token without that scope: 403) tells nothing,
        and the empty search stands.
        """
        if self._checked_credentials or not self._api.sends_credentials:
            return
        self._checked_credentials = True
        try:
            self._api.get_json(MYSELF)
        except UpstreamError as exc:
            if exc.status != 401:
                log.warning("Jira: could not check the connection's credentials (%s)", exc)
                return
            detail = (
                f"{outcome}, and Jira does not take the connection's credentials (GET "
                f"{MYSELF} answered 401): Jira Cloud answers a search with credentials it does not "
                "take as anonymous; check the connection's login (the account's email) and its "
                "password (an API token, maybe expired or revoked)"
            )
            raise search.error(401, detail) from None

    def search(self, jql: str, fields: str = FIELDS) -> Iterator[Any]:
        for issues in self.search_pages(jql, fields):
            yield from issues

    def remote_links(self, key: str) -> list[Any]:
        return self._api.get_page(f"/rest/api/3/issue/{key}/remotelink", list[Any])


def _issue_id(raw: Any) -> Any:
    """A searched ticket's id or key, to tell a repeated one (None: not told, kept)."""
    return (raw.get("id") or raw.get("key")) if isinstance(raw, dict) else None


# A JQL token: a quoted string (either quote, backslash escapes), a parenthesis, an OR spelled
# "|" or "||", or a run of anything else; so that words inside quotes are never read as keywords.
_JQL_TOKEN = re.compile(r"\"(?:[^\"\\]|\\.)*\"?|'(?:[^'\\]|\\.)*'?|[()]|\|\|?|[^\s\"'()|]+")


def _jql_filter(jql: str) -> tuple[str, bool]:
    """The query of a JQL without its ORDER BY, and whether an OR joins it at its top level."""
    depth = 0
    top_or = False
    words: list[tuple[str, int]] = []  # top-level unquoted words and where they start
    for token in _JQL_TOKEN.finditer(jql):
        text = token.group()
        if text == "(":
            depth += 1
        elif text == ")":
            depth = max(depth - 1, 0)
        elif depth == 0 and text[0] not in "\"'":
            if text.lower() in ("or", "|", "||"):
                top_or = True
            if text.lower() == "by" and words and words[-1][0].lower() == "order":
                return jql[: words[-1][1]].strip(), top_or
            words.append((text, token.start()))
    return jql.strip(), top_or


def build_jql(base_jql: str, since: datetime | None, narrow: str | None = None) -> str:
    """The configured JQL, narrowed by ``narrow`` (a JQL query) and to tickets updated since
    ``since`` at the latest, newest first.

    The configured JQL's own ORDER BY is dropped (ours comes last: a clause added after it would
    be dropped with it), and a query joined by a top-level OR is parenthesised before the AND, which
    binds tighter (``a OR b AND c`` is ``a OR (b AND c)``); a query of ANDs is sent as written.

    Jira reads a date in JQL as a wall time in the API user's time zone, which the product does not
    know: the date written is ``since`` in UTC less ``JQL_ZONE_SLACK``, so that it falls at or before
    ``since`` in every zone, and ``fetch_jira_tickets`` drops what was updated before ``since``.
    """
    query, top_or = _jql_filter(base_jql)
    if not query:
        raise ValueError(
            "config key 'jira.jql' is empty (or only an ORDER BY): Jira refuses unbounded searches"
        )
    parts = [(query, top_or)]
    if narrow:
        parts.append(_jql_filter(narrow))
    if since is not None:
        when = (since.astimezone(UTC) - JQL_ZONE_SLACK).strftime("%Y-%m-%d %H:%M")
        parts.append((f'updated >= "{when}"', False))
    if len(parts) > 1:
        query = " AND ".join(f"({part})" if grouped else part for part, grouped in parts)
    return f"{query} ORDER BY updated DESC"


def _checked_links(checker: ItemChecker, key: str, links: list[Any]) -> list[dict[str, Any]]:
    kept = []
    for index, raw in enumerate(links, start=1):
        if checker.check(RemoteLink, raw, f"{key} remote link {index}") is not None:
            kept.append(raw)
    return kept


def _link_urls(links: Iterable[dict[str, Any]]) -> list[str]:
    return [str(link["object"]["url"]) for link in links]


def _links_of(urls: list[str]) -> list[dict[str, Any]]:
    """Cached URLs in the shape the normaliser reads remote links in."""
    return [{"object": {"url": url}} for url in urls]


def _is_url_list(payload: Any) -> bool:
    return isinstance(payload, list) and all(isinstance(url, str) for url in payload)


class RemoteLinkReader:
    """Each ticket's remote links: served from the cache while its ``fields.updated`` is unchanged,
    read (one call per ticket) when it changed or was never read."""

    def __init__(
        self, client: JiraClient, checker: ItemChecker, browse_base: str, cache: ItemCache | None
    ) -> None:
        self._client = client
        self._checker = checker
        self._browse = browse_base.rstrip("/")
        self._cache = cache
        self.read = 0
        self.unchanged = 0

    def _cache_key(self, ticket: Ticket) -> str:
        # The ticket's URL: unique across Jira sites sharing one database.
        return f"{self._browse}/browse/{ticket.key}"

    def of(self, tickets: Sequence[Ticket]) -> dict[str, list[dict[str, Any]]]:
        """Ticket key → its checked remote links, for one search page of tickets."""
        versions = {
            self._cache_key(t): t.fields.updated.isoformat() for t in tickets if t.fields.updated is not None
        }
        cached = self._cache.get_many(REMOTE_LINKS_CACHE, versions) if self._cache else {}
        links: dict[str, list[dict[str, Any]]] = {}
        with kept_as_read(self._cache, REMOTE_LINKS_CACHE) as fresh:
            for ticket in tickets:
                key = self._cache_key(ticket)
                if _is_url_list(cached.get(key)):
                    self.unchanged += 1
                    links[ticket.key] = _links_of(cached[key])
                    continue
                self.read += 1
                try:
                    raw = self._client.remote_links(ticket.key)
                except UpstreamError as exc:
                    if exc.status not in GONE_STATUSES:
                        raise
                    # The ticket is kept (its description still links) and named; nothing is cached, so
                    # the next run reads its links again rather than taking them for none.
                    detail = f"{exc.method} {exc.endpoint} answered {exc.status}: {exc.detail}"
                    self._checker.report(ticket.key, f"remote links not read ({detail}); kept without them")
                    links[ticket.key] = []
                    continue
                links[ticket.key] = _checked_links(self._checker, ticket.key, raw)
                # A ticket with a bad link is not cached: it is read, and named, again next run.
                if key in versions and len(links[ticket.key]) == len(raw):
                    fresh.append(CachedItem(key, versions[key], _link_urls(links[ticket.key])))
        return links

    def log_counts(self) -> None:
        log.info("Jira remote links: %s read, %s unchanged (cache)", f"{self.read:,}", f"{self.unchanged:,}")


def _checked_tickets(checker: ItemChecker, page: list[Any], offset: int) -> list[tuple[Ticket, Any]]:
    checked: list[tuple[Ticket, Any]] = []
    for index, raw in enumerate(page, start=offset + 1):
        name = str(field_of(raw, "key") or f"search result {index}")
        ticket = checker.check(Ticket, raw, name)
        if ticket is not None:
            checked.append((ticket, raw))
    return checked


def fetch_jira_tickets(
    client: JiraClient,
    base_jql: str,
    since: datetime | None,
    browse_base: str,
    remote_links: bool = True,
    problems: list[ItemProblem] | None = None,
    *,
    cache: ItemCache | None = None,
    narrow: str | None = None,
) -> Iterator[JiraTicket]:
    """Tickets of the JQL (and of ``narrow``, a JQL query) updated since ``since``; a ticket that is
    not what the API promises is skipped and named in ``problems``. ``cache``: remote links read by
    earlier runs (None: read all)."""
    checker = ItemChecker("jira", problems)
    reader = RemoteLinkReader(client, checker, browse_base, cache) if remote_links else None
    count = seen = 0
    early = 0
    for page in client.search_pages(build_jql(base_jql, since, narrow)):
        tickets = _checked_tickets(checker, page, seen)
        seen += len(page)
        if since is not None:
            kept = [(t, raw) for t, raw in tickets if t.fields.updated is None or t.fields.updated >= since]
            early += len(tickets) - len(kept)
            tickets = kept
        links = reader.of([ticket for ticket, _ in tickets]) if reader else {}
        for ticket, raw in tickets:
            built = checker.build(ticket.key, normalise_ticket, raw, links.get(ticket.key, []), browse_base)
            if built is not None:
                count += 1
                yield built
    log.info("Jira: %d tickets in %d requests", count, client.request_count)
    if since is not None:
        # The search starts JQL_ZONE_SLACK early (the API user's time zone): what it found before
        # ``since`` is left out.
        log.info("Jira: %d tickets updated before %s left out", early, since.isoformat())
    if reader:
        reader.log_counts()


def fetch_for(request: FetchRequest, clause: str | None, since: datetime | None) -> Fetched:
    """Tickets the configured JQL returns, narrowed by ``clause`` and to those updated since ``since``."""
    section = request.settings.jira
    client = JiraClient.from_connection(policy=HttpPolicy.from_settings(request.settings))
    problems: list[ItemProblem] = []
    tickets = fetch_jira_tickets(
        client,
        section.jql,
        since,
        section.browse_url,
        remote_links=section.read_remote_links,
        problems=problems,
        cache=request.cache,
        narrow=clause,
    )
    return Fetched(tickets=tickets, problems=problems)


def fetch(request: FetchRequest) -> Fetched:
    """Tickets updated within ``jira.lookback_days`` of T: those that may link UserVoice suggestions."""
    since = request.until - timedelta(days=request.settings.jira.lookback_days)
    return fetch_for(request, None, since)


def release_clause(version: str) -> str:
    """JQL for the tickets with this fixVersion, however the release is written: ``11.1``, ``11.1.0``,
    with or without a leading "v" (a closeout for ``11.1.0`` must find the tickets fixed in ``v11.1``)."""
    from community_monitoring.versions import spellings

    return "fixVersion in (" + ", ".join(f'"{form}"' for form in spellings(version)) + ")"
