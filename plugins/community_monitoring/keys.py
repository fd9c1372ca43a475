"""Every ledger key, built here and only here (SPEC §6: each notification has one key).

A key says what was sent, so the same thing is never sent twice whichever run or retry tries:
a digest is (DAG, kind, T); an upstream reply is the post; a status change is (suggestion,
status); a thank-you is (suggestion, version).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, unquote

from community_monitoring.versions import release_key

log = logging.getLogger(__name__)

# The ledger's key column holds this many characters (a VARCHAR on Postgres, which refuses more).
KEY_MAX_CHARS = 512


def digest_key(dag_id: str, kind: str, as_of: datetime) -> str:
    return f"{kind_prefix(dag_id, kind)}{as_of.isoformat()}"


def kind_prefix(dag_id: str, kind: str) -> str:
    """What every ``digest_key`` of the DAG's ``kind`` starts with, whatever its T."""
    return f"{dag_id}:{kind}:"


# A digest sent while channels could not be read is keyed with them ("…:without:forum"); once they
# can be read, their posts go out once more, on their own ("…:recovered:forum").
WITHOUT, RECOVERED = ":without:", ":recovered:"


# A post a digest left out because it could not be read is owed as a channel is: its token
# "<channel>/<source_id>" stands beside the channel names after ":without:", and once a run reads
# the post, after ":recovered:". The id is quoted so that no "," or ":" of it reads as a separator.
def left_out_token(channel: str, post_id: str) -> str:
    return f"{channel}/{quote(post_id, safe='/#@')}"


def token_channel(token: str) -> str:
    """The channel of a ``:without:`` token: the channel itself, or a left-out post's channel."""
    return token.split("/", 1)[0]


def split_tokens(tokens: Iterable[str]) -> tuple[list[str], list[str]]:
    """``:without:`` tokens as (whole channels, left-out posts), each in the order given."""
    channels: list[str] = []
    posts: list[str] = []
    for token in tokens:
        (posts if "/" in token else channels).append(token)
    return channels, posts


def left_out_posts(tokens: Iterable[str]) -> dict[str, set[str]]:
    """The left-out posts among ``tokens``: channel → their ``source_id``s (whole channels left out)."""
    posts: dict[str, set[str]] = {}
    for token in tokens:
        channel, _, post_id = token.partition("/")
        if post_id:
            posts.setdefault(channel, set()).add(unquote(post_id))
    return posts


@dataclass(frozen=True)
class CoveredDigest:
    """Which key a digest goes out under, and whether it only catches up on channels an earlier
    digest with the same T could not read (``catch_up``: those channels, now read)."""

    key: str
    catch_up: tuple[str, ...] = ()
    sent_before: bool = False  # the key's digest went out already: nothing new to send or archive
    first: str = ""  # the key the first digest of this T went out under ("" when none did yet)


def covered_digest_key(
    base: str, earlier: Mapping[str, bool], missing_now: Iterable[str], owed_elsewhere: Iterable[str] = ()
) -> CoveredDigest:
    """The key of a digest whose items never come back another day ([Triage]: each post is new once).

    ``base``: the digest's key (DAG, kind, T). ``earlier``: the keys already in the ledger under
    ``base`` → whether something of theirs may have arrived (sent, being sent, or uncertain; a try
    that provably sent nothing does not count). ``missing_now``: the channels this run could not
    read, and the posts it left out (``left_out_token``); a left-out post of a channel not read now
    is not caught up on either. ``owed_elsewhere``: left-out posts an earlier T's digest names
    already (``left_out_before``): a new key does not name them again (a post is new on one day only,
    and one that stays unreadable would otherwise be owed by every day's digest).

    - Nothing arrived yet: the whole digest, under ``base``, or ``base:without:<channels>`` when
      channels are missing (it says so).
    - The first digest was whole: ``base`` again (the ledger sends nothing twice).
    - It lacked channels: those read now and not caught up on yet are caught up on, under
      ``base:recovered:<channels>``; none: the first digest's key again (nothing new to send).
    """
    missing = sorted(set(missing_now))
    arrived = sorted(key for key, may_have_arrived in earlier.items() if may_have_arrived)
    first = next((key for key in arrived if key == base or key.startswith(base + WITHOUT)), None)
    if first is None:
        elsewhere = set(owed_elsewhere)
        named = _within_key(base, [token for token in missing if token not in elsewhere])
        return CoveredDigest(base + WITHOUT + ",".join(named) if named else base)
    if first == base:
        return CoveredDigest(base, sent_before=True, first=first)
    owed = set(first[len(base + WITHOUT) :].split(","))
    for key in arrived:
        if key.startswith(base + RECOVERED):
            owed -= set(key[len(base + RECOVERED) :].split(","))
    ready = tuple(sorted(t for t in owed - set(missing) if token_channel(t) not in missing))
    if not ready:
        return CoveredDigest(first, sent_before=True, first=first)
    return CoveredDigest(base + RECOVERED + ",".join(ready), ready, first=first)


def _within_key(base: str, tokens: list[str]) -> list[str]:
    """``tokens`` as a key of ``base`` can name them: every channel, then the left-out posts in order
    while even its longer ``:recovered:`` key fits the ledger's column. The posts beyond are not owed
    a catch-up (the digest's footer names them all)."""
    named, posts = split_tokens(tokens)
    room = KEY_MAX_CHARS - len(base + RECOVERED + ",".join(named))
    for index, token in enumerate(posts):
        room -= len(token) + 1
        if room < 0:
            log.warning(
                "%s: %d left-out posts are more than its key can name; %s and the %d after it will not "
                "be caught up on once read (its footer names them)",
                base,
                len(posts),
                token,
                len(posts) - index - 1,
            )
            break
        named.append(token)
    return sorted(named)


@dataclass(frozen=True)
class OwedDigest:
    """An earlier T's digest that went out without channels this run reads: their posts of that day
    follow under ``covered.key`` (the same key a cleared run of that T would send them under)."""

    as_of: datetime
    covered: CoveredDigest


def owed_digests(
    kind_prefix: str,
    deliveries: Mapping[str, bool],
    missing_now: Iterable[str],
    earliest: datetime,
    latest: datetime,
) -> list[OwedDigest]:
    """The digests of the T's in [``earliest``, ``latest``) owed a catch-up, oldest first.

    ``kind_prefix``: ``digest_key(dag, kind, T)`` without its T (``"dag:kind:"``). ``deliveries``:
    every ledger key under it → whether something of it may have arrived (``covered_digest_key``'s
    ``earlier``). A T whose digest never went out is not owed here (its failed run's alert said to
    clear it); one whose missing channels are caught up on already, or still missing, is not either.
    """
    bases: dict[str, dict[str, bool]] = {}
    for key, arrived in deliveries.items():
        if key.startswith(kind_prefix):
            bases.setdefault(kind_prefix + _stamp_text(kind_prefix, key), {})[key] = arrived
    owed = []
    for base, earlier in bases.items():
        if not any(key.startswith(base + WITHOUT) for key in earlier):
            continue
        as_of = digest_time(kind_prefix, base)
        if as_of is None or not earliest <= as_of < latest:
            continue
        covered = covered_digest_key(base, earlier, missing_now)
        if covered.catch_up:
            owed.append(OwedDigest(as_of, covered))
    return sorted(owed, key=lambda digest: digest.as_of)


def left_out_before(
    kind_prefix: str, deliveries: Mapping[str, bool], as_of: datetime | None = None
) -> set[str]:
    """The left-out posts (``left_out_token``) that a digest of the kind for a T before ``as_of``
    (any T without it) went out without (or may have). ``deliveries``: as :func:`owed_digests`'."""
    tokens: set[str] = set()
    for key, arrived in deliveries.items():
        if not arrived or WITHOUT not in key:
            continue
        sent = digest_time(kind_prefix, key)
        if sent is not None and (as_of is None or sent < as_of):
            tokens.update(split_tokens(key.split(WITHOUT, 1)[1].split(","))[1])
    return tokens


def left_out_owed(kind_prefix: str, deliveries: Mapping[str, bool], earliest: datetime) -> set[str]:
    """The left-out posts a digest of the kind for a T from ``earliest`` on went out without (or may
    have) and no catch-up of that T has listed yet. ``deliveries``: as :func:`owed_digests`'."""
    owed: dict[str, set[str]] = {}
    done: dict[str, set[str]] = {}
    for key, arrived in deliveries.items():
        sent = digest_time(kind_prefix, key)
        if not arrived or sent is None or sent < earliest:
            continue
        for marker, into in ((WITHOUT, owed), (RECOVERED, done)):
            if marker in key:
                base, tokens = key.split(marker, 1)
                into.setdefault(base, set()).update(split_tokens(tokens.split(","))[1])
    return {token for base, tokens in owed.items() for token in tokens - done.get(base, set())}


def sent_for_a_later_day(
    kind_prefix: str, deliveries: Mapping[str, bool], as_of: datetime, day: timedelta = timedelta(days=1)
) -> bool:
    """Whether a digest of the kind went out (or may have) for a later day: a T ``day`` or more
    after ``as_of`` (a run of the same day, a few hours later, is the same day's list).

    ``deliveries``: as :func:`owed_digests`'. A backfilled day older than a day already posted
    mentions nobody: the channel was pinged for a later day, by whoever was on rotation then."""
    return any(
        arrived and (sent := digest_time(kind_prefix, key)) is not None and sent >= as_of + day
        for key, arrived in deliveries.items()
    )


def _stamp_text(kind_prefix: str, key: str) -> str:
    return key[len(kind_prefix) :].split(WITHOUT, 1)[0].split(RECOVERED, 1)[0]


def digest_time(kind_prefix: str, key: str) -> datetime | None:
    """The T of a digest key of the kind (with or without its ``:without:``/``:recovered:`` part);
    None for a key of another kind, or one this module did not write."""
    if not key.startswith(kind_prefix):
        return None
    try:
        return datetime.fromisoformat(_stamp_text(kind_prefix, key))
    except ValueError:
        return None


@dataclass(frozen=True)
class UntriagedDay:
    """A day no [Triage] covered: the T a daily run of that day would have had, and the start of
    its posts (the last [Triage]'s T for the oldest such day, whose day it partly covered)."""

    as_of: datetime
    since: datetime


@dataclass(frozen=True)
class Untriaged:
    """What no [Triage] listed between the last one that went out and this run's day, oldest first.

    ``days``: the days a run can list from what it read. ``unread``: the older ones, which begin
    before what the run read."""

    days: tuple[UntriagedDay, ...] = ()
    unread: tuple[UntriagedDay, ...] = ()


def untriaged_days(
    kind_prefix: str,
    deliveries: Mapping[str, bool],
    as_of: datetime,
    earliest: datetime,
    day: timedelta,
    now: datetime | None = None,
) -> Untriaged:
    """The days between the newest digest of the kind that went out (or may have) before ``as_of``
    and ``as_of``'s own day that none covered: days with no run (the scheduler down, the DAG
    paused; a daily DAG does not catch up by itself) or whose run failed before sending it.

    Each is a T of the daily schedule (``as_of`` − n days) after that newest digest. A run that
    never sent one (a first run) owes nothing: what came before the product is not its backlog.
    ``earliest``: where the posts this run read start; a day that begins before it is ``unread``.
    ``deliveries``: as :func:`owed_digests`'. ``now``: a day that has not ended by then (a manual run
    with an ``as_of`` in the future) is not owed: not all its posts exist yet, and its own run, under
    the same key, lists them."""
    sent = [
        t
        for key, arrived in deliveries.items()
        if arrived and (t := digest_time(kind_prefix, key)) is not None and t < as_of
    ]
    if not sent:
        return Untriaged()
    newest = max(sent)
    listable: list[UntriagedDay] = []
    unread: list[UntriagedDay] = []
    slot = as_of - day
    if now is not None and slot > now:
        slot -= day * math.ceil((slot - now) / day)
    while slot > newest:
        since = max(newest, slot - day)
        (listable if since >= earliest else unread).append(UntriagedDay(slot, since))
        slot -= day
    return Untriaged(tuple(reversed(listable)), tuple(reversed(unread)))


def alert_key(dag_id: str, as_of: datetime) -> str:
    """One alert per run and T: the first task to fail for good tells the CM."""
    return digest_key(dag_id, "alert", as_of)


def reply_key(channel: str, source_id: str) -> str:
    """A post gets at most one reply draft upstream, ever, whatever run sends it."""
    return f"reply:{channel}:{source_id}"


def reply_marker(key: str) -> str:
    """The hidden line an upstream reply carries, so a resend can first look for it (SPEC §6).

    GitHub and GitLab render an HTML comment as nothing; the key inside names the post replied to.
    """
    return f"<!-- community-monitoring:{key} -->"


def status_key(suggestion_id: int | str, current: str, proposed: str) -> str:
    """One status change, from the status the review found to the one it proposes: made once. The
    same target reached from another status (a ticket reopened, then done again) is a change of its
    own; the very same change, after someone changed the status back upstream, is not made again."""
    return f"uservoice_status:{suggestion_id}:{current}->{proposed}"


def thank_key(suggestion_id: int | str, version: str) -> str:
    return f"release_closeout:thank:{suggestion_id}:{release_key(version)}"


def closeout_summary_key(
    dag_id: str, version: str, thanked_ids: Iterable[int | str], dry_run_id: str | None = None
) -> str:
    """A dry run's plan is shown on every dry run; a real summary once per set of people thanked."""
    base = f"{dag_id}:release_closeout:{release_key(version)}"
    if dry_run_id is not None:
        return f"{base}:dry-run:{dry_run_id}"
    ids = ",".join(sorted(str(i) for i in thanked_ids))
    return f"{base}:{hashlib.sha256(ids.encode()).hexdigest()[:16]}"
