"""The community team's rules file (``include/config/monitoring.yaml``) as typed settings.

The file is the documented default; a deployment overrides any key through the Airflow Variable
``community_settings`` (JSON, same shape), merged key by key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from community_monitoring.resources import default_rules_text

POST_TYPES: tuple[str, ...] = ("bug", "troubleshooting", "feature_proposal", "question")


class ConfigError(ValueError):
    """The rules file or a settings override is invalid; the message names the key."""


@dataclass(frozen=True)
class TypeRules:
    labels: dict[str, tuple[str, ...]]
    categories: dict[str, tuple[str, ...]]
    template_sections: dict[str, tuple[str, ...]]
    phrases: dict[str, tuple[str, ...]]
    channel_defaults: dict[str, str]


@dataclass(frozen=True)
class MonitoringConfig:
    community_name: str
    github_repos: tuple[str, ...]
    product_repo: str
    help_wanted_labels: tuple[str, ...]
    jira_sync_account: str
    forum_public_url: str
    first_response_min_age_days: int
    max_age_days: int
    release_window_days: int
    mentions: tuple[str, ...]
    hashtags: tuple[str, ...]
    title_max_chars: int
    excerpt_max_chars: int
    message_max_chars: int
    enterprise_keywords: tuple[str, ...]
    upgrade_keywords: tuple[str, ...]
    type_rules: TypeRules
    suggested_actions: dict[str, dict[str, str]]
    reply_drafts: dict[str, Any]
    doc_links: dict[str, str]
    paths: dict[str, str]
    mattermost_username: str
    mattermost_targets: dict[str, str]
    disabled_channels: frozenset[str] = frozenset()
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def suggested_action(self, channel: str, post_type: str) -> str:
        actions = self.suggested_actions.get(channel) or self.suggested_actions["default"]
        return actions.get(post_type) or self.suggested_actions["default"][post_type]


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _get(raw: Mapping[str, Any], dotted: str, kind: type | tuple[type, ...]) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"config key {dotted!r} is missing")
        node = node[part]
    if not isinstance(node, kind) or (kind is int and isinstance(node, bool)):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"config key {dotted!r} must be {expected}, got {type(node).__name__}")
    return node


def _str_list(raw: Mapping[str, Any], dotted: str) -> tuple[str, ...]:
    values = _get(raw, dotted, list)
    if not all(isinstance(v, str) and v for v in values):
        raise ConfigError(f"config key {dotted!r} must be a list of non-empty strings")
    return tuple(values)


def _type_map(raw: Mapping[str, Any], dotted: str) -> dict[str, tuple[str, ...]]:
    mapping = _get(raw, dotted, dict)
    unknown = sorted(set(mapping) - set(POST_TYPES))
    if unknown:
        raise ConfigError(f"config key {dotted!r} names unknown post types {unknown}; use {list(POST_TYPES)}")
    return {post_type: _str_list(raw, f"{dotted}.{post_type}") for post_type in mapping}


def _disabled_channels(raw: Mapping[str, Any]) -> frozenset[str]:
    from community_monitoring import CHANNEL_KEYS

    section = raw.get("channels") or {}
    disabled = _str_list({"channels": {"disabled": section.get("disabled") or []}}, "channels.disabled")
    unknown = sorted(set(disabled) - set(CHANNEL_KEYS))
    if unknown:
        raise ConfigError(
            f"config key 'channels.disabled' names unknown channels {unknown}; use {list(CHANNEL_KEYS)}"
        )
    return frozenset(disabled)


def parse_config(raw: Mapping[str, Any]) -> MonitoringConfig:
    defaults = _get(raw, "post_types.channel_defaults", dict)
    for channel, post_type in defaults.items():
        if post_type not in POST_TYPES:
            raise ConfigError(
                f"config key 'post_types.channel_defaults.{channel}' is {post_type!r}; use {list(POST_TYPES)}"
            )
    actions = _get(raw, "suggested_actions", dict)
    for post_type in POST_TYPES:
        if post_type not in _get(raw, "suggested_actions.default", dict):
            raise ConfigError(f"config key 'suggested_actions.default.{post_type}' is missing")
    numbers = {
        key: _get(raw, f"digest.{key}", int)
        for key in (
            "first_response_min_age_days",
            "max_age_days",
            "release_window_days",
            "title_max_chars",
            "excerpt_max_chars",
            "message_max_chars",
        )
    }
    for key, value in numbers.items():
        if value < 0 or (key.endswith("_chars") and value < 20):
            raise ConfigError(f"config key 'digest.{key}' is out of range: {value}")
    doc_links = _get(raw, "reply_drafts.doc_links", dict)
    return MonitoringConfig(
        community_name=_get(raw, "community_name", str),
        github_repos=_str_list(raw, "github.repos"),
        product_repo=_get(raw, "github.product_repo", str),
        help_wanted_labels=_str_list(raw, "github.help_wanted_labels"),
        jira_sync_account=_get(raw, "github.jira_sync_account", str),
        forum_public_url=_get(raw, "forum.public_url", str).rstrip("/"),
        mentions=_str_list(raw, "digest.mentions"),
        hashtags=_str_list(raw, "digest.hashtags"),
        enterprise_keywords=_str_list(raw, "release_watch.enterprise_keywords"),
        upgrade_keywords=_str_list(raw, "release_watch.upgrade_keywords"),
        type_rules=TypeRules(
            labels=_type_map(raw, "post_types.labels"),
            categories=_type_map(raw, "post_types.categories"),
            template_sections=_type_map(raw, "post_types.template_sections"),
            phrases=_type_map(raw, "post_types.phrases"),
            channel_defaults=dict(defaults),
        ),
        suggested_actions={k: dict(v) for k, v in actions.items()},
        reply_drafts=dict(_get(raw, "reply_drafts", dict)),
        doc_links={str(k): str(v) for k, v in doc_links.items()},
        paths={str(k): str(v or "") for k, v in _get(raw, "paths", dict).items()},
        mattermost_username=_get(raw, "mattermost.username", str),
        mattermost_targets={str(k): str(v) for k, v in _get(raw, "mattermost.targets", dict).items()},
        disabled_channels=_disabled_channels(raw),
        raw=dict(raw),
        **numbers,
    )


def load_config(
    path: str | os.PathLike[str] | None = None, overrides: Mapping[str, Any] | None = None
) -> MonitoringConfig:
    """Read the rules file (``COMMUNITY_MONITORING_CONFIG`` or the bundled one) and apply overrides."""
    import yaml

    custom = path or os.environ.get("COMMUNITY_MONITORING_CONFIG")
    config_path = Path(custom or "community_monitoring/defaults/monitoring.yaml")  # as errors name it
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8") if custom else default_rules_text())
    except FileNotFoundError:
        raise ConfigError(f"rules file not found: {config_path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"rules file {config_path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"rules file {config_path} must hold a mapping at the top level")
    if overrides:
        if not isinstance(overrides, Mapping):
            raise ConfigError("Variable 'community_settings' must be a JSON object")
        raw = deep_merge(raw, overrides)
    try:
        return parse_config(raw)
    except ConfigError as exc:
        raise ConfigError(f"{config_path}: {exc}") from None
