"""Turn rule results into the rendered Mattermost messages of SPEC §7."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from community_monitoring.channels import channel as channel_of
from community_monitoring.channels import label as channel_label_of
from community_monitoring.classify import TYPE_HEADINGS, PostClassifier
from community_monitoring.drafts import DraftWriter
from community_monitoring.records import Post
from community_monitoring.rendering import render_template, split_message
from community_monitoring.routing import route_owner
from community_monitoring.rules import HelpWantedSections, StaleItem
from community_monitoring.safety import safe_text
from community_monitoring.settings import POST_TYPES, Settings
from community_monitoring.timeutil import day_window

if TYPE_CHECKING:
    from community_monitoring.closeout_plan import Nominee, ThankResult
    from community_monitoring.params import CloseoutParams
    from community_monitoring.uservoice_review import UserVoiceReview

# How each answer state reads on a listed item (SPEC §4 "Answer state").
ANSWER_STATE_WORDS: dict[str, str] = {
    "unanswered": "unanswered",
    "waiting_on_reporter": "waiting on the reporter",
    "waiting_on_us": "waiting on us",
    "answered": "answered",
}

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


def render_help_wanted_digest(
    sections: HelpWantedSections,
    config: Settings,
    as_of: datetime,
    rotation: str = "",
    missing_channels: Sequence[str] = (),
    backfill: bool = False,
    mention: bool = True,
) -> RenderedMessage:
    """``backfill`` dates the header; ``mention`` off (an older day of a catch-up) pings nobody."""
    named = [
        ("Waiting for a first response", sections.waiting_for_first_response),
        (
            f"After the release ({sections.release.tag})" if sections.release else "After the release",
            sections.after_the_release,
        ),
        ("New reply to a core-team question", sections.new_reply_to_core_team_question),
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
            {"title": title, "entries": [_item(p) for p in posts]} for title, posts in named if posts
        ],
    }
    text = render_template("help_wanted.md.j2", context)
    urls = tuple(p.url for _, posts in named for p in posts)
    return RenderedMessage(
        "help_wanted",
        tuple(split_message(text, KIND_PREFIX["help_wanted"], config.digest.message_max_chars)),
        urls,
    )


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def render_triage_list(
    new_posts: Iterable[Post],
    config: Settings,
    as_of: datetime,
    missing_channels: Sequence[str] = (),
    classifier: PostClassifier | None = None,
    unreadable: Sequence[Mapping[str, str]] = (),
    answer_states: Mapping[str, str] | None = None,
) -> RenderedMessage:
    """``answer_states``: each post's answer state at T by URL (``answers.answer_state``)."""
    classifier = classifier or PostClassifier.from_settings(config)
    writer = DraftWriter(config, name_filter=lambda name: safe_text(name, 40))
    grouped: dict[str, list[dict[str, Any]]] = {t: [] for t in POST_TYPES}
    urls: list[str] = []
    for post in new_posts:
        decided = classifier.classify(post)
        suggestion = writer.suggest(post, decided)
        grouped[decided.post_type].append(
            {
                **_item(post),
                "type_label": TYPE_HEADINGS[decided.post_type],
                "rule": decided.rule,
                "action": suggestion.action,
                "missing": list(suggestion.missing_details),
                "draft": _blockquote(suggestion.draft),
                "answer_state": ANSWER_STATE_WORDS.get((answer_states or {}).get(post.url, ""), ""),
                "owner": route_owner(post, config.routing),
            }
        )
        urls.append(post.url)
    groups = [{"heading": TYPE_HEADINGS[t], "entries": grouped[t]} for t in POST_TYPES if grouped[t]]
    context = {
        "as_of": as_of,
        "interval_start": day_window(as_of)[0],
        "total": len(urls),
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


def render_weekly_review(
    stale: Mapping[str, Sequence[StaleItem]],
    config: Settings,
    as_of: datetime,
    stale_after_days: int,
    missing_channels: Sequence[str] = (),
) -> RenderedMessage:
    groups = [
        {
            "heading": channel_label_of(channel),
            "entries": [
                {**_item(i.post), "last_activity": i.last_activity, "last_actor": i.last_actor} for i in items
            ],
        }
        for channel, items in stale.items()
    ]
    urls = tuple(i.post.url for items in stale.values() for i in items)
    context = {
        "as_of": as_of,
        "total": len(urls),
        "stale_after_days": stale_after_days,
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
) -> RenderedMessage:
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
