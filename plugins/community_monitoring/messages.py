"""Turn rule results into the rendered Mattermost messages of SPEC §7."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from community_monitoring import answers
from community_monitoring.channels import channel as channel_of
from community_monitoring.channels import label as channel_label_of
from community_monitoring.classify import TYPE_HEADINGS, PostClassifier
from community_monitoring.drafts import DraftWriter
from community_monitoring.records import Post
from community_monitoring.related import Related
from community_monitoring.rendering import render_template, split_message
from community_monitoring.routing import route_owner
from community_monitoring.rules import AgedOutItem, HelpWantedEntry, HelpWantedSections, StaleItem
from community_monitoring.safety import safe_text
from community_monitoring.settings import POST_TYPES, Settings
from community_monitoring.timeutil import day_window

if TYPE_CHECKING:
    from community_monitoring.closeout_plan import Nominee, ThankResult
    from community_monitoring.params import CloseoutParams
    from community_monitoring.uservoice_review import UserVoiceReview

KIND_PREFIX: dict[str, str] = {
    "help_wanted": "[Help Wanted]",
    "triage": "[Triage]",
    "weekly_review": "[Weekly Review]",
    "uservoice_review": "[UserVoice Review]",
    "release_closeout": "[Release Closeout]",
    "alert": "[Alert]",
}


@dataclass(frozen=True)
class RenderedMessage:
    kind: str
    parts: tuple[str, ...]
    item_urls: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)


def channel_label(post: Post) -> str:
    spec = channel_of(post.channel)
    label = spec.label if spec.key == post.channel else post.channel
    # Repositories and projects say where a post is; a single forum, site or portal needs no name.
    return f"{label} {post.container}" if spec.names_container and post.container else label


def _item(post: Post) -> dict[str, Any]:
    return {
        "url": post.url,
        "title": post.title,
        "author": post.author,
        "channel": post.channel,
        "channel_label": channel_label(post),
        "created_at": post.created_at,
        "state": post.state,
        "note": "",
    }


def _help_wanted_item(entry: HelpWantedEntry, rotation: str, mention: bool) -> dict[str, Any]:
    # From the mention day on, the line names the developer on rotation, from the escalation day
    # the routed owner too; both come from the rosters and the rules file, the only names that ping.
    return {
        **_item(entry.post),
        "answer": answers.ANSWER_STATE_WORDS[entry.state],
        "day": entry.day,
        "last_call": entry.last_call,
        "rotation_mention": rotation if mention and entry.mentions_rotation else "",
        "owner_mention": entry.owner if mention and entry.mentions_owner else "",
    }


def render_help_wanted_digest(
    sections: HelpWantedSections,
    config: Settings,
    as_of: datetime,
    rotation: str = "",
    missing_channels: Sequence[str] = (),
    backfill: bool = False,
    mention: bool = True,
    cm_lead: str = "",
) -> RenderedMessage:
    """``backfill`` dates the header; ``mention`` off (an older day of a catch-up) pings nobody.

    ``rotation`` and ``cm_lead`` are Mattermost names from the rosters ("" for none).
    """
    # (title, entries, who the heading calls): only the Escalated section, the first, calls the CM lead.
    named = [
        (
            f"Escalated (day {config.escalation.escalate_day}+ on the list)",
            sections.escalated,
            cm_lead if mention else "",
        ),
        ("Waiting for a first response", sections.waiting_for_first_response, ""),
        (
            f"After the release ({sections.release.tag})" if sections.release else "After the release",
            sections.after_the_release,
            "",
        ),
        ("New reply to a core-team question", sections.new_reply_to_core_team_question, ""),
    ]
    context = {
        "hashtags": config.digest.hashtags,
        "mentions": config.digest.mentions if mention else [],
        "backfill": backfill,
        "rotation": rotation,
        "community": config.community_name,
        "as_of": as_of,
        "missing_channels": list(missing_channels),
        "title_max_chars": config.digest.title_max_chars,
        "sections": [
            {
                "title": title,
                "lead": lead,
                "entries": [_help_wanted_item(e, rotation, mention) for e in entries],
            }
            for title, entries, lead in named
            if entries
        ],
    }
    text = render_template("help_wanted.md.j2", context)
    urls = tuple(e.post.url for _, entries, _ in named for e in entries)
    return RenderedMessage(
        "help_wanted",
        tuple(split_message(text, KIND_PREFIX["help_wanted"], config.digest.message_max_chars)),
        urls,
    )


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


@dataclass(frozen=True)
class TriageFindings:
    """What the run found about each new post besides its type, by the post's URL."""

    # The answer state at T (``answers.answer_state``).
    answer_states: Mapping[str, str] = field(default_factory=dict)
    # Related Jira tickets, suggestions, issues and topics (``related.find_related``).
    related: Mapping[str, Sequence[Related]] = field(default_factory=dict)
    # The same author's copies on other channels, folded into this item (``related.fold_duplicates``).
    also_posted: Mapping[str, Sequence[Post]] = field(default_factory=dict)


def _triage_entry(
    post: Post,
    config: Settings,
    classifier: PostClassifier,
    writer: DraftWriter,
    findings: TriageFindings,
    as_of: datetime,
) -> tuple[str, dict[str, Any]]:
    decided = classifier.classify(post)
    related = tuple(findings.related.get(post.url, ()))
    suggestion = writer.suggest(post, decided, related, as_of)
    entry = {
        **_item(post),
        "type_label": TYPE_HEADINGS[decided.post_type],
        "rule": decided.rule,
        "action": suggestion.action,
        "missing": list(suggestion.missing_details),
        "draft": _blockquote(suggestion.draft),
        "answer_state": answers.ANSWER_STATE_WORDS.get(findings.answer_states.get(post.url, ""), ""),
        "owner": route_owner(post, config.routing),
        "related": [{"key": r.key, "url": r.url, "state": r.state} for r in related],
        "also_posted": [
            {"channel_label": channel_label(copy), "url": copy.url}
            for copy in findings.also_posted.get(post.url, ())
        ],
    }
    return decided.post_type, entry


def render_triage_list(
    new_posts: Iterable[Post],
    config: Settings,
    as_of: datetime,
    missing_channels: Sequence[str] = (),
    classifier: PostClassifier | None = None,
    unreadable: Sequence[Mapping[str, str]] = (),
    findings: TriageFindings | None = None,
) -> RenderedMessage:
    classifier = classifier or PostClassifier.from_settings(config)
    writer = DraftWriter(config, name_filter=lambda name: safe_text(name, 40))
    findings = findings or TriageFindings()
    grouped: dict[str, list[dict[str, Any]]] = {t: [] for t in POST_TYPES}
    urls: list[str] = []
    for post in new_posts:
        post_type, entry = _triage_entry(post, config, classifier, writer, findings, as_of)
        grouped[post_type].append(entry)
        urls.append(post.url)
        # A folded copy is covered by its item: it counts as listed.
        urls.extend(copy.url for copy in findings.also_posted.get(post.url, ()))
    groups = [{"heading": TYPE_HEADINGS[t], "entries": grouped[t]} for t in POST_TYPES if grouped[t]]
    context = {
        "as_of": as_of,
        "interval_start": day_window(as_of)[0],
        "total": sum(len(entries) for entries in grouped.values()),
        "groups": groups,
        "missing_channels": list(missing_channels),
        "title_max_chars": config.digest.title_max_chars,
        "unreadable": list(unreadable),
    }
    text = render_template("triage.md.j2", context)
    return RenderedMessage(
        "triage",
        # Items span several lines each: a blank line keeps them apart.
        tuple(split_message(text, KIND_PREFIX["triage"], config.digest.message_max_chars, separator="\n\n")),
        tuple(urls),
    )


def _ticket_state(ticket: Any) -> str:
    state = ticket.status + (f", {ticket.resolution}" if ticket.resolution else "")
    if ticket.fix_versions:
        state += ", fixVersion " + "/".join(ticket.fix_versions)
    return state


def render_uservoice_review(
    review: UserVoiceReview,
    config: Settings,
    as_of: datetime,
    applying: bool = False,
    missing_channels: Sequence[str] = (),
    pm: str = "",
) -> RenderedMessage:
    """``pm``: the community PM's Mattermost name (validated roster name), or "" to ping nobody."""
    context = {
        "as_of": as_of,
        "pm": pm,
        "total": review.total,
        "applying": applying,
        "missing_channels": list(missing_channels),
        "title_max_chars": config.digest.title_max_chars,
        "drift": [
            {
                "url": d.suggestion.url,
                "title": d.suggestion.title,
                "current": d.current,
                "proposed": d.proposed,
                "ticket_key": d.ticket.key,
                "ticket_url": d.ticket.url,
                "ticket_state": _ticket_state(d.ticket),
            }
            for d in review.status_drift
        ],
        "questions": [_item(p) for p in review.needs_question],
        "offers": [{**_item(o.suggestion), "excerpt": o.excerpt, "where": o.where} for o in review.offers],
    }
    text = render_template("uservoice_review.md.j2", context)
    urls = (
        *(d.suggestion.url for d in review.status_drift),
        *(p.url for p in review.needs_question),
        *(o.suggestion.url for o in review.offers),
    )
    prefix = KIND_PREFIX["uservoice_review"]
    return RenderedMessage(
        "uservoice_review", tuple(split_message(text, prefix, config.digest.message_max_chars)), urls
    )


def _review_item(item: StaleItem | AgedOutItem) -> dict[str, Any]:
    return {
        **_item(item.post),
        "answer": answers.ANSWER_STATE_WORDS[item.state],
        "last_activity": item.last_activity,
        "last_actor": item.last_actor,
    }


def render_weekly_review(
    stale: Mapping[str, Sequence[StaleItem]],
    config: Settings,
    as_of: datetime,
    stale_after_days: int,
    missing_channels: Sequence[str] = (),
    aged_out: Sequence[AgedOutItem] = (),
) -> RenderedMessage:
    """The aged-out posts first (every channel, forum included), then the stale ones by channel.

    A post listed as aged out is not listed again under its channel.
    """
    aged_out_urls = {i.post.url for i in aged_out}
    still_stale = {
        channel: kept
        for channel, items in stale.items()
        if (kept := [i for i in items if i.post.url not in aged_out_urls])
    }
    groups = [
        {"heading": channel_label_of(channel), "entries": [_review_item(i) for i in items]}
        for channel, items in still_stale.items()
    ]
    urls = (
        *(i.post.url for i in aged_out),
        *(i.post.url for items in still_stale.values() for i in items),
    )
    context = {
        "as_of": as_of,
        "total": len(urls),
        "stale_total": len(urls) - len(aged_out),
        "stale_after_days": stale_after_days,
        "help_wanted_max_age_days": config.digest.max_age_days,
        "aged_out": [_review_item(i) for i in aged_out],
        "groups": groups,
        "missing_channels": list(missing_channels),
        "title_max_chars": config.digest.title_max_chars,
    }
    text = render_template("weekly_review.md.j2", context)
    prefix = KIND_PREFIX["weekly_review"]
    return RenderedMessage(
        "weekly_review", tuple(split_message(text, prefix, config.digest.message_max_chars)), urls
    )


def render_closeout_summary(
    results: Sequence[ThankResult],
    skipped: Sequence[Nominee],
    params: CloseoutParams,
    config: Settings,
    mentions: Sequence[str] = (),
    trigger_url: str = "",
) -> RenderedMessage:
    """The summary, or a dry run's plan; a plan a release prompted mentions ``mentions`` (SPEC §5).

    ``trigger_url``: where a dry run's reader triggers the closeout for real ("" for no link).
    """

    def entry(nominee: Nominee) -> dict[str, Any]:
        return {
            "url": nominee.url,
            "title": nominee.title,
            "name": nominee.name,
            "edition": nominee.edition,
            "connection": nominee.connection,
            "jira_key": nominee.jira_key,
            "reason": nominee.reason,
        }

    context = {
        "version": params.version,
        "release_date": params.release_date,
        "dry_run": params.dry_run,
        "announcement_url": params.announcement_url,
        "prompted": params.is_prompt,
        "mentions": list(mentions) if params.is_prompt else [],
        "trigger_url": trigger_url,
        "thanked": [entry(r.nominee) for r in results if r.outcome in ("thanked", "dry_run")],
        "earlier": [entry(r.nominee) for r in results if r.outcome == "already_thanked"],
        "skipped": [entry(n) for n in skipped],
        "title_max_chars": config.digest.title_max_chars,
    }
    text = render_template("release_closeout.md.j2", context)
    urls = tuple(r.nominee.url for r in results)
    prefix = KIND_PREFIX["release_closeout"]
    return RenderedMessage(
        "release_closeout", tuple(split_message(text, prefix, config.digest.message_max_chars)), urls
    )
