"""Settings: the bundled rules file validates; ``community_settings`` overrides merge key by key; a
bad value (unknown key, wrong type, out of range) fails before a run sends anything, naming where
it came from and the dotted key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from community_monitoring.resources import default_rules_text
from community_monitoring.settings import (
    CONFIG_ENV,
    Settings,
    SettingsError,
    build_settings,
    load_settings,
)

VARIABLE = "Variable 'community_settings'"
RULES: dict[str, Any] = yaml.safe_load(default_rules_text())


@pytest.fixture(autouse=True)
def bundled_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test reads the bundled rules file unless it points COMMUNITY_MONITORING_CONFIG elsewhere."""
    monkeypatch.delenv(CONFIG_ENV, raising=False)


def test_bundled_rules_validate() -> None:
    settings = load_settings()
    assert isinstance(settings, Settings)
    assert build_settings(RULES, None, "the bundled rules file") == settings
    assert settings.community_name == "Mattermost"
    assert settings.digest.max_age_days == 30
    assert settings.digest.release_window_days == 14
    assert settings.weekly.max_age_days == 180
    assert settings.github.repos == ["mattermost/mattermost", "mattermost/mattermost-mobile"]
    assert settings.forum.base_url == "https://forum.mattermost.com"
    # Everything that writes upstream is off unless the team switches it on.
    assert settings.uservoice.apply_status_updates is False
    assert settings.replies.channels == frozenset()
    assert settings.channels.disabled == []
    assert all(settings.is_enabled(c) for c in ("github", "gitlab", "forum", "stackoverflow", "uservoice"))
    assert settings.suggested_actions.for_post("github", "bug").startswith("Try to reproduce")
    # A channel without its own table uses the default one.
    assert settings.suggested_actions.for_post("forum", "bug") == settings.suggested_actions.default["bug"]


@pytest.mark.parametrize("empty", [None, "", {}, "{}"])
def test_no_overrides_is_the_rules_file(empty: Any) -> None:
    assert load_settings(empty) == load_settings()


def test_override_merges_key_by_key() -> None:
    default = load_settings()
    settings = load_settings(
        {
            "digest": {"max_age_days": 45},
            "mattermost": {"targets": {"triage": "mattermost_other"}},
            "github": {"repos": ["acme/widgets"]},
            "channels": {"disabled": ["gitlab"]},
            "uservoice": {"apply_status_updates": True},
        }
    )
    assert settings.digest.max_age_days == 45
    # Sibling keys of an overridden key keep the rules file's values.
    assert settings.digest.release_window_days == default.digest.release_window_days == 14
    assert settings.digest.mentions == default.digest.mentions
    assert settings.mattermost.targets["triage"] == "mattermost_other"
    assert settings.mattermost.targets["help_wanted"] == "mattermost_default"
    assert settings.mattermost.username == default.mattermost.username
    # A list is replaced, not extended.
    assert settings.github.repos == ["acme/widgets"]
    assert settings.github.product_repo == default.github.product_repo
    assert not settings.is_enabled("gitlab")
    assert settings.is_enabled("github")
    assert settings.uservoice.apply_status_updates is True
    assert settings.uservoice.status_mapping == default.uservoice.status_mapping
    # Untouched sections are the rules file's.
    assert settings.post_types == default.post_types
    assert settings.closeout == default.closeout


def test_a_null_override_takes_an_entry_out_of_a_map() -> None:
    """Merged key by key, a map could only grow: a deployment kept reading the default GitLab project."""
    default = load_settings()
    link = next(iter(default.reply_drafts.doc_links))
    settings = load_settings(
        {
            "gitlab": {"projects": {"gitlab-org/omnibus-gitlab": None, "acme/widgets": ["Widgets"]}},
            "reply_drafts": {"doc_links": {link: None}},
        }
    )
    assert settings.gitlab.projects == {"acme/widgets": ["Widgets"]}
    # A project in a subgroup (GitLab nests groups) is a project like any other.
    nested = load_settings({"gitlab": {"projects": {"gitlab-org/ci-cd/runner": []}}})
    assert "gitlab-org/ci-cd/runner" in nested.gitlab.projects
    assert link not in settings.reply_drafts.doc_links
    assert len(settings.reply_drafts.doc_links) == len(default.reply_drafts.doc_links) - 1
    # Any key: the schema's default applies ("": no server is too old).
    unset = load_settings({"post_types": {"oldest_supported_server": None}})
    assert unset.post_types.oldest_supported_server == ""
    # A required map taken out whole is named.
    with pytest.raises(SettingsError, match=r"key 'reply_drafts\.doc_links': Field required"):
        load_settings({"reply_drafts": {"doc_links": None}})


def test_override_as_json_text_is_the_same_as_decoded() -> None:
    overrides = {"digest": {"max_age_days": 45}, "replies": {"post_upstream": {"gitlab": True}}}
    assert load_settings(json.dumps(overrides)) == load_settings(overrides)
    assert load_settings(json.dumps(overrides)).replies.channels == frozenset({"gitlab"})


def test_override_leaves_the_rules_file_alone() -> None:
    load_settings({"digest": {"max_age_days": 45}})
    assert load_settings().digest.max_age_days == 30
    assert RULES["digest"]["max_age_days"] == 30


@pytest.mark.parametrize(
    ("case", "overrides", "key", "message"),
    [
        ("unknown key", {"digest": {"max_agedays": 45}}, "digest.max_agedays", "unknown key"),
        ("unknown section", {"digets": {"max_age_days": 45}}, "digets", "unknown key"),
        (
            '"false" is no boolean',
            {"uservoice": {"apply_status_updates": "false"}},
            "uservoice.apply_status_updates",
            "valid boolean (got 'false')",
        ),
        (
            '"true" is no boolean',
            {"uservoice": {"apply_status_updates": "true"}},
            "uservoice.apply_status_updates",
            "valid boolean",
        ),
        (
            "1 is no boolean",
            {"uservoice": {"apply_status_updates": 1}},
            "uservoice.apply_status_updates",
            "boolean",
        ),
        ('"30" is no number', {"digest": {"max_age_days": "30"}}, "digest.max_age_days", "valid integer"),
        (
            "a word is no number",
            {"digest": {"max_age_days": "thirty"}},
            "digest.max_age_days",
            "valid integer",
        ),
        ("30.5 days", {"digest": {"max_age_days": 30.5}}, "digest.max_age_days", "valid integer"),
        # A time that far back overflowed in the extracts, after check_run had passed.
        (
            "800,000 days",
            {"digest": {"max_age_days": 800_000}},
            "digest.max_age_days",
            "less than or equal to 3650",
        ),
        (
            "@all pings the away",
            {"digest": {"mentions": ["@all"]}},
            "digest.mentions.0",
            "use @here or @channel",
        ),
        (
            "a mention without its @",
            {"digest": {"mentions": ["here"]}},
            "digest.mentions.0",
            "should match pattern",
        ),
        (
            "a hashtag that is a mention",
            {"digest": {"hashtags": ["@channel"]}},
            "digest.hashtags.0",
            "pattern",
        ),
        (
            "a GitLab project without its group",
            {"gitlab": {"projects": {"widgets": []}}},
            "gitlab.projects.widgets.[key]",
            "should match pattern",
        ),
        (
            "a GitLab project path with an empty part",
            {"gitlab": {"projects": {"acme//widgets": []}}},
            "gitlab.projects.acme//widgets.[key]",
            "should match pattern",
        ),
        # Without a tag the API lists every question of the site.
        ("no Stack Overflow tag", {"stackoverflow": {"tags": []}}, "stackoverflow.tags", "at least 1 item"),
        (
            "digest window of 0 days",
            {"digest": {"max_age_days": 0}},
            "digest.max_age_days",
            "greater than or equal to 1",
        ),
        (
            "weekly window of 0 days",
            {"weekly": {"max_age_days": 0}},
            "weekly.max_age_days",
            "greater than or equal to 1",
        ),
        (
            "negative first-response age",
            {"digest": {"first_response_min_age_days": -1}},
            "digest.first_response_min_age_days",
            "greater than or equal to 0",
        ),
        (
            "message longer than Mattermost takes",
            {"digest": {"message_max_chars": 20000}},
            "digest.message_max_chars",
            "less than or equal to 16383",
        ),
        (
            "state retention shorter than the page's charts",
            {"health": {"state_retention_days": 30}},
            "health.state_retention_days",
            "must be 0 (keep every snapshot) or at least 56",
        ),
        (
            "negative state retention",
            {"health": {"state_retention_days": -1}},
            "health.state_retention_days",
            "greater than or equal to 0",
        ),
        (
            "unknown post type in labels",
            {"post_types": {"labels": {"bugg": ["x"]}}},
            "post_types.labels.bugg",
            "'bug', 'troubleshooting', 'feature_proposal' or 'question' (got 'bugg')",
        ),
        (
            "unknown post type as a channel default",
            {"post_types": {"channel_defaults": {"github": "rant"}}},
            "post_types.channel_defaults.github",
            "(got 'rant')",
        ),
        (
            "unknown channel disabled",
            {"channels": {"disabled": ["myspace"]}},
            "channels.disabled.0",
            "(got 'myspace')",
        ),
        (
            "replies cannot go to the forum",
            {"replies": {"post_upstream": {"forum": True}}},
            "replies.post_upstream.forum",
            "'github' or 'gitlab' (got 'forum')",
        ),
        (
            '"yes" is no boolean for replies',
            {"replies": {"post_upstream": {"github": "yes"}}},
            "replies.post_upstream.github",
            "valid boolean (got 'yes')",
        ),
        (
            "team message without {name}",
            {"closeout": {"team_message": "It is now available in Mattermost {version}. {url}"}},
            "closeout.team_message",
            "must contain {name} and {version}",
        ),
        (
            "enterprise message without {version}",
            {"closeout": {"enterprise_message": "Thank you {name}!"}},
            "closeout.enterprise_message",
            "must contain {name} and {version}",
        ),
        (
            "status mapping entry without a status",
            {"uservoice": {"status_mapping": [{"when": {"resolution": ["Done"]}}]}},
            "uservoice.status_mapping.0.status",
            "Field required",
        ),
        (
            "status mapping entry with an unknown condition",
            {"uservoice": {"status_mapping": [{"when": {"colour": ["red"]}, "status": "X"}]}},
            "uservoice.status_mapping.0.when.colour",
            "unknown key",
        ),
        (
            "status mapping condition as a string, not a list",
            {"uservoice": {"status_mapping": [{"when": {"label": "Help Wanted"}, "status": "X"}]}},
            "uservoice.status_mapping.0.when.label",
            "valid list (got 'Help Wanted')",
        ),
        (
            "status mapping flag as a string",
            {"uservoice": {"status_mapping": [{"when": {"resolved": "false"}, "status": "X"}]}},
            "uservoice.status_mapping.0.when.resolved",
            "valid boolean",
        ),
        (
            "empty status mapping",
            {"uservoice": {"status_mapping": []}},
            "uservoice.status_mapping",
            "at least 1 item",
        ),
        (
            "repos as a string",
            {"github": {"repos": "mattermost/mattermost"}},
            "github.repos",
            "valid list",
        ),
        ("repo without owner", {"github": {"repos": ["mattermost"]}}, "github.repos.0", "pattern"),
        (
            "forum URL that is not http(s)",
            {"forum": {"public_url": "javascript:alert(1)"}},
            "forum.public_url",
            "pattern",
        ),
        (
            "message kind without a connection",
            {"mattermost": {"targets": {"paging": "mattermost_x"}}},
            "mattermost.targets.paging",
            "(got 'paging')",
        ),
        (
            "a community name that would ping a whole channel",
            {"community_name": "Acme @channel"},
            "community_name",
            "'@' would mention someone",
        ),
        (
            "a community name with markup",
            {"community_name": "Acme [docs](https://x.test)"},
            "community_name",
            "'[' would be read as markup",
        ),
    ],
)
def test_bad_override_names_the_variable_and_the_key(
    case: str, overrides: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(overrides)
    text = str(caught.value)
    assert text.startswith(f"{VARIABLE}: key '{key}"), (case, text)
    assert message in text, (case, text)
    assert "rules file" not in text, case


@pytest.mark.parametrize("value", ["false", "False", "0", "", "no", 0])
def test_a_string_never_turns_status_updates_on(value: Any) -> None:
    with pytest.raises(SettingsError, match=r"'uservoice\.apply_status_updates'"):
        load_settings({"uservoice": {"apply_status_updates": value}})
    # The real boolean does turn it on, so the refusal above is about the type only.
    assert load_settings({"uservoice": {"apply_status_updates": True}}).uservoice.apply_status_updates


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"digest": {"max_age_days": 0, "max_agedays": 1}, "weekly": {"max_age_days": "7"}})
    text = str(caught.value)
    for key in ("digest.max_age_days", "digest.max_agedays", "weekly.max_age_days"):
        assert f"{VARIABLE}: key '{key}'" in text, text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", f"{VARIABLE} is not valid JSON"),
        ('{"digest": {"max_age_days": 45,}}', f"{VARIABLE} is not valid JSON"),
        ("[1, 2]", f"{VARIABLE} must be a JSON object, got list"),
        ('"digest"', f"{VARIABLE} must be a JSON object, got str"),
        (42, f"{VARIABLE} must be a JSON object, got int"),
    ],
)
def test_variable_that_is_no_json_object_is_named(value: Any, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(value)


def write_rules(path: Path, **changes: dict[str, Any]) -> Path:
    rules = {**RULES, **{section: {**RULES[section], **values} for section, values in changes.items()}}
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    return path


def test_rules_file_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write_rules(tmp_path / "rules.yaml", digest={"max_age_days": 45})
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert load_settings().digest.max_age_days == 45
    assert load_settings({"digest": {"max_age_days": 50}}).digest.max_age_days == 50


@pytest.mark.parametrize(
    ("case", "changes", "key", "message"),
    [
        (
            "out of range",
            {"digest": {"max_age_days": 0}},
            "digest.max_age_days",
            "greater than or equal to 1",
        ),
        ("unknown key", {"weekly": {"stale_days": 7}}, "weekly.stale_days", "unknown key"),
        (
            '"false" is no boolean',
            {"uservoice": {"apply_status_updates": "false"}},
            "uservoice.apply_status_updates",
            "valid boolean",
        ),
    ],
)
def test_bad_rules_file_names_that_file_and_the_key(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    case: str,
    changes: dict[str, dict[str, Any]],
    key: str,
    message: str,
) -> None:
    path = write_rules(tmp_path / "rules.yaml", **changes)
    monkeypatch.setenv(CONFIG_ENV, str(path))
    # A good override cannot hide a bad file: the file is validated on its own first.
    for overrides in (None, {"digest": {"max_age_days": 45}}):
        with pytest.raises(SettingsError) as caught:
            load_settings(overrides)
        text = str(caught.value)
        assert text.startswith(f"rules file {path}: key '{key}'"), (case, text)
        assert message in text, (case, text)
        assert VARIABLE not in text, case


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "(from COMMUNITY_MONITORING_CONFIG) cannot be read"),
        ("digest: [unclosed", "is not valid YAML"),
        ("- a\n- list\n", "must hold a mapping at the top level"),
    ],
)
def test_unusable_rules_file_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "rules.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    with pytest.raises(SettingsError, match=re.escape(f"rules file {path}")) as caught:
        load_settings()
    assert message in str(caught.value)


def test_build_settings_names_the_given_source() -> None:
    bad = {**RULES, "digest": {**RULES["digest"], "max_age_days": 0}}
    with pytest.raises(SettingsError, match=r"^my rules: key 'digest\.max_age_days'"):
        build_settings(bad, None, "my rules")
    with pytest.raises(SettingsError, match=rf"^{VARIABLE}: key 'digest\.max_age_days'"):
        build_settings(RULES, {"digest": {"max_age_days": 0}}, "my rules")


def test_settings_are_read_only() -> None:
    settings = load_settings()
    with pytest.raises(Exception, match="frozen"):
        settings.digest.max_age_days = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    "message",
    ["Thank you {name}! Mattermost {version}: {link}", "Thank you {name}! Mattermost {version} {}"],
)
def test_closeout_message_with_an_unknown_placeholder_is_named(message: str) -> None:
    with pytest.raises(SettingsError, match=r"closeout"):
        load_settings({"closeout": {"team_message": message}})


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key written twice in one mapping (safe_load keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        twice = sorted({str(k) for k in keys if keys.count(k) > 1})
        if twice:
            raise yaml.constructor.ConstructorError(
                None, None, f"keys written twice: {twice}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


def test_the_shipped_rules_file_writes_each_key_once() -> None:
    # An operator copying the file and editing the first of two copies would silently get the second.
    assert yaml.load(default_rules_text(), Loader=_UniqueKeyLoader) == RULES
    with pytest.raises(yaml.constructor.ConstructorError, match="written twice"):
        yaml.load("paths:\n  a: 1\n  a: 2\n", Loader=_UniqueKeyLoader)


def test_the_alert_is_sent_with_the_bundled_rules_when_the_rules_file_is_broken(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every scheduled run failed on the broken file, and the alert (read through the same file)
    failed with it: the CM heard nothing."""
    from datetime import UTC, datetime

    from community_monitoring.errors import SettingsError as Broken
    from community_monitoring.pipeline import run

    broken = tmp_path / "rules.yaml"
    broken.write_text("digest: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("COMMUNITY_MONITORING_CONFIG", str(broken))

    def variable_and_file() -> Settings:
        return load_settings()  # what run_settings reads, the Variable aside

    used: list[Settings] = []
    monkeypatch.setattr(run, "run_settings", variable_and_file)
    monkeypatch.setattr(run, "make_outbox", lambda facts, settings, policy: used.append(settings))
    with pytest.raises(Broken, match="not valid YAML"):
        variable_and_file()
    run.alert_outbox(run.RunFacts("community_daily_monitoring", "manual__1", "manual", datetime.now(UTC)))
    monkeypatch.delenv("COMMUNITY_MONITORING_CONFIG")
    assert used == [load_settings()]
    assert used[0].mattermost.targets["alert"]
