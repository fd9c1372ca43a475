"""Synthetic scenarios of any size, for the benchmark (``make bench``) and scale tests, and a history.

``write_synthetic_scenario(root, issues=N, ...)`` writes a SPEC §8 folder whose content is
deterministic for a given seed: GitHub issues with comments in two repositories, and forum
topics with posts, spread over the 30 days before ``now``.

``write_history(root)`` adds the team's past decisions the triage model learns from (SPEC §12);
``python -m community_sandbox.synth SCENARIO`` (re)writes them into a scenario folder.
"""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from community_sandbox.history_stories import (
    BUG,
    CHATTER,
    FEATURE,
    FORUM_ANSWERS,
    FORUM_THANKS,
    GITLAB_BOT_NOTE,
    QUESTION,
    REDIRECTS,
    TROUBLESHOOTING,
    UV_COMMENTS,
    Story,
)

NOW = datetime(2026, 11, 18, 9, tzinfo=UTC)
REPOS = ("mattermost/mattermost", "mattermost/mattermost-mobile")
TITLES = (
    "Push notifications stopped after upgrading",
    "How do I configure SAML with Okta?",
    "It would be nice to pin messages per thread",
    "Server crashes when exporting a large channel",
    "Can't connect the desktop app behind a proxy",
    "LDAP sync takes an hour",
)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_synthetic_scenario(
    root: Path,
    *,
    issues: int,
    comments_per_issue: int = 2,
    topics: int = 0,
    posts_per_topic: int = 2,
    now: datetime = NOW,
    seed: int = 7,
) -> dict[str, int]:
    """Write the scenario; returns how many items of each kind it holds."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "scenario.yaml").write_text(yaml.safe_dump({"now": _iso(now)}), encoding="utf-8")
    counts = {"issues": 0, "comments": 0, "topics": 0, "posts": 0}
    comment_id = 1
    for repo_index, repo in enumerate(REPOS):
        repo_issues: list[dict[str, Any]] = []
        repo_comments: list[dict[str, Any]] = []
        share = issues // len(REPOS) + (1 if repo_index < issues % len(REPOS) else 0)
        for number in range(1, share + 1):
            created = now - timedelta(seconds=rng.randint(3600, 29 * 86400))
            repo_issues.append(
                {
                    "id": repo_index * 10_000_000 + number,
                    "number": number,
                    "title": f"{rng.choice(TITLES)} #{number}",
                    "body": "Steps to reproduce: 1. open the app" if number % 3 else "Any idea?",
                    "user": {"login": f"user{rng.randint(1, 5000)}", "id": number, "type": "User"},
                    "labels": [{"id": 1, "name": "Bug"}] if number % 5 == 0 else [],
                    "state": "open",
                    "comments": comments_per_issue,
                    "created_at": _iso(created),
                    "updated_at": _iso(created),
                    "closed_at": None,
                    "author_association": "NONE",
                    "html_url": f"https://github.com/{repo}/issues/{number}",
                    "url": f"https://api.github.com/repos/{repo}/issues/{number}",
                }
            )
            for k in range(comments_per_issue):
                at = created + timedelta(minutes=30 * (k + 1))
                repo_comments.append(
                    {
                        "id": comment_id,
                        "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
                        "user": {"login": f"user{rng.randint(1, 5000)}", "id": 1, "type": "User"},
                        "author_association": "NONE",
                        "body": "Same here",
                        "created_at": _iso(at),
                        "updated_at": _iso(at),
                    }
                )
                comment_id += 1
        folder = root / "github" / repo
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "issues.json").write_text(json.dumps(repo_issues), encoding="utf-8")
        (folder / "comments.json").write_text(json.dumps(repo_comments), encoding="utf-8")
        (folder / "releases.json").write_text("[]", encoding="utf-8")
        counts["issues"] += len(repo_issues)
        counts["comments"] += len(repo_comments)
    topic_list: list[dict[str, Any]] = []
    post_list: list[dict[str, Any]] = []
    for topic_id in range(1, topics + 1):
        created = now - timedelta(seconds=rng.randint(3600, 29 * 86400))
        thread = []
        for number in range(1, posts_per_topic + 1):
            at = created + timedelta(minutes=20 * (number - 1))
            thread.append(
                {
                    "topic_id": topic_id,
                    "post_number": number,
                    "username": f"member{rng.randint(1, 3000)}",
                    "created_at": _iso(at),
                    "raw": "Which version are you on?" if number == 2 else rng.choice(TITLES),
                    "staff": number == 2,
                    "post_type": 1,
                }
            )
        post_list += thread
        last = thread[-1]["created_at"] if thread else _iso(created)
        topic_list.append(
            {
                "id": topic_id,
                "title": f"{rng.choice(TITLES)} ({topic_id})",
                "slug": f"topic-{topic_id}",
                "posts_count": len(thread),
                "highest_post_number": len(thread),
                "created_at": _iso(created),
                "last_posted_at": last,
                "bumped_at": last,
                "pinned": False,
                "closed": False,
                "archived": False,
                "category_id": 1,
            }
        )
    # Discourse post ids grow with time.
    post_list.sort(key=lambda p: p["created_at"])
    for post_id, post in enumerate(post_list, start=1):
        post["id"] = post_id
    forum = root / "discourse"
    forum.mkdir(parents=True, exist_ok=True)
    (forum / "topics.json").write_text(json.dumps(topic_list), encoding="utf-8")
    (forum / "posts.json").write_text(json.dumps(post_list), encoding="utf-8")
    (forum / "categories.json").write_text(
        json.dumps([{"id": 1, "name": "Troubleshooting"}]), encoding="utf-8"
    )
    counts["topics"] = len(topic_list)
    counts["posts"] = len(post_list)
    return counts


# --- a history of the team's decisions (SPEC §12), for the triage model ----------------------------
#
# ``write_history(root, now=...)`` adds to a scenario folder, in the SPEC §8 formats, the closed and
# answered posts the triage model learns from: GitHub and GitLab issues carrying the team's type
# labels or a staff reply that redirected them, forum topics in their categories, UserVoice
# suggestions and Stack Overflow questions. Everything is older than ``min_age_days`` (so the
# daily digests never see it), closed or answered (so the weekly review does not list it), and has
# no Jira link (so the UserVoice review and the closeout ignore it). Ids come from ranges of their
# own, so writing the history again replaces it. GitLab, Stack Overflow and UserVoice items are
# older than 180 days (outside the weekly review's reading window, too).

GITHUB_REPOS_OF_HISTORY = ("mattermost/mattermost", "mattermost/mattermost-mobile")
GITLAB_PROJECT, GITLAB_PROJECT_ID = "gitlab-org/omnibus-gitlab", 20699
# Accounts the hand-written demo already has: the same identity in the history.
GITLAB_KNOWN_USERS = {
    "gitlab-bot": (1786152, "\U0001f916 GitLab Bot \U0001f916"),
    "dstanley-gl": (3102233, "Dana Stanley"),
}
HISTORY_RANGES: dict[str, tuple[int, int]] = {
    "github_issue": (30_000, 34_400),
    "mobile_issue": (8_000, 9_180),
    "github_comment": (2_800_000_000, 2_900_000_000),
    "gitlab_issue": (7_000, 7_700),
    "gitlab_note": (1_800_000_000, 1_900_000_000),
    "topic": (15_400, 22_100),
    "forum_post": (40_000, 70_000),
    "question": (78_000_000, 79_000_000),
    "suggestion": (42_000_000, 43_000_000),
    "uv_user": (250_000_000, 251_000_000),
    "uv_comment": (87_000_000, 88_000_000),
}
FILLS: dict[str, tuple[str, ...]] = {
    "ver": ("10.5.4", "10.8.1", "10.9.2", "10.10.0", "10.11.3", "10.12.1", "11.0.2", "11.0.4"),
    "old": ("5.37.10", "6.3.10", "7.1.4", "7.8.2", "8.1.9", "9.0.3"),
    "app": ("2.24.1", "2.27.0", "2.29.3", "2.31.0", "2.32.1", "2.33.0"),
    "desk": ("5.9.2", "5.10.0", "5.10.1", "5.11.0"),
    "os": ("Ubuntu 22.04", "Ubuntu 24.04", "Debian 12", "RHEL 9", "Rocky Linux 9", "AlmaLinux 9"),
    "mos": ("iOS 18.1", "iOS 17.6", "Android 14", "Android 15 (Pixel 8)", "Android 13 (Galaxy S21)"),
    "browser": ("Chrome 131", "Firefox 133", "Edge 131", "Safari 18"),
}
FIRST = (
    "anna",
    "ben",
    "carla",
    "dmitri",
    "elif",
    "farid",
    "greta",
    "hugo",
    "ines",
    "jonas",
    "kaito",
    "lucia",
    "mateo",
    "nadia",
    "olaf",
    "paula",
    "quentin",
    "rosa",
    "sami",
    "tanja",
    "umar",
    "vera",
    "wim",
    "xenia",
    "yusuf",
    "zoe",
    "arjun",
    "bianca",
    "chen",
    "dario",
)
LAST = (
    "keller",
    "moreau",
    "novak",
    "silva",
    "tan",
    "berg",
    "rossi",
    "kowalski",
    "haddad",
    "lindgren",
    "okafor",
    "meyer",
    "duarte",
    "sato",
    "weber",
    "ivanova",
    "costa",
    "jansen",
    "nguyen",
    "fischer",
)
GITHUB_STAFF = ("amyblais", "jasonblais", "cpoile", "hanzei")
TEAM_LABELS = {
    "github": {
        "bug": ("Bug", "Type/Bug"),
        "troubleshooting": ("Triage/Support", "Support"),
        "feature_proposal": ("Type/Enhancement", "Feature Request"),
        "question": ("Type/Question", "Question"),
    },
    "gitlab": {
        "bug": ("type::bug",),
        "troubleshooting": ("Support Request",),
        "feature_proposal": ("type::feature",),
        "question": ("Question",),
    },
}
NOISE_LABELS = (
    "Area/Notifications",
    "Area/Search",
    "Area/Integrations",
    "Area/Mobile",
    "Needs Investigation",
)
FORUM_CATEGORIES = {"bug": (9,), "troubleshooting": (5, 5, 6), "feature_proposal": (7,), "question": (8, 4)}
SO_TAGS = {  # a word in the story → the Stack Overflow tag a troubleshooting question gets
    "nginx": "nginx",
    "apache": "apache",
    "docker": "docker",
    "compose": "docker-compose",
    "helm": "kubernetes",
    "k3s": "kubernetes",
    "operator": "kubernetes",
    "certificate": "ssl",
    "x509": "ssl",
    "let's encrypt": "ssl",
    "smtp": "smtp",
    "email": "smtp",
    "ldap": "ldap",
    "selinux": "selinux",
    "systemd": "systemd",
}
SO_QUESTION_TAGS = ("rest", "go", "webhooks", "javascript", "python", "mattermost-plugin", "api")
HISTORY_PLAN: dict[str, dict[str, int]] = {
    "github": {"bug": 52, "troubleshooting": 36, "feature_proposal": 34, "question": 20, "undecided": 10},
    "mobile": {"bug": 24, "troubleshooting": 10, "feature_proposal": 10, "question": 5, "undecided": 4},
    "gitlab": {"bug": 8, "troubleshooting": 12, "feature_proposal": 5, "question": 3},
    "forum": {"bug": 20, "troubleshooting": 58, "feature_proposal": 24, "question": 30},
    "stackoverflow": {"troubleshooting": 16, "question": 44},
    "uservoice": {"feature_proposal": 50},
}
WHERE = {
    "github": ("server", "desktop", "any"),
    "mobile": ("mobile",),
    "gitlab": ("omnibus", "server"),
    "forum": ("server", "mobile", "desktop", "omnibus", "any"),
    "stackoverflow": ("server", "any"),
    "uservoice": ("server", "mobile", "desktop", "any"),
}
_REQUEST_VERBS = {
    "mute",
    "archive",
    "export",
    "edit",
    "show",
    "pin",
    "move",
    "let",
    "allow",
    "start",
    "remind",
}


def _iso_ms(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _slug(title: str) -> str:
    words = "".join(c.lower() if c.isalnum() else " " for c in title).split()
    return "-".join(words)[:80] or "topic"


def is_history_id(kind: str, value: Any) -> bool:
    """Whether an id (issue number, topic id, suggestion id ...) is one ``write_history`` hands out."""
    low, high = HISTORY_RANGES[kind]
    return isinstance(value, int) and low <= value < high


class _Ids:
    """Ids handed out in increasing order inside each kind's range (so newer items get higher ids)."""

    def __init__(self) -> None:
        self._next = {kind: low for kind, (low, _) in HISTORY_RANGES.items()}

    def take(self, kind: str, step: int = 1) -> int:
        value = self._next[kind]
        self._next[kind] = value + step
        if value >= HISTORY_RANGES[kind][1]:
            raise ValueError(f"history id range {kind} is exhausted")
        return value


@dataclass
class _Story:
    post_type: str
    where: str
    title: str
    body: str


class _HistoryWriter:
    """Renders the stories into each service's own objects, deterministically for a seed."""

    def __init__(self, now: datetime, seed: int, min_age_days: int) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.min_age_days = min_age_days
        self.ids = _Ids()
        self.out: dict[str, list[dict[str, Any]]] = {}
        self._pools: dict[tuple[str, str], list[Story]] = {}

    # -- material --------------------------------------------------------------------------

    def fill(self, text: str) -> str:
        values = {key: self.rng.choice(options) for key, options in FILLS.items()}
        values.update(n=str(self.rng.randint(2, 9)), ticket=str(self.rng.randint(58000, 62999)))
        return text.format(**values)

    def story(self, post_type: str, channel: str) -> _Story:
        """The next story of a type for a channel; each pool is shuffled once and cycled."""
        key = (post_type, channel)
        if not self._pools.get(key):
            bank = {
                "bug": BUG,
                "troubleshooting": TROUBLESHOOTING,
                "feature_proposal": FEATURE,
                "question": QUESTION,
            }
            pool = [s for s in bank[post_type] if s[0] in WHERE[channel]] or list(bank[post_type])
            self.rng.shuffle(pool)
            self._pools[key] = pool
        where, title, body = self._pools[key].pop()
        return _Story(post_type, where, self.fill(title), self.fill(body))

    def when(self, oldest_days: int, newest_days: int | None = None) -> datetime:
        newest = max(newest_days or self.min_age_days + 10, self.min_age_days + 1)
        seconds = self.rng.randint(newest * 86400, oldest_days * 86400)
        return (self.now - timedelta(seconds=seconds)).replace(microsecond=self.rng.randint(0, 999) * 1000)

    def later(self, start: datetime, low_hours: float, high_hours: float) -> datetime:
        """A moment after ``start``, never younger than the minimum age."""
        moment = start + timedelta(hours=self.rng.uniform(low_hours, high_hours))
        return min(moment, self.now - timedelta(days=self.min_age_days, hours=self.rng.uniform(1, 48)))

    def person(self, style: str) -> str:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        if style == "display":
            return f"{first.title()} {last.title()}"
        patterns = {
            "github": (
                f"{first}-{last}",
                f"{first}{last[:1]}{self.rng.randint(1, 99)}",
                f"{last}{first[:2]}",
            ),
            "forum": (f"{first}.{last}", f"{first}_{last[:1]}", f"{first}{self.rng.randint(70, 99)}"),
        }
        return self.rng.choice(patterns.get(style, patterns["github"]))

    # -- how people write on each channel -----------------------------------------------------

    def title(self, story: _Story, channel: str) -> str:
        title, roll = story.title, self.rng.random()
        if story.post_type == "feature_proposal" and channel in ("github", "mobile", "forum") and roll < 0.25:
            first = title.split()[0].lower()
            lowered = title[:1].lower() + title[1:]
            return f"Is it possible to {lowered}?" if first in _REQUEST_VERBS else f"Could we get: {lowered}?"
        if story.post_type == "feature_proposal" and channel in ("github", "mobile") and roll < 0.4:
            return self.rng.choice(("Feature request: ", "[Feature] ", "Suggestion: ")) + title
        if story.post_type == "question" and channel in ("github", "mobile") and roll < 0.3:
            return "Question: " + title
        if channel == "stackoverflow" and roll < 0.5:
            return "Mattermost: " + title[:1].lower() + title[1:]
        if roll > 0.9:
            return title.lower()
        return title

    def _form(self, fields: list[tuple[str, str]]) -> str:
        checks = (
            "### Before you file a bug report\n\n- [x] I searched the existing issues\n"
            "- [x] I'm on a supported server version\n\n"
        )
        parts = [f"### {heading}\n\n{value.strip() or '_No response_'}" for heading, value in fields]
        return checks + "\n\n".join(parts)

    def github_text(self, story: _Story, mobile: bool) -> tuple[str, str]:
        """Title and body; the bug form pre-fills its ``[Bug]: `` title prefix, mostly kept."""
        body = self.github_body(story, mobile)
        title = self.title(story, "mobile" if mobile else "github")
        if body.startswith("### Before you file") and self.rng.random() < 0.7:
            title = "[Bug]: " + title
        return title, body

    def github_body(self, story: _Story, mobile: bool) -> str:
        """Free text, or the bug form filled in, or the form left empty with prose at the end."""
        env = f"Mobile app {self.fill('{app}')}, {self.fill('{mos}')}" if mobile else self.fill("{ver}")
        system = self.fill("{mos}") if mobile else self.fill("{os}")
        odds = {"bug": (0.4, 0.6), "troubleshooting": (0.45, 0.6), "feature_proposal": (0.15, 0.4)}
        filled, unfilled = odds.get(story.post_type, (0.1, 0.35))
        roll = self.rng.random()
        version = "Mattermost Mobile Version" if mobile else "Mattermost Server Version"
        if roll < filled:
            observed = "See above." if self.rng.random() < 0.5 else ""
            return self._form(
                [
                    (version, env),
                    ("Operating System", system),
                    ("Steps to reproduce", story.body),
                    ("Expected behavior", ""),
                    ("Observed behavior", observed),
                    ("Log Output", "```shell\n\n```"),
                    ("Additional Information", ""),
                ]
            )
        if roll < unfilled:
            return self._form(
                [
                    (version, env),
                    ("Operating System", system),
                    ("Steps to reproduce", ""),
                    ("Expected behavior", ""),
                    ("Observed behavior", ""),
                    ("Log Output", "```shell\n\n```"),
                    ("Additional Information", story.body),
                ]
            )
        tail = self.rng.choice(("", "", f"\n\n{env}, {system}.", f"\n\nVersion: {env}"))
        return story.body + tail

    def forum_body(self, story: _Story) -> str:
        greeting = self.rng.choice(("", "", "Hi all,\n\n", "Hello,\n\n", "Hey everyone,\n\n", "Hi!\n\n"))
        closing = self.rng.choice(
            ("", "", "\n\nThanks in advance!", "\n\nAny help appreciated.", "\n\nCheers")
        )
        env = ""
        if story.post_type in ("bug", "troubleshooting") and self.rng.random() < 0.5:
            install = self.rng.choice(("Docker", "tarball", "Ubuntu package", "Helm chart", "GitLab Omnibus"))
            env = self.fill(
                f"\n\n**Environment**\n- Mattermost {{ver}}\n- {{os}}\n- Installed with: {install}"
            )
        return greeting + story.body + env + closing

    def html(self, text: str) -> str:
        """Markdown-ish text as Stack Exchange's HTML body: paragraphs and code blocks."""
        import html as escape

        blocks = []
        for index, chunk in enumerate(text.split("```")):
            if index % 2:
                blocks.append(f"<pre><code>{escape.escape(chunk.strip())}\n</code></pre>")
            else:
                blocks += [f"<p>{escape.escape(p.strip())}</p>" for p in chunk.split("\n\n") if p.strip()]
        return "\n".join(blocks)

    def short(self, body: str) -> str:
        """The first two sentences: what a UserVoice suggestion says."""
        sentences = body.replace("\n", " ").split(". ")
        return ". ".join(sentences[:2]).strip().rstrip(".") + "."

    # -- GitHub ---------------------------------------------------------------------------------

    def _github_user(self, login: str) -> dict[str, Any]:
        uid = zlib.crc32(login.encode()) % 90_000_000 + 10_000_000
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_kgDO{uid:08d}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "",
            "url": f"https://api.github.com/users/{login}",
            "html_url": f"https://github.com/{login}",
            "type": "User",
            "user_view_type": "public",
            "site_admin": False,
        }

    def _github_comment(
        self, repo: str, number: int, login: str, assoc: str, at: datetime, body: str
    ) -> None:
        cid = self.ids.take("github_comment", self.rng.randint(3, 400))
        api = f"https://api.github.com/repos/{repo}"
        self.out.setdefault(f"github/{repo}/comments.json", []).append(
            {
                "url": f"{api}/issues/comments/{cid}",
                "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{cid}",
                "issue_url": f"{api}/issues/{number}",
                "id": cid,
                "node_id": f"IC_kwDO{cid}",
                "user": self._github_user(login),
                "created_at": _iso(at),
                "updated_at": _iso(at),
                "author_association": assoc,
                "body": self.fill(body),
                "reactions": {"url": f"{api}/issues/comments/{cid}/reactions", "total_count": 0},
                "performed_via_github_app": None,
            }
        )

    def _decision_kind(self, post_type: str) -> str:
        odds = {"bug": (0.6, 0.85), "troubleshooting": (0.25, 0.85), "feature_proposal": (0.5, 0.85)}
        label_below, redirect_below = odds.get(post_type, (0.45, 1.0))
        roll = self.rng.random()
        return "label" if roll < label_below else "redirect" if roll < redirect_below else "both"

    def github_issue(self, repo: str, post_type: str, mobile: bool, created: datetime) -> None:
        decided = post_type != "undecided"
        story = self.story(
            post_type if decided else self.rng.choice(("bug", "question")), "mobile" if mobile else "github"
        )
        number = self.ids.take("mobile_issue" if mobile else "github_issue", self.rng.randint(2, 25))
        author = self.person("github")
        kind = self._decision_kind(post_type) if decided else "none"
        labels = [self.rng.choice(TEAM_LABELS["github"][post_type])] if kind in ("label", "both") else []
        if story.post_type in ("bug", "troubleshooting") and self.rng.random() < 0.3:
            labels.insert(0, "Bug Report/Open")  # the bug form's own label: no decision of the team
        if self.rng.random() < 0.3:
            labels.append(self.rng.choice(NOISE_LABELS))
        last = created
        for _ in range(self.rng.choice((0, 0, 1, 2))):
            last = self.later(last, 2, 72)
            self._github_comment(repo, number, self.person("github"), "NONE", last, self.rng.choice(CHATTER))
        if kind in ("redirect", "both") or (kind == "label" and self.rng.random() < 0.3):
            last = self.later(last, 3, 120)
            text = self.rng.choice(REDIRECTS[post_type]) if kind != "label" else "Thanks for the report!"
            self._github_comment(repo, number, self.rng.choice(GITHUB_STAFF), "MEMBER", last, text)
        closed = self.later(last, 1, 96)
        self.out.setdefault(f"github/{repo}/issues.json", []).append(
            self._github_issue_object(repo, number, story, mobile, author, labels, created, closed)
        )

    def _github_issue_object(
        self,
        repo: str,
        number: int,
        story: _Story,
        mobile: bool,
        author: str,
        labels: list[str],
        created: datetime,
        closed: datetime,
    ) -> dict[str, Any]:
        api = f"https://api.github.com/repos/{repo}"
        title, body = self.github_text(story, mobile)
        comments = sum(
            1
            for c in self.out.get(f"github/{repo}/comments.json", [])
            if c["issue_url"].endswith(f"/{number}")
        )
        return {
            "url": f"{api}/issues/{number}",
            "repository_url": api,
            "labels_url": f"{api}/issues/{number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "events_url": f"{api}/issues/{number}/events",
            "html_url": f"https://github.com/{repo}/issues/{number}",
            "id": 2_000_000_000 + number * 7 + (1 if mobile else 0),
            "node_id": f"I_kwDOhist{number}",
            "number": number,
            "title": title,
            "user": self._github_user(author),
            "labels": [
                {"id": zlib.crc32(name.encode()), "name": name, "color": "ededed", "default": False}
                for name in labels
            ],
            "state": "closed",
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": comments,
            "created_at": _iso(created),
            "updated_at": _iso(closed),
            "closed_at": _iso(closed),
            "author_association": self.rng.choice(("NONE", "NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR")),
            "type": None,
            "active_lock_reason": None,
            "body": body,
            "reactions": {"url": f"{api}/issues/{number}/reactions", "total_count": 0},
            "timeline_url": f"{api}/issues/{number}/timeline",
            "performed_via_github_app": None,
            "state_reason": "completed" if story.post_type == "bug" else "not_planned",
        }

    # -- GitLab ---------------------------------------------------------------------------------

    def _gitlab_user(self, username: str) -> dict[str, Any]:
        uid = zlib.crc32(username.encode()) % 9_000_000 + 1_000_000
        uid, name = GITLAB_KNOWN_USERS.get(username, (uid, username.replace("-", " ").title()))
        return {
            "id": uid,
            "username": username,
            "public_email": None,
            "name": name,
            "state": "active",
            "locked": False,
            "avatar_url": f"https://secure.gravatar.com/avatar/{uid:032x}?s=80&d=identicon",
            "web_url": f"https://gitlab.com/{username}",
        }

    def _gitlab_note(self, iid: int, author: str, at: datetime, body: str, system: bool = False) -> None:
        self.out.setdefault(f"gitlab/{GITLAB_PROJECT}/notes.json", []).append(
            {
                "id": self.ids.take("gitlab_note", self.rng.randint(5, 900)),
                "type": None,
                "body": self.fill(body),
                "author": self._gitlab_user(author),
                "created_at": _iso_ms(at),
                "updated_at": _iso_ms(at),
                "system": system,
                "noteable_id": 150_000_000 + iid,
                "noteable_type": "Issue",
                "project_id": GITLAB_PROJECT_ID,
                "resolvable": False,
                "confidential": False,
                "internal": False,
                "imported": False,
                "imported_from": "none",
                "noteable_iid": iid,
                "commands_changes": {},
            }
        )

    def gitlab_issue(self, post_type: str, created: datetime) -> None:
        story = self.story(post_type, "gitlab")
        iid = self.ids.take("gitlab_issue", self.rng.randint(3, 20))
        kind = self._decision_kind(post_type)
        labels = ["Mattermost"] + ([TEAM_LABELS["gitlab"][post_type][0]] if kind in ("label", "both") else [])
        self._gitlab_note(iid, "gitlab-bot", self.later(created, 0.1, 1), GITLAB_BOT_NOTE)
        last = self.later(created, 2, 48)
        if kind == "label":  # a system note, by whoever applied the label
            applied_by = ("jasonblais", "amyblais")[iid % 2]
            self._gitlab_note(iid, applied_by, last, f'added ~"{labels[-1]}" label', system=True)
        else:
            staff = self.rng.choice(("jasonblais", "amyblais"))
            self._gitlab_note(iid, staff, last, self.rng.choice(REDIRECTS[post_type]))
        closed = self.later(last, 2, 72)
        description = story.body
        if post_type in ("bug", "troubleshooting") and self.rng.random() < 0.5:
            description = f"### Summary\n\n{story.body}\n\n### Steps to reproduce\n\n\n### Relevant logs and/or screenshots\n\n"
        author = self.person("github")
        self.out.setdefault(f"gitlab/{GITLAB_PROJECT}/issues.json", []).append(
            {
                "id": 150_000_000 + iid,
                "iid": iid,
                "project_id": GITLAB_PROJECT_ID,
                "title": self.title(story, "gitlab"),
                "description": description,
                "state": "closed",
                "created_at": _iso_ms(created),
                "updated_at": _iso_ms(closed),
                "closed_at": _iso_ms(closed),
                "closed_by": self._gitlab_user("dstanley-gl"),
                "labels": labels,
                "milestone": None,
                "assignees": [],
                "author": self._gitlab_user(author),
                "type": "ISSUE",
                "assignee": None,
                "user_notes_count": 2,
                "upvotes": self.rng.randint(0, 6),
                "downvotes": 0,
                "confidential": False,
                "issue_type": "issue",
                "web_url": f"https://gitlab.com/{GITLAB_PROJECT}/-/issues/{iid}",
                "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{GITLAB_PROJECT}#{iid}"},
            }
        )

    # -- the forum ------------------------------------------------------------------------------

    def _forum_post(
        self, topic: dict[str, Any], number: int, username: str, at: datetime, raw: str, staff: bool = False
    ) -> dict[str, Any]:
        return {
            "id": 0,  # numbered once every post is known, in time order
            "name": username.replace(".", " ").replace("_", " ").title(),
            "username": username,
            "avatar_template": f"/user_avatar/forum.mattermost.com/{username}/{{size}}/1_2.png",
            "created_at": _iso_ms(at),
            "cooked": self.html(raw),
            "post_number": number,
            "post_type": 1,
            "updated_at": _iso_ms(at),
            "reply_count": 0,
            "reply_to_post_number": None,
            "reads": self.rng.randint(5, 400),
            "topic_id": topic["id"],
            "topic_slug": topic["slug"],
            "display_username": username,
            "raw": raw,
            "moderator": False,
            "admin": staff,
            "staff": staff,
            "user_id": zlib.crc32(username.encode()) % 90_000 + 10_000,
            "hidden": False,
            "trust_level": 3 if staff else self.rng.randint(0, 2),
            "deleted_at": None,
            "accepted_answer": False,
        }

    def forum_topic(self, post_type: str, created: datetime) -> None:
        story = self.story(post_type, "forum")
        topic_id = self.ids.take("topic", self.rng.randint(3, 30))
        title = self.title(story, "forum")
        topic: dict[str, Any] = {"id": topic_id, "slug": _slug(title)}
        author = self.person("forum")
        posts = [self._forum_post(topic, 1, author, created, self.forum_body(story))]
        last = created
        if self.rng.random() < 0.8:
            last = self.later(last, 1, 60)
            staff = self.rng.random() < 0.5
            who = self.rng.choice(("amy.blais", "jason.blais")) if staff else self.person("forum")
            posts.append(
                self._forum_post(
                    topic, 2, who, last, self.fill(self.rng.choice(FORUM_ANSWERS[post_type])), staff
                )
            )
            if self.rng.random() < 0.5:
                last = self.later(last, 1, 30)
                posts.append(self._forum_post(topic, 3, author, last, self.rng.choice(FORUM_THANKS)))
        topic.update(
            title=title,
            fancy_title=title,
            posts_count=len(posts),
            reply_count=len(posts) - 1,
            highest_post_number=len(posts),
            created_at=_iso_ms(created),
            last_posted_at=_iso_ms(last),
            bumped=True,
            bumped_at=_iso_ms(last),
            archetype="regular",
            pinned=False,
            visible=True,
            closed=True,
            archived=False,
            tags=[],
            views=self.rng.randint(20, 900),
            like_count=self.rng.randint(0, 5),
            last_poster_username=posts[-1]["username"],
            category_id=self.rng.choice(FORUM_CATEGORIES[post_type]),
            has_accepted_answer=False,
            can_have_answer=True,
        )
        self.out.setdefault("discourse/topics.json", []).append(topic)
        self.out.setdefault("discourse/posts.json", []).extend(posts)

    def number_forum_posts(self) -> None:
        """Discourse post ids grow with time, below every post of the hand-written scenario."""
        posts = sorted(self.out.get("discourse/posts.json", []), key=lambda p: p["created_at"])
        for post in posts:
            post["id"] = self.ids.take("forum_post", self.rng.randint(2, 40))
        self.out["discourse/posts.json"] = posts

    # -- Stack Overflow -------------------------------------------------------------------------

    def _so_owner(self, name: str) -> dict[str, Any]:
        uid = zlib.crc32(name.encode()) % 20_000_000 + 5_000_000
        return {
            "account_id": uid + 1_000_000,
            "reputation": self.rng.randint(1, 3000),
            "user_id": uid,
            "user_type": "registered",
            "display_name": name,
            "link": f"https://stackoverflow.com/users/{uid}/{name}",
        }

    def so_question(self, post_type: str, created: datetime) -> None:
        story = self.story(post_type, "stackoverflow")
        qid = self.ids.take("question", self.rng.randint(400, 4000))
        text = (story.title + " " + story.body).lower()
        if post_type == "troubleshooting":
            tag = next((tag for word, tag in SO_TAGS.items() if word in text), "installation")
        else:
            tag = self.rng.choice(SO_QUESTION_TAGS)
        answered = self.later(created, 2, 96)
        answer_id = qid + 1
        answerer = "amy-blais" if self.rng.random() < 0.3 else self.person("github")
        title = self.title(story, "stackoverflow")
        self.out.setdefault("stackexchange/answers.json", []).append(
            {
                "owner": self._so_owner(answerer),
                "is_accepted": True,
                "score": self.rng.randint(0, 12),
                "last_activity_date": int(answered.timestamp()),
                "creation_date": int(answered.timestamp()),
                "answer_id": answer_id,
                "question_id": qid,
                "content_license": "CC BY-SA 4.0",
                "body": self.html(self.fill(self.rng.choice(FORUM_ANSWERS[post_type]))),
            }
        )
        self.out.setdefault("stackexchange/questions.json", []).append(
            {
                "tags": ["mattermost", tag],
                "owner": self._so_owner(self.person("forum").replace(".", "-")),
                "is_answered": True,
                "view_count": self.rng.randint(30, 3000),
                "answer_count": 1,
                "accepted_answer_id": answer_id,
                "score": self.rng.randint(0, 15),
                "last_activity_date": int(answered.timestamp()),
                "creation_date": int(created.timestamp()),
                "question_id": qid,
                "content_license": "CC BY-SA 4.0",
                "link": f"https://stackoverflow.com/questions/{qid}/{_slug(title)}",
                "title": title.replace('"', "&quot;").replace("'", "&#39;"),
                "body": self.html(story.body),
            }
        )

    # -- UserVoice ------------------------------------------------------------------------------

    def uv_user(self) -> int:
        name = self.person("display")
        users = self.out.setdefault("uservoice/users.json", [])
        known = {u["name"]: u["id"] for u in users}
        if name in known:
            return int(known[name])
        uid = self.ids.take("uv_user", self.rng.randint(10, 900))
        email = name.lower().replace(" ", ".") + "@example.org"
        users.append({"id": uid, "name": name, "email": email, "created_at": "2023-03-01T00:00:00Z"})
        return uid

    def suggestion(self, created: datetime, statuses: dict[str, int], categories: list[int]) -> None:
        story = self.story("feature_proposal", "uservoice")
        sid = self.ids.take("suggestion", self.rng.randint(500, 9000))
        commented = self.rng.random() < 0.3
        updated = self.later(created, 24, 24 * 60)
        status = self.rng.choice(("Under Review", "Under Review", "Declined", None))
        response = None
        if self.rng.random() < 0.3:
            response = {
                "id": sid + 7,
                "body": "Thanks for the idea! We'll keep it in mind when planning the next releases.",
                "body_mime_type": "text/plain",
                "created_at": _iso(updated),
                "updated_at": _iso(updated),
                "links": {"created_by": 100200301},
            }
        slug = _slug(story.title)[:60]
        self.out.setdefault("uservoice/suggestions.json", []).append(
            {
                "id": sid,
                "title": story.title,
                "body": self.short(story.body),
                "body_mime_type": "text/plain",
                "portal_url": f"https://mattermost.uservoice.com/forums/306457-general/suggestions/{sid}-{slug}",
                "admin_url": f"https://mattermost.uservoice.com/admin/v3/suggestions/{sid}",
                "created_at": _iso(created),
                "updated_at": _iso(updated),
                "approved_at": _iso(created),
                "closed_at": _iso(updated) if status == "Declined" else None,
                "state": "approved",
                "supporters_count": self.rng.randint(1, 80),
                "comments_count": 1 if commented else 0,
                "inappropriate_flags_count": 0,
                "admin_response": response,
                "links": {
                    "forum": 306457,
                    "category": self.rng.choice(categories),
                    "status": statuses.get(status or ""),
                    "created_by": self.uv_user(),
                    "parent_suggestion": None,
                    "labels": [],
                },
            }
        )
        if commented:
            at = self.later(created, 12, 24 * 30)
            self.out.setdefault("uservoice/comments.json", []).append(
                {
                    "id": self.ids.take("uv_comment", self.rng.randint(5, 500)),
                    "body": self.rng.choice(UV_COMMENTS),
                    "body_mime_type": "text/plain",
                    "created_at": _iso(at),
                    "updated_at": _iso(at),
                    "state": "approved",
                    "links": {"suggestion": sid, "created_by": self.uv_user()},
                }
            )


def _strip_history(data: dict[str, list[dict[str, Any]]]) -> None:
    """Drop the items an earlier ``write_history`` added (recognised by their id ranges)."""
    keys = {
        "issues.json": ("number", ("github_issue", "mobile_issue")),
        "comments.json": ("id", ("github_comment", "uv_comment")),
        "notes.json": ("id", ("gitlab_note",)),
        "topics.json": ("id", ("topic",)),
        "posts.json": ("id", ("forum_post",)),
        "questions.json": ("question_id", ("question",)),
        "answers.json": ("answer_id", ("question",)),
        "suggestions.json": ("id", ("suggestion",)),
        "users.json": ("id", ("uv_user",)),
    }
    for name, items in data.items():
        field_name, kinds = keys.get(name.rsplit("/", 1)[-1], ("", ()))
        if name.startswith("gitlab/") and name.endswith("issues.json"):
            field_name, kinds = "iid", ("gitlab_issue",)
        if field_name:
            items[:] = [i for i in items if not any(is_history_id(k, i.get(field_name)) for k in kinds)]


def _spread(rng: random.Random, now: datetime, count: int, oldest: int, newest: int) -> list[datetime]:
    """``count`` creation times between ``oldest`` and ``newest`` days before ``now``, in order."""
    seconds = sorted(rng.randint(newest * 86400, oldest * 86400) for _ in range(count))
    return [now - timedelta(seconds=s) for s in reversed(seconds)]


def _plan(rng: random.Random, channel: str) -> list[str]:
    kinds = [t for t, n in HISTORY_PLAN[channel].items() for _ in range(n)]
    rng.shuffle(kinds)
    return kinds


def _generate(writer: _HistoryWriter, scenario: dict[str, list[dict[str, Any]]]) -> None:
    rng, now = writer.rng, writer.now
    for repo, mobile in ((GITHUB_REPOS_OF_HISTORY[0], False), (GITHUB_REPOS_OF_HISTORY[1], True)):
        kinds = _plan(rng, "mobile" if mobile else "github")
        for kind, created in zip(kinds, _spread(rng, now, len(kinds), 355, 45), strict=True):
            writer.github_issue(repo, kind, mobile, created)
    kinds = _plan(rng, "gitlab")
    for kind, created in zip(kinds, _spread(rng, now, len(kinds), 355, 240), strict=True):
        writer.gitlab_issue(kind, created)
    kinds = _plan(rng, "forum")
    for kind, created in zip(kinds, _spread(rng, now, len(kinds), 355, 45), strict=True):
        writer.forum_topic(kind, created)
    writer.number_forum_posts()
    kinds = _plan(rng, "stackoverflow")
    for kind, created in zip(kinds, _spread(rng, now, len(kinds), 355, 195), strict=True):
        writer.so_question(kind, created)
    statuses = {s["name"]: s["id"] for s in scenario.get("uservoice/statuses.json", [])}
    categories = [c["id"] for c in scenario.get("uservoice/categories.json", [])] or [1]
    for created in _spread(rng, now, HISTORY_PLAN["uservoice"]["feature_proposal"], 355, 195):
        writer.suggestion(created, statuses, categories)


def write_history(
    root: Path, *, now: datetime | None = None, seed: int = 12, min_age_days: int = 31
) -> dict[str, int]:
    """Add (or replace) the history in a scenario folder; returns how many items each file gained.

    ``now`` defaults to the scenario's own ``now``. Existing items are kept as they are.
    """
    if now is None:
        raw = yaml.safe_load((root / "scenario.yaml").read_text(encoding="utf-8")) or {}
        now = datetime.fromisoformat(str(raw["now"]).replace("Z", "+00:00"))
    names = [
        *(f"github/{repo}/{f}" for repo in GITHUB_REPOS_OF_HISTORY for f in ("issues.json", "comments.json")),
        f"gitlab/{GITLAB_PROJECT}/issues.json",
        f"gitlab/{GITLAB_PROJECT}/notes.json",
        "discourse/topics.json",
        "discourse/posts.json",
        "stackexchange/questions.json",
        "stackexchange/answers.json",
        "uservoice/suggestions.json",
        "uservoice/users.json",
        "uservoice/comments.json",
        "uservoice/statuses.json",
        "uservoice/categories.json",
    ]
    scenario = {
        n: json.loads((root / n).read_text(encoding="utf-8")) if (root / n).exists() else [] for n in names
    }
    _strip_history(scenario)
    writer = _HistoryWriter(now, seed, min_age_days)
    _generate(writer, scenario)
    added = {}
    for name, items in writer.out.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        merged = scenario.get(name, []) + items
        path.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        added[name] = len(items)
    return added


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Write the triage model's history into a scenario folder.")
    parser.add_argument("scenario", type=Path, help="the scenario folder (its scenario.yaml gives now)")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    for name, count in write_history(args.scenario, seed=args.seed).items():
        print(f"{name}: {count} history items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
