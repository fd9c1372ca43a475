"""The community team's settings as one typed, validated object (SPEC §6 "Settings").

The rules file (``defaults/monitoring.yaml`` in this package, or the file named by
``COMMUNITY_MONITORING_CONFIG``) is the documented default; a deployment overrides any key
through the Airflow Variable ``community_settings`` (JSON, same shape, merged key by key).
Both are validated against the schema below before a run sends anything: an unknown key, a wrong
type (``"false"`` is not a boolean, ``"30"`` is not a number) or an out-of-range value is an
error that names where it came from and the dotted key.
"""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from community_monitoring.channels import AgedOutChannel, WeeklyChannel
from community_monitoring.errors import SettingsError

SETTINGS_VARIABLE = "community_settings"
CONFIG_ENV = "COMMUNITY_MONITORING_CONFIG"

PostType = Literal["bug", "troubleshooting", "feature_proposal", "question"]
POST_TYPES: tuple[str, ...] = ("bug", "troubleshooting", "feature_proposal", "question")
ChannelKey = Literal["github", "gitlab", "forum", "stackoverflow", "uservoice", "jira"]
MessageKind = Literal[
    "help_wanted", "triage", "weekly_review", "uservoice_review", "release_closeout", "alert"
]

Text = Annotated[str, StringConstraints(strict=True, min_length=1)]
OptionalText = Annotated[str, StringConstraints(strict=True)]
Count = Annotated[int, Field(strict=True, ge=0)]
# Spans of days: within ten years (a time that far back overflowed in the extracts, past check_run).
Days = Annotated[int, Field(strict=True, ge=1, le=3650)]
DayCount = Annotated[int, Field(strict=True, ge=0, le=3650)]


def _header_mention(value: str) -> str:
    if value == "@all":
        raise ValueError("@all pings everyone, also those away: use @here or @channel")
    return value


# What the digest header mentions: @here (or @channel) or a Mattermost name, never @all (it pings
# people who are away too); a hashtag, '#' then letters, digits, '_' or '-'.
HeaderMention = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^@(here|channel|[a-z][a-z0-9._-]{0,63})$"),
    AfterValidator(_header_mention),
]
Hashtag = Annotated[str, StringConstraints(strict=True, pattern=r"^#[\w-]{1,64}$")]
Flag = Annotated[bool, Field(strict=True)]
RepoName = Annotated[str, StringConstraints(strict=True, pattern=r"^[\w.-]+/[\w.-]+$")]
# A GitLab project's full path: its group, any subgroups (gitlab-org/ci-cd/runner), then its name.
# Bounded so that "<path>#<iid>" stays a key the state table's index takes (Postgres refuses an index
# entry over 2704 bytes, which failed the whole day's snapshot); real paths are far shorter.
GitlabProjectPath = Annotated[
    str, StringConstraints(strict=True, max_length=512, pattern=r"^[\w.-]+(?:/[\w.-]+)+$")
]
HttpUrl = Annotated[str, StringConstraints(strict=True, pattern=r"^https?://[^\s/]+\S*$")]
OptionalHttpUrl = Annotated[str, StringConstraints(strict=True, pattern=r"^(https?://[^\s/]+\S*)?$")]


class Section(BaseModel):
    """A block of settings: closed (unknown keys are errors) and read-only once validated."""

    # Validators are built when a rules file is first read (at run time), not when a DAG file that
    # imports this module is parsed: the scheduler parses DAG files every few seconds.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ChannelsSection(Section):
    disabled: list[ChannelKey] = []


class GithubSection(Section):
    repos: list[RepoName]
    product_repo: RepoName
    help_wanted_labels: list[Text]
    jira_sync_account: OptionalText


class GitlabSection(Section):
    # Project path → labels an issue must all carry to be watched (empty list: every issue).
    projects: dict[GitlabProjectPath, list[Text]]


class StackOverflowSection(Section):
    # At least one: without a tag the API lists every question of the site (channels.disabled
    # switches the channel off).
    tags: Annotated[list[Text], Field(min_length=1)]
    site: Text


class ForumSection(Section):
    public_url: HttpUrl

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/")


class DigestSection(Section):
    first_response_min_age_days: DayCount
    max_age_days: Days
    release_window_days: DayCount
    mentions: list[HeaderMention]
    hashtags: list[Hashtag]
    title_max_chars: Annotated[int, Field(strict=True, ge=20, le=1000)]
    excerpt_max_chars: Annotated[int, Field(strict=True, ge=20, le=4000)]
    message_max_chars: Annotated[int, Field(strict=True, ge=1000, le=16383)]
    # SPEC §7 "Digests stay readable at any scale": each section shows its first N items (the
    # lists are escalated and oldest first) and ends with "… and M more" linking the full list.
    max_items_per_section: Annotated[int, Field(strict=True, ge=1, le=1000)] = 25
    # [Triage] lists as many per section; its items carry multi-line reply drafts (~400–1,000
    # characters each), so only the first ``triage_drafts_per_section`` of each type are shown whole
    # (draft, missing details, related items), the others as one line: 4 sections and the "Could not
    # read" footer stay within 3 posts.
    triage_max_items_per_section: Annotated[int, Field(strict=True, ge=1, le=1000)] = 25
    triage_drafts_per_section: Annotated[int, Field(strict=True, ge=0, le=1000)] = 8

    @property
    def triage_whole_per_section(self) -> int:
        """How many entries of each [Triage] type are kept whole: those with a draft."""
        return min(self.triage_drafts_per_section, self.triage_max_items_per_section)

    # Where "… and M more" links (e.g. the Community page of SPEC §10), with {kind}, {as_of} and
    # {section}; empty: the text names the full list archived beside the digest instead.
    full_list_url: OptionalHttpUrl = ""

    @field_validator("full_list_url")
    @classmethod
    def _full_list_placeholders(cls, template: str) -> str:
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        except ValueError as exc:
            raise ValueError(f"not a valid URL template: {exc}") from None
        unknown = sorted(fields - {"kind", "as_of", "section", ""})
        if unknown or "" in fields:
            raise ValueError(
                f"only {{kind}}, {{as_of}} and {{section}} may appear in braces, not {unknown or ['{}']}"
            )
        return template


class ReleaseWatchSection(Section):
    enterprise_keywords: list[Text]
    upgrade_keywords: list[Text]


class PostTypesSection(Section):
    """The post-type rules (SPEC §4 "Post type"); ``classify.PostClassifier`` documents how they weigh."""

    # Labels that say the type (the team's, or a type label the author set): they decide. Matched
    # case-insensitively as the whole label, its part before a "/" or ":" ("Bug Report" matches
    # "Bug Report/Fixed"), or one of its "/"/":" segments ("Bug" matches "Type/Bug").
    labels: dict[PostType, list[Text]]
    # Labels an issue form sets by itself (exact, case-insensitive): they only tell which form the
    # author picked, so they weigh as evidence that the post's own text can outweigh.
    form_labels: dict[PostType, list[Text]] = {}
    # Forum categories: they decide, on the forum only.
    categories: dict[PostType, list[Text]]
    # Title markers ("Feature request:", "[Bug]", "Question:"): at the start of the title, or
    # anywhere when bracketed. Strong evidence.
    title_markers: dict[PostType, list[Text]] = {}
    # Title prefixes an issue form pre-fills ("[Bug]: "): weak evidence, like form labels.
    form_title_markers: dict[PostType, list[Text]] = {}
    # Template headings that count for the type only when the author filled them in.
    template_sections: dict[PostType, list[Text]]
    # Template headings whose content is data (versions, OS, logs), never read for phrases.
    metadata_sections: list[Text] = []
    # Text a template puts there (instructions, "_No response_", "N/A"): a line equal to a short
    # entry (up to 12 characters) or starting with a longer one is not the author's text.
    template_placeholders: list[Text] = []
    # Words and phrases per type, matched outside code, logs, quotes and template text. For
    # troubleshooting these are the symptoms of a problem ("can't connect", "not working").
    phrases: dict[PostType, list[Text]]
    # The author asking for help with their own problem ("please help", "what am I doing wrong?"):
    # troubleshooting, and unlike a symptom never a bug report's evidence on a tracker.
    help_phrases: list[Text] = []
    # Wishes for a capability ("ability to", "would be nice"): a feature proposal, also when asked
    # as a question ("is it possible to add").
    wish_phrases: list[Text] = []
    # The author wanting something ("I'd like to", "the ability to"): weighs as a wish, but says as
    # often how to do it as what to add, so a question the post asks still counts.
    want_phrases: list[Text] = []
    # Words that count for nothing, read so that a shorter phrase inside them does not count either
    # ("set the option to false" holds the wish "option to" but wishes for nothing).
    neutral_phrases: list[Text] = []
    # A title that starts with one of these verbs asks for something ("Add …", "Allow …"), also
    # after a component prefix ("Mobile - allow …"): evidence for a feature proposal.
    request_verbs: list[Text] = []
    # The vocabulary of the author's own setup (certificates, proxies, Docker, SMTP, LDAP …):
    # troubleshooting, when the post also describes a problem.
    setup_markers: list[Text] = []
    # Setup markers that only say the author installed the product ("install", "installation"):
    # on a tracker, when they are all the setup a problem report names and the author asks for no
    # help, the report is of the install failing, read as if it named no setup.
    install_markers: list[Text] = []
    # A server older than this ("7.8.1" before "9.5") is not supported: troubleshooting. Empty: off.
    oldest_supported_server: Annotated[str, StringConstraints(strict=True, pattern=r"^(\d+\.\d+)?$")] = ""
    channel_defaults: dict[ChannelKey, PostType]


ActionTable = dict[PostType, Text]


class SuggestedActionsSection(Section):
    default: ActionTable
    github: ActionTable = {}
    gitlab: ActionTable = {}
    forum: ActionTable = {}
    stackoverflow: ActionTable = {}
    uservoice: ActionTable = {}
    jira: ActionTable = {}

    @model_validator(mode="after")
    def _default_covers_every_type(self) -> SuggestedActionsSection:
        missing = [t for t in POST_TYPES if t not in self.default]
        if missing:
            raise ValueError(f"'default' needs an action for every post type; missing {missing}")
        return self

    def for_post(self, channel: str, post_type: str) -> str:
        table: Mapping[str, str] = getattr(self, channel, None) or {}
        return table.get(post_type) or self.default[post_type]  # type: ignore[index]


class ReplyDraftsSection(Section):
    forum_url: OptionalHttpUrl
    feature_idea_url: OptionalHttpUrl
    documentation_url: OptionalHttpUrl
    contributing_url: OptionalHttpUrl
    # Keywords (case-insensitive) → the documentation page a reply links to.
    doc_links: dict[Text, HttpUrl]


class PathsSection(Section):
    intermediate: OptionalText = ""
    # A run's intermediates are removed once none of its files changed for this many days (0: kept).
    intermediate_retention_days: DayCount = 14
    archive: OptionalText = ""
    tracking_sheet: OptionalText = ""
    # Trained models (the triage model's versions, cards and ``latest.json`` pointer).
    models: OptionalText = ""


# The Community page's charts read back to the Monday of the week seven weeks before T's: a
# shorter retention would cut their oldest weeks short.
MIN_STATE_RETENTION_DAYS = 56


class HealthSection(Section):
    # Snapshots of the post state table older than this many days before a run's T are deleted by
    # that run (0: kept). They are derived rows: a backfill at such a T writes them again.
    state_retention_days: DayCount = 400

    @field_validator("state_retention_days")
    @classmethod
    def _covers_the_charts(cls, days: int) -> int:
        if 0 < days < MIN_STATE_RETENTION_DAYS:
            raise ValueError(
                f"must be 0 (keep every snapshot) or at least {MIN_STATE_RETENTION_DAYS}: the Community "
                "page's charts read the snapshots of the last 8 weeks"
            )
        return days


class MattermostSection(Section):
    username: Text
    targets: dict[MessageKind, Text]

    @model_validator(mode="after")
    def _every_kind_has_a_target(self) -> MattermostSection:
        missing = [k for k in MessageKind.__args__ if k not in self.targets]  # type: ignore[attr-defined]
        if missing:
            raise ValueError(f"'targets' needs a connection id for every message kind; missing {missing}")
        return self


class StatusCondition(Section):
    resolution: list[Text] | None = None
    label: list[Text] | None = None
    status_category: list[Text] | None = None
    status: list[Text] | None = None
    resolved: Flag | None = None
    has_fix_version: Flag | None = None

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class StatusRuleEntry(Section):
    when: StatusCondition = StatusCondition()
    status: Text


class UserVoiceSection(Section):
    status_mapping: Annotated[list[StatusRuleEntry], Field(min_length=1)]
    enterprise_categories: list[Text] = []
    enterprise_labels: list[Text] = []
    offer_phrases: list[Text] = []
    apply_status_updates: Flag = False
    status_update_body: OptionalText = ""


class JiraSection(Section):
    jql: Text
    lookback_days: Days
    browse_url: HttpUrl
    read_remote_links: Flag = True


class WeeklySection(Section):
    channels: list[WeeklyChannel]
    stale_after_days: Days
    max_age_days: Days
    aged_out_channels: list[AgedOutChannel] = ["github", "gitlab", "forum", "stackoverflow"]


class CloseoutSection(Section):
    team_message: Text
    enterprise_message: Text
    completed_status: Text
    notify_supporters: Flag = True

    @field_validator("team_message", "enterprise_message")
    @classmethod
    def _placeholders(cls, text: str) -> str:
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as exc:
            raise ValueError(f"not a valid message template: {exc}") from None
        unknown = sorted(fields - {"name", "version", "url"})
        if unknown or "" in fields:
            raise ValueError(
                f"only {{name}}, {{version}} and {{url}} may appear in braces, not {unknown or ['{}']}"
            )
        if not {"name", "version"} <= fields:
            raise ValueError("must contain {name} and {version}")
        return text


class RepliesSection(Section):
    # Upstream replies exist for these channels only (a GitHub comment, a GitLab note).
    post_upstream: dict[Literal["github", "gitlab"], Flag] = {}

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(channel for channel, on in self.post_upstream.items() if on)


class ResponsesSection(Section):
    """What counts as an answer (SPEC §4 "Response" and "Answer state")."""

    # A reply that, with quotes, code and signatures removed, is only these phrases, their words
    # (emoji and punctuation aside) no longer than ``me_too_max_chars``, or emoji and punctuation
    # only (of any length), is a me-too: never an answer.
    me_too_phrases: list[Text]
    me_too_max_chars: Annotated[int, Field(strict=True, ge=0, le=1000)] = 60
    # Words that add nothing to a me-too phrase ("this", "for us", "from our team"): a reply of
    # me-too phrases, these words and @-mentions only is a me-too. These words alone are none.
    me_too_filler_words: list[Text] = []
    # The latest reply asks the author something: a "?" in its own words, or one of these.
    ask_phrases: list[Text] = []
    # The author says it is solved ("that worked", "works now"): their reply closes the loop
    # instead of putting the ball back with the team.
    resolved_phrases: list[Text] = []


class EscalationSection(Section):
    """The [Help Wanted] ladder (SPEC §4 "Days on the list and escalation"), in days on the list."""

    # From this day the item line mentions the developer on rotation (its routed owner: from escalate_day).
    mention_rotation_day: Days = 3
    # From this day the item sits in the Escalated section at the top, which mentions the CM lead.
    escalate_day: Days = 7
    # Marked "last call" this many days before it would age out of the list.
    last_call_days: DayCount = 3

    @model_validator(mode="after")
    def _ladder_goes_up(self) -> EscalationSection:
        if self.escalate_day < self.mention_rotation_day:
            raise ValueError("'escalate_day' must not come before 'mention_rotation_day'")
        return self


class RouteMatch(Section):
    """Any one listed field matching is enough (names case-insensitive)."""

    labels: list[Text] = []
    categories: list[Text] = []
    tags: list[Text] = []
    # Case-insensitive, as whole words, in the title or the first paragraph.
    keywords: list[Text] = []

    @model_validator(mode="after")
    def _matches_something(self) -> RouteMatch:
        if not (self.labels or self.categories or self.tags or self.keywords):
            raise ValueError("a route must match on at least one of labels, categories, tags, keywords")
        return self


class Route(Section):
    match: RouteMatch
    # A Mattermost username or group ("@mobile-team"): it pings, so it is validated as a name.
    owner: Text

    @field_validator("owner")
    @classmethod
    def _owner_is_a_mattermost_name(cls, owner: str) -> str:
        from community_monitoring.roster import RosterError, mattermost_name

        try:
            return mattermost_name(owner, "owner")
        except RosterError as exc:
            raise ValueError(str(exc)) from None


class RelatedSection(Section):
    """Related items across channels (SPEC §4 "Related items")."""

    enabled: Flag = True
    # Cosine similarity of TF-IDF vectors (titles and first paragraphs) at or above which two
    # items are related.
    threshold: Annotated[float, Field(strict=True, gt=0, le=1)] = 0.35
    # Two posts by the same author on two channels this similar are one item ("also posted on").
    duplicate_threshold: Annotated[float, Field(strict=True, gt=0, le=1)] = 0.5
    max_shown: Annotated[int, Field(strict=True, ge=1, le=10)] = 2


class HttpSection(Section):
    """Every upstream call: timeouts, and how hard to try before a channel counts as unreadable."""

    connect_timeout_seconds: Annotated[float, Field(strict=True, gt=0, le=120)] = 10.0
    read_timeout_seconds: Annotated[float, Field(strict=True, gt=0, le=600)] = 60.0
    # The whole answer, once it starts: a read timeout bounds each wait for bytes, so an answer
    # that trickles in would otherwise never time out.
    body_timeout_seconds: Annotated[float, Field(strict=True, gt=0, le=3600)] = 300.0
    # The largest answer read, unpacked: a page of any of these APIs is a few MB at most, and an
    # answer that does not end (a proxy streaming a file, a gzip bomb) would fill memory first.
    max_body_mb: Annotated[int, Field(strict=True, ge=1, le=4096)] = 64
    max_attempts: Annotated[int, Field(strict=True, ge=1, le=20)] = 5
    base_delay_seconds: Annotated[float, Field(strict=True, ge=0, le=60)] = 1.0
    # The longest wait a rate limit may ask for before the call gives up (the task retries later).
    max_wait_seconds: Annotated[float, Field(strict=True, ge=0, le=3600)] = 120.0


Share = Annotated[float, Field(strict=True, ge=0, le=1)]


class TriageModelMinimums(Section):
    """What a trained model's card must show before the daily run may use it (SPEC §12)."""

    # Training examples in all, and of every post type.
    examples: Count = 200
    per_type: Count = 25
    # Cross-validated accuracy, and every type's cross-validated recall.
    cv_accuracy: Share = 0.75
    recall: Share = 0.6


class TriageModelSection(Section):
    """The triage model learned from the team's past decisions; ``history.py`` reads the decisions."""

    enabled: Flag = True
    # How far back the team's decisions are read, in days before T.
    history_days: Annotated[int, Field(strict=True, ge=7, le=3650)] = 365
    # Posts younger than this teach nothing yet: the team may still relabel, move or redirect them.
    settle_days: Annotated[int, Field(strict=True, ge=0, le=90)] = 7
    # Labels the team applies when it triages an issue (GitHub, GitLab) → the type decided.
    labels: dict[PostType, list[Text]] = {}
    # Phrases of a staff reply that redirected the author → the type decided; the first type listed
    # whose phrase a reply contains wins. ``{number}`` stands for digits (``MM-{number}``).
    redirect_phrases: dict[PostType, list[Text]] = {}
    # Stack Overflow questions are questions unless one of their tags is listed here.
    stackoverflow_tags: dict[PostType, list[Text]] = {}
    # The model decides when its probability for the best type is at least this; else the rules.
    threshold: Share = 0.9
    cv_folds: Annotated[int, Field(strict=True, ge=2, le=20)] = 5
    minimums: TriageModelMinimums = TriageModelMinimums()


# The community's name goes into public digests and upstream replies as it is: a plain name, never
# a mention ("Acme @channel" would ping a whole channel) nor Markdown or HTML markup.
_NOT_IN_A_NAME = re.compile(r"[@<>\[\]`|\\*\n\r]")


def _plain_name(value: str) -> str:
    found = _NOT_IN_A_NAME.search(value)
    if found:
        raise ValueError(
            f"must be a plain name: {found.group(0)!r} would "
            + ("mention someone" if found.group(0) == "@" else "be read as markup")
            + " in the digests and the replies"
        )
    return value


CommunityName = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=60), AfterValidator(_plain_name)
]


class Settings(Section):
    """Every setting a run reads, validated once; sections mirror the rules file."""

    community_name: CommunityName
    channels: ChannelsSection = ChannelsSection()
    github: GithubSection
    gitlab: GitlabSection
    stackoverflow: StackOverflowSection
    forum: ForumSection
    digest: DigestSection
    release_watch: ReleaseWatchSection
    post_types: PostTypesSection
    suggested_actions: SuggestedActionsSection
    reply_drafts: ReplyDraftsSection
    paths: PathsSection = PathsSection()
    health: HealthSection = HealthSection()
    mattermost: MattermostSection
    uservoice: UserVoiceSection
    jira: JiraSection
    weekly: WeeklySection
    closeout: CloseoutSection
    responses: ResponsesSection
    escalation: EscalationSection = EscalationSection()
    # First match wins (SPEC §4 "Routing").
    routing: list[Route] = []
    related: RelatedSection = RelatedSection()
    replies: RepliesSection = RepliesSection()
    http: HttpSection = HttpSection()
    triage_model: TriageModelSection = TriageModelSection()

    def is_enabled(self, channel: str) -> bool:
        return channel not in self.channels.disabled


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` merged into ``base`` key by key; a null in ``override`` removes that key, so the
    schema's default applies (a map merged key by key could only grow: a default GitLab project or
    documentation link could not be taken out; a key that must be given is then named as missing)."""
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def describe_errors(error: ValidationError, source: str) -> str:
    """One line per problem: where it came from, the dotted key and what is wrong."""
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        elif "input" in problem and problem["type"] not in ("missing",):
            message += f" (got {problem['input']!r:.60})"
        lines.append(f"{source}: key {key!r}: {message}")
    return "; ".join(lines)


def default_rules() -> tuple[dict[str, Any], str]:
    """The rules file as a mapping, and a name for it in error messages."""
    configured = os.environ.get(CONFIG_ENV)
    if not configured:
        return bundled_rules()
    path = Path(configured)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"rules file {path} (from {CONFIG_ENV}) cannot be read: {exc}") from None
    return _rules_from_text(text, f"rules file {path}")


def bundled_rules() -> tuple[dict[str, Any], str]:
    """The rules file shipped in the package, whatever ``COMMUNITY_MONITORING_CONFIG`` says."""
    from community_monitoring.resources import default_rules_text

    return _rules_from_text(default_rules_text(), "the bundled rules file")


def _rules_from_text(text: str, source: str) -> tuple[dict[str, Any], str]:
    import yaml

    try:
        # libyaml's loader where PyYAML was built with it: the same safe subset, ten times faster
        # (every task of every run reads this file).
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise SettingsError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{source} must hold a mapping at the top level")
    return raw, source


def parse_overrides(value: Any) -> dict[str, Any]:
    """The ``community_settings`` Variable (JSON text or an already decoded object)."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"Variable {SETTINGS_VARIABLE!r} is not valid JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise SettingsError(
            f"Variable {SETTINGS_VARIABLE!r} must be a JSON object, got {type(value).__name__}"
        )
    return dict(value)


def build_settings(
    rules: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    rules_source: str = "the rules file",
) -> Settings:
    """Validate the rules file, then the file with the Variable's overrides merged in."""
    try:
        base = Settings.model_validate(rules)
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc, rules_source)) from None
    if not overrides:
        return base
    try:
        return Settings.model_validate(deep_merge(rules, overrides))
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc, f"Variable {SETTINGS_VARIABLE!r}")) from None


def load_settings(overrides: Any = None) -> Settings:
    """The rules file (bundled or ``COMMUNITY_MONITORING_CONFIG``) with ``overrides`` applied."""
    rules, source = default_rules()
    return build_settings(rules, parse_overrides(overrides), source)
