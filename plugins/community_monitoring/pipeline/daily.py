"""The daily monitoring run's own tasks: build the three digests and the writes, then make them."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from community_monitoring import keys
from community_monitoring.channels import CHANNELS
from community_monitoring.keys import covered_digest_key, digest_key
from community_monitoring.pipeline.run import TaskRun, community_task, write_each
from community_monitoring.timeutil import DAY, archive_folder_name, day_window

if TYPE_CHECKING:
    from community_monitoring.classify import PostClassifier
    from community_monitoring.records import Post
    from community_monitoring.related import Related
    from community_monitoring.triage_model import ModelClassifier

    TriageClassifier = PostClassifier | ModelClassifier

log = logging.getLogger(__name__)

DAG_ID = "community_daily_monitoring"
DAILY_CHANNELS: tuple[str, ...] = tuple(CHANNELS)
# The UserVoice review, its status changes and the sheet rows are decided from these two.
USERVOICE_INPUTS = ("uservoice", "jira")
# The sheet's rows also depend on the product's releases (has the fixVersion shipped yet?): without
# them every resolved ticket would look unreleased, and sheet rows are never deleted.
SHEET_INPUTS = (*USERVOICE_INPUTS, "github")


def listed_channels(run: TaskRun) -> list[str]:
    read = run.channels_read()["read"]
    return [key for key in DAILY_CHANNELS if key in read and CHANNELS[key].lists_posts]


def triage_channels_missing(missing: Sequence[str]) -> list[str]:
    """The channels a [Triage] lacks when these could not be read: those whose posts it lists (a
    Jira outage leaves nothing of the list out, so nothing to catch up on later)."""
    return [key for key in missing if CHANNELS[key].lists_posts]


def triage_lacks(channels: Mapping[str, Any]) -> list[str]:
    """What a [Triage] built from ``channels`` (``TaskRun.channels_read()``) lacks: the channels whose
    posts it lists that could not be read, and the posts it left out because they could not be
    (``keys.left_out_token``): once read, a later run lists them in a catch-up of this day (as many
    as its ledger key can name)."""
    missing = triage_channels_missing(channels["missing"])
    left_out = (
        keys.left_out_token(p["channel"], p["post_id"])
        for p in channels.get("unreadable", ())
        if p.get("post_id") and p["channel"] in CHANNELS and CHANNELS[p["channel"]].lists_posts
    )
    return missing + list(dict.fromkeys(left_out))


def left_out_unread(run: TaskRun, tokens: Iterable[str]) -> list[str]:
    """Of the left-out posts ``tokens`` (``keys.left_out_token``), those this run did not read: gone
    upstream, older than what it reads, or not listed today. Not read is not caught up on: whether
    such a post was new on its day is unknown, so it stays owed (never taken for one that was not)."""
    posts = keys.left_out_posts(tokens)
    listed = [channel for channel in listed_channels(run) if channel in posts]
    if not listed:
        return []  # a channel not read now: its posts are not caught up on anyway
    read = {(post.channel, post.source_id) for post in run.store.posts(listed)}
    unread = [
        keys.left_out_token(channel, post_id)
        for channel in listed
        for post_id in sorted(posts[channel])
        if (channel, post_id) not in read
    ]
    if unread:
        log.info("Left out by an earlier [Triage] and not read by this run either, still owed: %s", unread)
    return unread


def catch_up_channels(catch_up: Sequence[str]) -> list[str]:
    """The channels a catch-up's tokens (``keys.covered_digest_key``'s) list posts of."""
    return list(dict.fromkeys(keys.token_channel(token) for token in catch_up))


def posts_of_the_day(
    run: TaskRun,
    channels: Sequence[str] | None = None,
    as_of: datetime | None = None,
    since: datetime | None = None,
) -> Iterator[Post]:
    """The listed channels' posts (or those of ``channels``) created after T − 1 day (T: ``as_of``,
    default the run's; after ``since`` when given), for the rules that keep only a day's new posts
    ([Triage], reply drafts): the rest of the window is skipped without being built."""
    listed = listed_channels(run)
    wanted = listed if channels is None else [c for c in listed if c in channels]
    start, end = day_window(as_of or run.as_of)
    # An earlier day's [Triage] (sent by a later run) builds none of the days after its own.
    return run.store.posts(wanted, created_after=since or start, created_until=end)


def only_left_out(posts: Iterator[Post], catch_up: Sequence[str]) -> Iterator[Post]:
    """``posts`` but, on a channel a catch-up names posts of (not the whole channel), those posts alone."""
    posts_by_channel = keys.left_out_posts(catch_up)
    whole = set(keys.split_tokens(catch_up)[0])
    for post in posts:
        named = posts_by_channel.get(post.channel)
        if post.channel in whole or named is None or post.source_id in named:
            yield post


def save_message(
    run: TaskRun,
    message: Any,
    key: str | None = None,
    archive_as: str | None = "",
    earlier: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Keep a rendered message in the run store for its post task, and archive it (as
    ``archive_as`` when given; not at all when None: the archive already holds what was sent).
    ``earlier``: messages of earlier T's its post task sends first (``{"key", "parts"}``)."""
    run.store.save_message(message.kind, message.parts, len(message.item_urls))
    if archive_as == "" and key is None and _posted_before(run, message.kind):
        # A rerun of a T whose message went out: the archive keeps what was sent (its "… and N
        # more" names the full list archived with it), not what this run would have sent.
        archive_as = None
    if key or earlier:
        extra = {"key": key} if key else {}
        if earlier:
            extra["earlier"] = [dict(e) for e in earlier]
        run.store.write_json(f"messages/{message.kind}.json", {**run.store.message(message.kind), **extra})
    if archive_as is None:
        log.info(
            "Built %s: %d item(s); already sent under %s, so not archived again",
            message.kind,
            len(message.item_urls),
            key,
        )
        return {"kind": message.kind, "items": len(message.item_urls), "parts": len(message.parts)}
    # A capped digest's full list goes beside it: nothing is only in an "… and N more".
    archived = run.outbox.archive(archive_as or message.kind, message.parts, full_text=message.full_text)
    log.info(
        "Built %s: %d item(s) in %d part(s); archived at %s",
        message.kind,
        len(message.item_urls),
        len(message.parts),
        archived,
    )
    return {"kind": message.kind, "items": len(message.item_urls), "parts": len(message.parts)}


def _posted_before(run: TaskRun, kind: str) -> bool:
    """Whether this DAG's ``kind`` at T may already be in the channel (nothing, when the run posts nothing)."""
    return any(run.outbox.earlier_deliveries(kind).values())


@community_task
def build_help_wanted_digest(run: TaskRun) -> dict[str, Any]:
    from community_monitoring.messages import render_help_wanted_digest
    from community_monitoring.rules import find_help_wanted_sections

    sections = find_help_wanted_sections(
        run.store.posts(listed_channels(run)),
        run.rosters.staff,
        run.settings,
        run.as_of,
        run.store.releases(),
    )
    log.info(
        "Help Wanted as of %s: %d escalated, %d waiting, %d after release %s, %d new replies to staff "
        "questions",
        run.as_of.isoformat(),
        len(sections.escalated),
        len(sections.waiting_for_first_response),
        len(sections.after_the_release),
        sections.release.tag if sections.release else "(none in window)",
        len(sections.new_reply_to_core_team_question),
    )
    # A posted catch-up pings once: on its newest day (the archive of an unposted one keeps them).
    quiet = run.policy.post_messages and run.is_older_backfill_day("help_wanted")
    message = render_help_wanted_digest(
        sections,
        run.settings,
        run.as_of,
        rotation="" if quiet else run.rosters.on_duty(run.as_of),
        # Only the channels it lists (forum topics, GitHub issues and releases): a Stack Overflow
        # outage leaves nothing out of it.
        missing_channels=[
            key for key in run.channels_read()["missing"] if CHANNELS[key].waits_for_first_response
        ],
        backfill=run.facts.is_backfill,
        mention=not quiet,
        cm_lead=run.rosters.contacts.cm_lead,
    )
    return save_message(run, message)


# The items a new post may relate to (SPEC §4 "Related items"), besides the Jira tickets.
RELATED_CHANNELS = ("github", "gitlab", "forum", "uservoice")


def related_items(
    run: TaskRun,
    posts: Sequence[Post],
    also_posted: Mapping[str, Sequence[Post]] | None = None,
    as_of: datetime | None = None,
) -> dict[str, tuple[Related, ...]]:
    """``posts``' related items among what this run read: the window's posts of the channels read
    (read twice, never held whole), the Jira tickets and the GitHub releases; as of ``as_of``
    (default: the run's T)."""
    from community_monitoring.related import find_related

    read = run.channels_read()["read"]
    channels = [c for c in RELATED_CHANNELS if c in read]
    return find_related(
        posts,
        lambda: run.store.posts(channels),
        run.store.tickets() if "jira" in read else [],
        run.store.releases() if "github" in read else [],
        run.settings,
        as_of or run.as_of,
        also_posted=also_posted,
        roster=run.rosters.staff,
    )


@community_task
def build_triage_list(run: TaskRun) -> dict[str, Any]:
    from community_monitoring.pipeline.triage_model import triage_decider

    channels = run.channels_read()
    # A digest of this T sent without some channels, or without posts it could not read, is
    # followed, once they are read, by their posts alone: a post is new on one day only, so none
    # may wait for a later [Triage].
    prefix, deliveries = keys.kind_prefix(DAG_ID, "triage"), run.outbox.deliveries_of("triage")
    # Posts still owed that this run did not read either are not caught up on (``left_out_unread``).
    window_start = run.as_of - timedelta(days=run.settings.digest.max_age_days)
    owed_posts = keys.left_out_owed(prefix, deliveries, earliest=window_start - DAY)
    missing = triage_lacks(channels) + left_out_unread(run, owed_posts)
    base = digest_key(DAG_ID, "triage", run.as_of)
    elsewhere = keys.left_out_before(prefix, deliveries, run.as_of)
    covered = covered_digest_key(base, run.outbox.earlier_deliveries("triage"), missing, elsewhere)
    # One classifier for today's [Triage] and every earlier day's it sends: a promoted model is
    # loaded from storage once per run, not once per day caught up.
    # A promoted model that storage could not give back is named in this run's own [Triage].
    classifier, model_problem = triage_decider(run.settings, run.as_of)
    gap = untriaged_days(run)
    message = None
    if covered.catch_up:
        log.info(
            "The [Triage] of %s went out without %s: now read, their posts follow on their own",
            run.as_of.isoformat(),
            ", ".join(covered.catch_up),
        )
        message = catch_up_message(
            run,
            run.as_of,
            covered,
            channels["missing"],
            classifier,
            # A catch-up names the unreadable items of its own channels; the first digest named the rest.
            unreadable=[p for p in channels.get("unreadable", ()) if p["channel"] in covered.catch_up],
            untriaged=untriaged_notice(gap.unread),
            model_problem=model_problem,
        )
        if message is None:  # only left-out posts, none to list now: the first digest stands
            covered = keys.CoveredDigest(covered.first, sent_before=True, first=covered.first)
    if message is not None:
        archive_as: str | None = catch_up_archive_name(run, run.as_of, covered.catch_up)
    else:
        archive_as = None if covered.sent_before else "triage"
        message = triage_message(
            run,
            run.as_of,
            listed_channels(run),
            (),
            channels["missing"],
            classifier,
            unreadable=channels.get("unreadable", ()),
            untriaged=untriaged_notice(gap.unread),
            model_problem=model_problem,
        )
    owed = [
        (owed.as_of, owed.covered.key, owed_message)
        for owed, owed_message in owed_triage_messages(run, missing, channels["missing"], classifier)
    ]
    earlier = [
        {"key": key, "parts": list(earlier_message.parts)}
        for _, key, earlier_message in sorted(
            [*owed, *untriaged_messages(run, gap.days, missing, channels["missing"], classifier, elsewhere)],
            key=lambda m: m[0],
        )
    ]
    built = save_message(run, message, key=covered.key, archive_as=archive_as, earlier=earlier)
    return {**built, "earlier_days": len(earlier)}


def catch_up_archive_name(run: TaskRun, as_of: datetime, catch_up: Sequence[str]) -> str:
    """The archive name of a catch-up of ``as_of``'s [Triage]: ``triage.recovered-<channels>``, with
    ``left-out-<digest>`` for posts it left out (a digest of which: two catch-ups of one day keep
    both), and ``.of-<T>`` when this run's T is another day's."""
    names, posts = keys.split_tokens(catch_up)
    if posts:
        names.append("left-out-" + hashlib.sha1(",".join(posts).encode()).hexdigest()[:8])
    name = f"triage.recovered-{'-'.join(names)}"
    return name if as_of == run.as_of else f"{name}.of-{archive_folder_name(as_of)}"


def catch_up_message(
    run: TaskRun,
    as_of: datetime,
    covered: keys.CoveredDigest,
    missing_channels: Sequence[str],
    classifier: TriageClassifier,
    unreadable: Sequence[Mapping[str, str]] = (),
    untriaged: Mapping[str, Any] | None = None,
    model_problem: str = "",
) -> Any:
    """The [Triage] of ``as_of`` catching up on ``covered.catch_up``: the channels its first digest
    could not read (their posts of that day) and the posts it left out (those of them new that day).

    None when it caught up on left-out posts alone (all read by this run: ``left_out_unread``) and
    none was new that day (an older topic that could not be read): the ledger records
    ``covered.key`` as done, with nothing sent, so no later run builds it again."""
    name = catch_up_archive_name(run, as_of, covered.catch_up)
    message = triage_message(
        run,
        as_of,
        catch_up_channels(covered.catch_up),
        covered.catch_up,
        missing_channels,
        classifier,
        unreadable=unreadable,
        untriaged=untriaged,
        archived_as=archived_at(run, name),
        model_problem=model_problem,
    )
    if message.item_urls or keys.split_tokens(covered.catch_up)[0]:
        return message
    log.info(
        "The posts the [Triage] of %s left out (%s) were read now: none was new that day, nothing to send",
        as_of.isoformat(),
        ", ".join(covered.catch_up),
    )
    run.outbox.record_nothing_to_send("triage", covered.key, "none of the left-out posts was new that day")
    return None


def untriaged_days(run: TaskRun) -> keys.Untriaged:
    """The days since the last [Triage] that went out for which none did (SPEC §1: no community
    post waits unseen; a daily DAG does not catch up by itself after the scheduler was down or the
    DAG paused). Backfills reproduce their own day only; a run that posts nothing owes nothing."""
    if run.facts.is_backfill:
        return keys.Untriaged()
    return keys.untriaged_days(
        keys.kind_prefix(DAG_ID, "triage"),
        run.outbox.deliveries_of("triage"),
        run.as_of,
        earliest=run.as_of - timedelta(days=run.settings.digest.max_age_days),
        day=DAY,
        # A manual run with an as_of in the future: the days still to come are their own runs'.
        now=datetime.now(UTC),
    )


def untriaged_messages(
    run: TaskRun,
    days: Sequence[keys.UntriagedDay],
    missing: Sequence[str],
    missing_channels: Sequence[str],
    classifier: TriageClassifier,
    owed_elsewhere: Iterable[str] = (),
) -> list[tuple[datetime, str, Any]]:
    """A [Triage] for each day no [Triage] went out for, as of that day's T, under the key its own
    run would have used (so a later backfill of that day posts it no more); a day with no new post
    sends nothing. ``missing``/``missing_channels``: as ``owed_triage_messages``'; ``owed_elsewhere``:
    the left-out posts an earlier [Triage] owes already (not named again)."""
    messages = []
    listed = listed_channels(run)
    for day in days:
        name = f"triage.not-listed.of-{archive_folder_name(day.as_of)}"
        message = triage_message(
            run,
            day.as_of,
            listed,
            (),
            missing_channels,
            classifier,
            since=day.since,
            archived_as=archived_at(run, name),
        )
        if not message.item_urls:
            log.info(
                "No [Triage] went out for %s and it had no new post: nothing to send", day.as_of.isoformat()
            )
            continue
        key = covered_digest_key(digest_key(DAG_ID, "triage", day.as_of), {}, missing, owed_elsewhere).key
        log.warning(
            "No [Triage] went out for %s (no run, or it failed first): its %d new post(s) since %s go "
            "out now, as of that day, before today's",
            day.as_of.isoformat(),
            len(message.item_urls),
            day.since.isoformat(),
        )
        run.outbox.archive(
            name,
            message.parts,
            full_text=message.full_text,
        )
        messages.append((day.as_of, key, message))
    return messages


def archived_at(run: TaskRun, name: str) -> str:
    """Where this run archives a message it archives as ``name``, as a "… and N more" names it."""
    return f"{archive_folder_name(run.as_of)}/{name}"


def untriaged_notice(unread: Sequence[keys.UntriagedDay]) -> dict[str, Any] | None:
    """What today's [Triage] says of posts no [Triage] listed that are older than this run reads:
    the span and the backfill that lists them (its runs' logical dates: each day's start, T − 1 day).
    Completed runs are reprocessed too: an archive-only backfill of those days succeeded without
    posting (the ledger keeps whatever did go out from going out twice)."""
    if not unread:
        return None
    after, until = unread[0].since, unread[-1].as_of
    command = (
        f"airflow backfill create --dag-id {DAG_ID} --from-date {(unread[0].as_of - DAY).isoformat()} "
        f"--to-date {(until - DAY).isoformat()} --reprocess-behavior completed --dag-run-conf '{{\"post_backfill_digests\": true}}'"
    )
    log.warning(
        "No [Triage] went out for the posts from %s to %s, older than this run reads: %s",
        after.isoformat(),
        until.isoformat(),
        command,
    )
    return {"after": after, "until": until, "command": f"`{command}`"}


def triage_message(
    run: TaskRun,
    as_of: datetime,
    listed: Sequence[str],
    catching_up: Sequence[str],
    missing_channels: Sequence[str],
    classifier: TriageClassifier,
    unreadable: Sequence[Mapping[str, str]] = (),
    since: datetime | None = None,
    untriaged: Mapping[str, Any] | None = None,
    archived_as: str = "",
    model_problem: str = "",
) -> Any:
    """The [Triage] of the ``listed`` channels' posts new in the day that ends at ``as_of`` (after
    ``since`` only, when given: a day no [Triage] went out for); ``catching_up``: what an earlier
    [Triage] of this T lacked that these are (``covered_digest_key``'s tokens: a channel's posts,
    or only the posts it left out there); ``missing_channels``: those this
    run could not read, which it names; ``classifier``: ``triage_classifier``'s, built once per run
    (the team's learned model where one meets its card's minimums, the rules otherwise);
    ``untriaged``: see ``untriaged_notice``; ``archived_as``: ``<T>/<name>`` of the archive it goes
    under when not its own T's ``triage`` (a catch-up); ``model_problem``: the promoted triage model
    storage could not give back (``load_model_for_run``), or ""."""
    from community_monitoring.messages import collect_triage, render_triage_items
    from community_monitoring.related import authors_on_two_channels
    from community_monitoring.rules import new_posts_of

    day_start = since or day_window(as_of)[0]
    whole_channels, left_out = keys.split_tokens(catching_up)
    # Two reads of the day's posts: their authors alone first (whose posts may be one item across
    # channels), then the posts a batch at a time; only the entries the digest can show, and the
    # posts that may fold, are held whole.
    fold_authors = (
        authors_on_two_channels(run.store.post_authors(listed, created_after=day_start, created_until=as_of))
        if run.settings.related.enabled
        else set()
    )
    day = collect_triage(
        new_posts_of(
            only_left_out(posts_of_the_day(run, listed, as_of, since=since), catching_up),
            run.rosters.staff,
            run.settings,
            as_of,
        ),
        fold_authors,
        classifier,
        run.rosters.staff,
        run.settings,
        as_of,
    )
    related = related_items(run, day.listed, also_posted=day.findings.also_posted, as_of=as_of)
    log.info(
        "Triage as of %s: %d new posts (%d folded as the same author's copies); related items looked up "
        "for the %d the digest can show, found for %d",
        as_of.isoformat(),
        day.found,
        day.found - len(day.items),
        len(day.listed),
        len(related),
    )
    return render_triage_items(
        day.items,
        run.settings,
        as_of,
        missing_channels=missing_channels,
        unreadable=unreadable,
        findings=replace(day.findings, related=related),
        catching_up=whole_channels,
        left_out_caught_up=bool(left_out),
        since=since,
        untriaged=untriaged,
        archived_as=archived_as,
        model_problem=model_problem,
    )


def owed_triage_messages(
    run: TaskRun, missing: Sequence[str], missing_channels: Sequence[str], classifier: TriageClassifier
) -> list[tuple[keys.OwedDigest, Any]]:
    """The catch-ups owed by earlier days: a [Triage] of an earlier T that went out without
    channels this run reads gets their posts of its day, as of its T, under the very key a cleared
    run of that T would send them under (so neither sends them twice). Days whose posts are older
    than this run read, and a T less than a day back (its day overlaps this one's), are left to
    clearing their run, and the log says so. Backfills reproduce their own day only. ``missing``:
    the channels whose posts [Triage] lacks now; ``missing_channels``: every channel not read."""
    if run.facts.is_backfill:
        return []
    window = timedelta(days=run.settings.digest.max_age_days)
    owed = keys.owed_digests(
        keys.kind_prefix(DAG_ID, "triage"),
        run.outbox.deliveries_of("triage"),
        missing,
        earliest=run.as_of - window - timedelta(days=366),  # found, to be named when too old
        latest=run.as_of,
    )
    messages = []
    for digest in owed:
        channels = ", ".join(digest.covered.catch_up)
        if digest.as_of - DAY < run.as_of - window or digest.as_of > run.as_of - DAY:
            log.warning(
                "The [Triage] of %s went out without %s; this run cannot catch up on that day (its "
                "posts are not all in what this run read): clear that run to send them",
                digest.as_of.isoformat(),
                channels,
            )
            continue
        log.info(
            "The [Triage] of %s went out without %s: now read, their posts of that day follow, as of it",
            digest.as_of.isoformat(),
            channels,
        )
        message = catch_up_message(run, digest.as_of, digest.covered, missing_channels, classifier)
        if message is None:
            continue
        run.outbox.archive(
            catch_up_archive_name(run, digest.as_of, digest.covered.catch_up),
            message.parts,
            full_text=message.full_text,
        )
        messages.append((digest, message))
    return messages


@community_task
def build_uservoice_review(run: TaskRun) -> dict[str, Any]:
    """Status drift against Jira, new suggestions needing a question, offers to build; the changes
    to apply upstream and the tracking sheet's rows, decided from the same reading."""
    from community_monitoring.answers import answer_state
    from community_monitoring.messages import render_uservoice_review
    from community_monitoring.sheet_plan import released_versions
    from community_monitoring.uservoice_review import (
        UserVoiceRules,
        jira_release_days,
        named_versions,
        planned_sheet_rows,
        review_suggestions,
        status_changes,
    )

    if not run.settings.is_enabled("uservoice"):
        log.info("UserVoice is disabled in the settings: no review")
        run.store.save_plan("uservoice", {"changes": [], "sheet_rows": []})
        run.store.save_message("uservoice_review", [], 0)
        return {"kind": "uservoice_review", "skipped": True}
    rules = UserVoiceRules.from_settings(run.settings)
    statuses = run.store.statuses()
    if statuses:
        # A proposed status UserVoice does not have could never be applied: say which, at once.
        rules.check_statuses_known(statuses.values())
    suggestions = list(run.store.posts(["uservoice"]))
    tickets = run.store.tickets()
    review = review_suggestions(suggestions, tickets, rules, run.as_of)
    missing = [c for c in run.channels_read()["missing"] if c in USERVOICE_INPUTS]
    writes = run.policy.needing(USERVOICE_INPUTS, missing)
    changes = status_changes(review.status_drift, statuses, rules) if writes.write_upstream else []
    # A change made by an earlier run that shows again was undone upstream since (by someone on
    # purpose, as far as the product can tell): it is not made again, and the review says so.
    undone = [
        c for c in changes if run.outbox.already_done(keys.status_key(c.suggestion_id, c.current, c.proposed))
    ]
    changes = [c for c in changes if c not in undone]
    log.info(
        "UserVoice review as of %s: %d status changes (%d to apply), %d need a question, %d offers to "
        "build (%d suggestions, %d tickets)",
        run.as_of.isoformat(),
        len(review.status_drift),
        len(changes),
        len(review.needs_question),
        len(review.offers),
        len(suggestions),
        len(tickets),
    )
    releases = run.store.releases()
    read = run.channels_read()
    sheet_missing = [c for c in SHEET_INPUTS if c in read["missing"] or not run.settings.is_enabled(c)]
    run.store.save_plan(
        "uservoice",
        {
            "changes": [asdict(c) for c in changes],
            "sheet_rows": [
                asdict(r) for r in planned_sheet_rows(suggestions, tickets, rules, releases, run.as_of)
            ],
            "released_versions": list(released_versions(releases, run.as_of)),
            "named_versions": named_versions(suggestions, tickets, run.as_of),
            "release_days": jira_release_days(suggestions, tickets, releases, run.as_of),
            "missing": missing,
            "sheet_missing": sheet_missing,
        },
    )
    quiet = run.policy.post_messages and run.is_older_backfill_day("uservoice_review")
    listed = (
        *(d.suggestion for d in review.status_drift),
        *review.needs_question,
        *(o.suggestion for o in review.offers),
    )
    message = render_uservoice_review(
        review,
        run.settings,
        run.as_of,
        applying=bool(changes),
        undone={c.suggestion_id for c in undone},
        missing_channels=missing,
        pm="" if quiet else run.rosters.contacts.pm,
        unreadable=[p for p in run.channels_read().get("unreadable", []) if p["channel"] in USERVOICE_INPUTS],
        # Every listed item shows its answer state (SPEC §4), as [Triage] and the weekly review do.
        answer_states={
            post.url: answer_state(post, run.rosters.staff, run.settings, run.as_of) for post in listed
        },
    )
    return save_message(run, message)


def status_arrived(client: Any, suggestion_id: int, status_id: int) -> bool:
    """Whether an unsure status write took effect: the suggestion's status now, not its history (an
    earlier update to the same status, one it had before, must not pass for this one)."""
    return client.current_status(suggestion_id) == status_id


@community_task
def apply_uservoice_statuses(run: TaskRun) -> dict[str, Any]:
    """Apply the proposed statuses upstream (only planned when the setting is on): each change once."""
    from community_monitoring.sources.uservoice import UserVoiceClient

    changes = run.store.plan("uservoice")["changes"]
    if not changes:
        log.info("No UserVoice status to apply (uservoice.apply_status_updates is off, or nothing drifted)")
        return {"applied": 0}
    client = UserVoiceClient.from_connection(http=run.settings.http)
    body = run.settings.uservoice.status_update_body
    applied = 0

    def apply_once(change: dict[str, Any]) -> None:
        nonlocal applied
        suggestion_id, status_id = int(change["suggestion_id"]), int(change["status_id"])
        delivery = run.outbox.write_upstream(
            keys.status_key(change["suggestion_id"], change["current"], change["proposed"]),
            "uservoice_status",
            "uservoice_default",
            change["proposed"],
            lambda _: client.post_status_update(suggestion_id, status_id, body, notify=False),
            read_back=lambda _: status_arrived(client, suggestion_id, status_id),
        )
        applied += delivery.parts_sent
        log.info(
            "Suggestion %s: %s → %s (%s)",
            change["suggestion_id"],
            change["current"],
            change["proposed"],
            delivery.status,
        )

    # One refused (a deleted suggestion) does not keep the others from being applied.
    write_each(changes, apply_once, lambda change: f"suggestion {change['suggestion_id']}", "status updates")
    return {"applied": applied}


@community_task
def update_tracking_sheet(run: TaskRun) -> dict[str, Any]:
    """Keep a row for each suggestion whose ticket's fixVersion is not released yet (planned, started,
    or resolved and waiting for the release); flag rows whose fixVersion slipped (``slipped_to``);
    date the rows of another product's versions Jira released (``release_date``)."""
    from community_monitoring.records import SheetRow

    plan = run.store.plan("uservoice")
    policy = run.policy.needing(SHEET_INPUTS, plan.get("sheet_missing", plan.get("missing", ())))
    if not run.settings.is_enabled("uservoice"):
        return {"inserted": 0, "updated": 0}
    result = run.outbox.update_sheet(
        run.sheet_path,
        [SheetRow(**r) for r in plan["sheet_rows"]],
        policy,
        released_versions=plan.get("released_versions"),
        named_versions=plan.get("named_versions"),
        release_days=plan.get("release_days", ()),
    )
    if result is None:
        return {"inserted": 0, "updated": 0}
    log.info(
        "Tracking sheet %s: %d inserted, %d updated, %d unchanged",
        result.path,
        result.inserted,
        result.updated,
        result.unchanged,
    )
    return {"inserted": result.inserted, "updated": result.updated}


@community_task
def plan_upstream_replies(run: TaskRun) -> dict[str, Any]:
    from community_monitoring.pipeline.triage_model import triage_classifier
    from community_monitoring.replies import plan_replies

    if not run.settings.replies.channels:
        log.info("Posting replies upstream is off for every channel (replies.post_upstream)")
        run.store.save_plan("replies", [])
        return {"planned": 0}
    # The draft [Triage] shows: the same decider (the promoted model, when one is in use) and the
    # same related items, the author's own copies on other channels left out.
    planned = plan_replies(
        posts_of_the_day(run),
        run.rosters.staff,
        run.settings,
        run.as_of,
        classifier=triage_classifier(run.settings, run.as_of),
        find_related=lambda posts, copies: related_items(run, posts, also_posted=copies),
    )
    run.store.save_plan("replies", [asdict(p) for p in planned])
    return {"planned": len(planned)}


@community_task
def post_upstream_replies(run: TaskRun) -> dict[str, Any]:
    """Where switched on, post each new unanswered post's reply draft upstream, once; one that
    fails (a locked issue) does not keep the others from being posted, and the error names it."""
    sent: dict[str, int] = {}
    clients: dict[str, tuple[Any, Any]] = {}
    replies = run.store.plan("replies")
    if replies and not run.policy.write_upstream:
        log.info("No replies are posted upstream: %s", run.policy.reason)
        return {"sent": sent}

    def post_once(reply: dict[str, Any]) -> None:
        channel = CHANNELS[reply["channel"]]
        if channel.key not in clients:
            http = run.settings.http
            clients[channel.key] = (channel.reply_sender(http), channel.reply_reader(http))
        send, has_reply = clients[channel.key]
        where = (reply["container"], int(reply["number"]))
        delivery = run.outbox.write_upstream(
            reply["key"],
            "upstream_reply",
            channel.key,
            reply["draft"],
            lambda text: send(*where, text),
            # The draft ends with its key's marker: an ambiguous failure is settled by looking.
            read_back=lambda _: has_reply(*where, keys.reply_marker(reply["key"])),
        )
        sent[channel.key] = sent.get(channel.key, 0) + delivery.parts_sent
        log.info("Reply to %s: %s", reply["url"], delivery.status)

    write_each(replies, post_once, lambda reply: str(reply["url"]), "replies upstream")
    return {"sent": sent}
