"""The daily [UserVoice Review] for the community PM (SPEC §4 (c)), as pure functions.

Three lists, as of T: suggestions whose status differs from the one their linked Jira ticket
implies; new suggestions with no linked ticket and no admin response; requesters who offer to
build what they asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from community_monitoring.config import ConfigError, MonitoringConfig
from community_monitoring.records import Post
from community_monitoring.rules import keyword_pattern
from community_monitoring.sources.jira import JiraTicket
from community_monitoring.versions import normalise_version

CONDITION_KEYS = frozenset(
    {"resolution", "label", "status_category", "status", "resolved", "has_fix_version"}
)


@dataclass(frozen=True)
class StatusRule:
    status: str
    conditions: Mapping[str, Any]

    def matches(self, ticket: JiraTicket) -> bool:
        def among(value: str | None, names: list[str]) -> bool:
            return value is not None and value.casefold() in {n.casefold() for n in names}

        checks = {
            "resolution": lambda names: among(ticket.resolution, names),
            "status_category": lambda names: among(ticket.status_category, names),
            "status": lambda names: among(ticket.status, names),
            "label": lambda names: any(among(label, names) for label in ticket.labels),
            "resolved": lambda flag: ticket.is_resolved is bool(flag),
            "has_fix_version": lambda flag: bool(ticket.fix_versions) is bool(flag),
        }
        return all(checks[key](value) for key, value in self.conditions.items())


@dataclass(frozen=True)
class UserVoiceRules:
    mapping: tuple[StatusRule, ...]
    enterprise_categories: frozenset[str]
    enterprise_labels: frozenset[str]
    offer_phrases: tuple[str, ...]
    apply_status_updates: bool
    status_update_body: str

    @classmethod
    def from_config(cls, config: MonitoringConfig) -> UserVoiceRules:
        section = config.raw.get("uservoice")
        if not isinstance(section, Mapping):
            raise ConfigError("config key 'uservoice' is missing")
        rules = []
        for index, entry in enumerate(section.get("status_mapping") or []):
            where = f"uservoice.status_mapping[{index}]"
            if not isinstance(entry, Mapping) or not isinstance(entry.get("status"), str):
                raise ConfigError(f"config key {where!r} needs a 'status' name")
            when = entry.get("when") or {}
            unknown = sorted(set(when) - CONDITION_KEYS)
            if unknown:
                raise ConfigError(
                    f"config key {where!r} has unknown conditions {unknown}; use {sorted(CONDITION_KEYS)}"
                )
            for key in ("resolution", "label", "status_category", "status"):
                if key in when and not isinstance(when[key], list):
                    raise ConfigError(f"config key '{where}.when.{key}' must be a list of names")
            rules.append(StatusRule(entry["status"], dict(when)))
        if not rules:
            raise ConfigError("config key 'uservoice.status_mapping' must have at least one rule")
        return cls(
            mapping=tuple(rules),
            enterprise_categories=frozenset(c.casefold() for c in section.get("enterprise_categories") or ()),
            enterprise_labels=frozenset(c.casefold() for c in section.get("enterprise_labels") or ()),
            offer_phrases=tuple(section.get("offer_phrases") or ()),
            apply_status_updates=bool(section.get("apply_status_updates", False)),
            status_update_body=str(section.get("status_update_body") or ""),
        )

    def implied_status(self, ticket: JiraTicket) -> str | None:
        return next((rule.status for rule in self.mapping if rule.matches(ticket)), None)

    def edition(self, suggestion: Post, ticket: JiraTicket | None) -> str:
        labels = {label.casefold() for label in (*suggestion.labels, *(ticket.labels if ticket else ()))}
        enterprise = suggestion.category.casefold() in self.enterprise_categories or bool(
            labels & self.enterprise_labels
        )
        return "Enterprise" if enterprise else "Team"

    def check_statuses_known(self, known: Iterable[str]) -> None:
        """Every status the mapping proposes must exist upstream, or applying it would fail."""
        names = {name.casefold() for name in known}
        missing = sorted({rule.status for rule in self.mapping if rule.status.casefold() not in names})
        if missing:
            raise ConfigError(
                f"config key 'uservoice.status_mapping' proposes statuses UserVoice does not have: {missing}; "
                f"UserVoice has {sorted(known)}"
            )


def link_tickets(tickets: Iterable[JiraTicket]) -> dict[int, JiraTicket]:
    """Suggestion id → its linked ticket (the most recently updated one when several link it)."""
    linked: dict[int, JiraTicket] = {}
    for ticket in tickets:
        for suggestion_id in ticket.suggestion_ids:
            current = linked.get(suggestion_id)
            if current is None or (ticket.updated_at or "") > (current.updated_at or ""):
                linked[suggestion_id] = ticket
    return linked


@dataclass(frozen=True)
class StatusDrift:
    suggestion: Post
    ticket: JiraTicket
    current: str
    proposed: str


@dataclass(frozen=True)
class Offer:
    suggestion: Post
    excerpt: str
    where: str  # "suggestion" or "comment"


@dataclass(frozen=True)
class UserVoiceReview:
    status_drift: tuple[StatusDrift, ...]
    needs_question: tuple[Post, ...]
    offers: tuple[Offer, ...]

    @property
    def total(self) -> int:
        return len(self.status_drift) + len(self.needs_question) + len(self.offers)


def _excerpt(text: str, start: int, width: int = 160) -> str:
    left = max(start - width // 3, 0)
    return (
        ("…" if left else "") + text[left : left + width].strip() + ("…" if left + width < len(text) else "")
    )


def review_suggestions(
    suggestions: Iterable[Post],
    tickets: Iterable[JiraTicket],
    rules: UserVoiceRules,
    as_of: datetime,
) -> UserVoiceReview:
    linked = link_tickets(tickets)
    offer = keyword_pattern(rules.offer_phrases)
    interval_start = as_of - timedelta(days=1)
    drift: list[StatusDrift] = []
    questions: list[Post] = []
    offers: list[Offer] = []
    for suggestion in suggestions:
        if suggestion.created_at > as_of:
            continue
        suggestion_id = int(suggestion.extra["suggestion_id"])
        ticket = linked.get(suggestion_id)
        current = str(suggestion.extra.get("status") or "")
        if ticket is not None:
            proposed = rules.implied_status(ticket)
            if proposed and proposed.casefold() != current.casefold():
                drift.append(StatusDrift(suggestion, ticket, current or "(no status)", proposed))
        is_new = interval_start < suggestion.created_at <= as_of
        if is_new and ticket is None and not suggestion.extra.get("admin_response"):
            questions.append(suggestion)
        if offer is None:
            continue
        found = offer.search(suggestion.body) if is_new else None
        if found:
            offers.append(Offer(suggestion, _excerpt(suggestion.body, found.start()), "suggestion"))
            continue
        for reply in suggestion.replies:
            if not (interval_start < reply.created_at <= as_of):
                continue
            if reply.author.casefold() != suggestion.author.casefold():
                continue
            found = offer.search(reply.body)
            if found:
                offers.append(Offer(suggestion, _excerpt(reply.body, found.start()), "comment"))
                break

    def by_created(item: Any) -> Any:
        post = item if isinstance(item, Post) else item.suggestion
        return (post.created_at, post.url)

    return UserVoiceReview(
        status_drift=tuple(sorted(drift, key=by_created)),
        needs_question=tuple(sorted(questions, key=by_created)),
        offers=tuple(sorted(offers, key=by_created)),
    )


def fix_version_matches(ticket_versions: Iterable[str], version: str) -> bool:
    """``v11.1`` matches ``11.1``: a leading ``v`` is ignored on both sides."""

    return normalise_version(version) in {normalise_version(v) for v in ticket_versions}
