"""Suggested actions and reply drafts for new posts (SPEC §4, "Suggested action")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from community_monitoring import answers
from community_monitoring.classify import (
    Classification,
    PostClassifier,
    PreparedText,
    names_a_server_version,
)
from community_monitoring.records import DELETED_AUTHORS, Post
from community_monitoring.related import ActionOverride, Related, decide_action, split_own_copies
from community_monitoring.rendering import render_template
from community_monitoring.rules import keyword_pattern
from community_monitoring.safety import safe_name, safe_text, safe_url
from community_monitoring.settings import ResponsesSection, Settings, load_settings
from community_monitoring.uservoice_review import offer_in, offer_pattern, plain_words

# How much of a related ticket's key or version a draft or an action shows.
MAX_SHOWN = 60
# How much of the author's name a draft's greeting shows.
MAX_GREETED = 40

# Read on what the author wrote (PostClassifier.prepare): template placeholders, unfilled sections
# and heading lines are gone, so "Steps to reproduce" left empty or "(what version are you using?)"
# in a placeholder does not count as given. The texts are lower case.
# A version number (also at the end of a sentence: "Server 11.1.0."), not a size ("2.5 GB") nor the
# bare word ("the latest version" gives none). The blanks after "version" are read whole (an atomic
# group): with the ":" left out they and the blanks after it split a long run every way (quadratic;
# "version" and a GitHub body of blanks took minutes), and whole is the only split that can match.
# Nor an IPv4 address ("http://10.0.17.12:3000", "127.0.0.1"): four numbers up to 255 say where the
# server runs, not which release it is ("5.1.0.19938" is one).
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_VERSION = re.compile(
    rf"(?<![\w.])(?!{_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.\d))v?\d+\.\d+(?:\.\d+)*(?!\w|\.\d)"
    r"(?![ \t]*(?:[kmgt]i?b|%|ms|px)\b)|\bversion(?>[ \t]*)[:=]?[ \t]*v?\d"
)
# Logs given, not the verb ("cannot log in", "it logs out every morning", "the log-in screen"), nor
# the setting of how much is logged ("--log-level debug", "the log level"): a reply asking for a
# debug run asks to change a setting, not to share its logs, which a draft still asks for.
_LOGS = re.compile(
    r"\blogs?\b(?![ \t]+(?:in|into|out|on|off)\b|-(?:in|out|on|off)\b|[ \t-]levels?\b)"
    r"|\bstack ?trace\b|\btraceback\b|\berror:|\bpanic:"
)
# Steps under a heading, numbered on their own lines, or run on in one ("Steps: 1. post 2. search").
# "^[^\S\n]*" (a blank other than a line end), not "^\s*", which crossed line ends: each line of a run
# of blank lines was read to its end. A numbered step says something on its line: "1.\n2.\n3." is a
# form's list left as it came. Its words may follow the mark with no blank ("1.open", "1.打开设置"),
# letters of any script; a number ("1.5 GB") or a version series ("1.x clients") does not.
_STEPS = re.compile(
    r"steps to repro|repro steps|\bsteps\s*:|\bto reproduce\s*:"
    r"|^[^\S\n]*(?:1[.)](?:[^\S\n]+\S|[^\W\d_]{2})|-\s*step\s)",
    re.MULTILINE,
)
_STEPS_HEADING = re.compile(r"reproduce|\bsteps\b")

# What each post type needs before anyone can narrow the problem down.
NEEDED_DETAILS: dict[str, tuple[str, ...]] = {
    "bug": ("versions", "logs", "steps"),
    "troubleshooting": ("versions", "logs"),
    "feature_proposal": (),
    "question": (),
}
_DETAIL_PATTERNS: dict[str, re.Pattern[str]] = {"versions": _VERSION, "logs": _LOGS, "steps": _STEPS}


@dataclass(frozen=True)
class Suggestion:
    action: str
    missing_details: tuple[str, ...]
    doc_links: tuple[tuple[str, str], ...]
    draft: str
    # Set where a related item decided the action ("already available in X.Y", "tracked in KEY").
    override: ActionOverride | None = None


_DEFAULT_READER: list[PostClassifier] = []


def _default_reader() -> PostClassifier:
    if not _DEFAULT_READER:
        _DEFAULT_READER.append(PostClassifier.from_settings(load_settings()))
    return _DEFAULT_READER[0]


def given_details(post: Post, reader: PostClassifier | None = None) -> set[str]:
    """Which of versions, logs and steps the author gave, reading only what they filled in."""
    prepared = (reader or _default_reader()).prepare(post.body) if post.body else None
    texts = [post.title.lower()]
    given: set[str] = set()
    if prepared is not None:
        texts.append(prepared.prose)
        for section in prepared.sections:
            if not section.filled:
                continue
            texts.append(section.content)
            if section.written and _STEPS_HEADING.search(section.heading):
                given.add("steps")
        given |= _given_as_pasted(post.body, reader or _default_reader(), prepared)
    text = "\n".join(texts)
    given.update(d for d, pattern in _DETAIL_PATTERNS.items() if d not in given and pattern.search(text))
    return given


# What a reply asking for details names: the words alone ("Please share the version you are on",
# "which release are you on?", "could you list the steps you followed?", "how can we reproduce
# it?"); whether it reproduces somewhere ("are you able to reproduce it on 11.1?") asks for no
# steps. A sentence where the replier tells of their own, not asking ("Same crash here on 10.5, my
# logs show nothing."), asks for nothing; one asking to be sent them ("Send me the logs.") asks. The
# steps count only as "steps" from the reply's first sentence that asks on (its
# list included: "Could you share the following? 1. the exact steps 2. the logs"; "… The exact
# steps would help too."): "as a next step, could you share the logs?", "I followed the same steps.
# Which version are you on?" or "Which version are you on? I followed the same steps." asks for none.
# The logs are named by "logs" ("the logs on the server") or by "log" not as the verb: "could you log
# in again?" and "does the log-in page load?" ask for none.
# A request in Chinese or Japanese names them in its own words ("麻烦提供一下具体日志", "请提供一下复现步骤").
# The commands that print a self-hosted server's logs: omnibus GitLab's ``gitlab-ctl tail`` (how its
# logs page says to read them) and systemd's journal. A reply asking for their output asks for logs.
_LOG_COMMANDS = r"\bgitlab-ctl[ \t]+tail\b|\bjournalctl\b"
_ASKED_PATTERNS: dict[str, re.Pattern[str]] = {
    "versions": re.compile(r"\bversions?\b|版本|バージョン"),
    "logs": re.compile(r"\blogs\b|日志|日誌|ログ|" + _LOG_COMMANDS + "|" + _LOGS.pattern),
}
# The version asked for as a release or build ("Which release are you on?", "What Mattermost build
# are you running?", "the build number"), read only in a sentence that asks: "the fix is in the next
# release" names one, "what happens when you build it" asks of building, and "your build logs",
# "which build step fails?" or "the release notes" ask for something else.
_RELEASE_WORD = (
    r"(?:release|build)\b(?![ \t-]+(?:logs?|notes?|steps?|pipelines?|jobs?|scripts?|process|tools?|"
    r"commands?|output|errors?|files?|folders?|dir\w*|flags?|options?|config\w*|systems?)\b)"
)
_ASKED_RELEASE = re.compile(
    r"\b(?:which|what)(?:[ \t]+(?!(?:i|you|we|they|it|do|does|did|to|can|could|will|would|should|is|are|was)\b)"
    rf"[\w.-]+){{0,2}}[ \t]+{_RELEASE_WORD}"
    rf"|\byour(?:[ \t]+[\w.-]+)?[ \t]+{_RELEASE_WORD}"
    r"|\b(?:release|build)[ \t]+(?:number|no\.|id\b|you\b|you're\b)"
)
# The release a fix is or will be in, asked or told ("Which release fixes this?", "What version will
# this be fixed in?", "In which release was this introduced?", "The fix is included in version 10.6"):
# of the team's releases, not the author's setup, so the sentence asks for no version.
_OF_THE_FIX = re.compile(
    r"\b(?:which|what)[ \t]+(?:[\w.-]+[ \t]+)?(?:versions?|releases?|builds?)[ \t]+"
    r"(?:will|would|should|has|had|(?:is|was|did)[ \t]+(?:this|it|that|the)|fix\w*|includ\w*|contain\w*|"
    r"introduc\w*|ship\w*|land\w*|bring\w*|get\w*)\b"
    r"|\b(?:fixed|shipped|landed|included|introduced|released|available)[ \t]+(?:in|with|since)[ \t]+"
    r"(?:the[ \t]+)?(?:next[ \t]+|upcoming[ \t]+|latest[ \t]+)?(?:versions?|releases?|builds?)\b"
)
# The steps in Chinese and Japanese: "步骤" (steps), "手順" (procedure), "如何复现" (how to reproduce);
# not "复现"/"再現" alone ("こちらでは再現しません", it does not reproduce here).
_ASKED_STEPS = re.compile(
    r"\bsteps\b|\bhow\b[^.?!\n]{0,40}\breproduc|步骤|步驟|手順|如何复现|如何復現|怎么复现|怎麼復現|"
    + _STEPS.pattern,
    re.MULTILINE,
)
# A sentence ends at ".", "?" or "!" before a blank, or at the full-width marks Chinese and Japanese
# write with no blank after them ("。", "？", "！").
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+|(?<=[\u3002\uff1f\uff01\uff61])\s*|\n")
_OF_THEMSELF = re.compile(r"\b(?:i|my|me)\b")
# A version number a reply names is the replier's own ("Same crash here on 10.5.", "same for me on
# 10.5, could you share the steps?") or one they tell of ("This was fixed in 10.6."): it asks for the
# author's only in a sentence that asks and tells of none of the replier's own ("Are you on 10.5?").
_OWN_SIDE = re.compile(r"\b(?:i|my|mine|me|our|ours|here)\b")
# Nor is a version a question points the author to ("Could you try upgrading to 10.6?", "Could you
# try 10.6 and see if it helps?", "Can you reproduce it in 11.1?", "Could you check in 11.1?", "Does
# it still happen in 11.1?", "fixed in 10.6, can you check?"): the words just before it say so. "in"
# alone does not: "Are you seeing this in 10.5?" asks which one the author runs; "still" before it
# ("does it still happen in", not "are you still on") does.
_POINTED_TO = re.compile(
    r"(?:\b(?:upgrad\w*|updat\w*|mov\w*|go|going|switch\w*|try|trying|test|testing|retest\w*|reproduc\w*|"
    r"check|checking|verify|verifying|fixed|available|released|shipped|landed|introduced|added|since|until|"
    r"before|after)"
    r"(?:[ \t]+(?:it|this|that|again|out))*(?:[ \t]+(?:to|in|on|with))?"
    r"|\bstill(?:[ \t]+[\w'-]+){1,4}?[ \t]+(?:in|on|with))"
    r"(?:[ \t]+(?:the|mattermost|server|version|release|v))*[ \t]*$"
)
# "me" as whom the author is to tell or send something ("Send me the logs.", "let me know which"):
# not the replier telling of their own ("it showed me nothing", "same for me").
_ME_TO_SEND_TO = re.compile(answers.SENT_TO_REPLIER.pattern + r"|\blet[ \t]+me[ \t]+know\b")


def _tells_of_their_own(sentence: str) -> bool:
    """The sentence (lower case) tells of the replier's side; "me" as whom to send to does not."""
    return _OWN_SIDE.search(_ME_TO_SEND_TO.sub(" ", sentence) if "me" in sentence else sentence) is not None


def _asks_for_a_version_named(lowered: str, start: int, end: int) -> bool:
    """A version number in the sentence ``lowered[start:end]`` (that asks) asks for the author's: it
    tells of none of the replier's own, and one number is no version the author is pointed to."""
    if _tells_of_their_own(lowered[start:end]):
        return False
    return any(
        _POINTED_TO.search(lowered, max(start, found.start() - 60), found.start()) is None
        for found in _VERSION.finditer(lowered, start, end)
    )


def _details_in(text: str) -> set[str]:
    """The details a reply gives (the author's)."""
    lowered = text.lower()
    return {d for d, pattern in _DETAIL_PATTERNS.items() if pattern.search(lowered)}


def _asked_in(text: str, responses: ResponsesSection) -> set[str]:
    """The details a reply that asks the author something names (someone else's), read sentence by
    sentence: none where the replier tells of their own, the steps only from its first ask on."""
    lowered = text.lower()
    asked: set[str] = set()
    start, asked_yet = 0, False
    for end in [*(m.start() for m in _SENTENCE_END.finditer(lowered)), len(lowered)]:
        sentence = lowered[start:end]
        asks = answers.asks_the_author(sentence, responses)
        asked_yet = asked_yet or asks
        if asks or not _OF_THEMSELF.search(sentence):
            of_the_fix = _OF_THE_FIX.search(sentence) is not None
            asked.update(
                d
                for d, pattern in _ASKED_PATTERNS.items()
                if not (of_the_fix and d == "versions") and pattern.search(lowered, start, end)
            )
            if (
                asks
                and not of_the_fix
                and (
                    _ASKED_RELEASE.search(lowered, start, end)
                    or _asks_for_a_version_named(lowered, start, end)
                )
            ):
                asked.add("versions")
            if asked_yet and _ASKED_STEPS.search(lowered, start, end):
                asked.add("steps")
        start = end
    return asked


def _given_as_pasted(
    text: str, reader: PostClassifier, prepared: PreparedText | None = None, *, quotes_count: bool = True
) -> set[str]:
    """What pasted text gives, in the post and in a reply alike: logs as code or log lines outside
    quotes; the server version as the About box or `mattermost version` shows it, code included,
    and quoted too unless ``quotes_count`` is False (a reply: what it quotes is someone else's)."""
    prepared = prepared if prepared is not None else reader.prepare(text)
    given = {"logs"} if prepared.has_code or prepared.has_log else set()
    if names_a_server_version(text if quotes_count else answers.without_quotes(text)):
        given.add("versions")
    return given


def settled_in_thread(
    post: Post,
    responses: ResponsesSection,
    as_of: datetime | None = None,
    reader: PostClassifier | None = None,
) -> set[str]:
    """Details the thread already settled by T: the author gave them in a reply (logs also as
    code or log lines, as in the post), or someone else already asked for them (a reply naming
    the detail and asking). A draft never asks for these."""
    settled: set[str] = set()
    for reply in post.replies:
        if as_of is not None and reply.created_at > as_of:
            continue
        if answers.is_by_author(post, reply):
            settled |= _details_in(answers.own_words(reply.body))
            settled |= _given_as_pasted(reply.body, reader or _default_reader(), quotes_count=False)
        elif answers.asks_the_author(reply.body, responses):
            settled |= _asked_in(answers.own_words(reply.body), responses)
    return settled


def missing_details(
    post: Post,
    post_type: str,
    reader: PostClassifier | None = None,
    as_of: datetime | None = None,
    responses: ResponsesSection | None = None,
) -> tuple[str, ...]:
    """What the post type needs that nobody has given or asked for yet (an unfilled template gives
    nothing); ``as_of``: replies after T do not exist yet; ``responses``: the ask phrases."""
    needed = NEEDED_DETAILS.get(post_type, ())
    if not needed:
        return ()
    thread = settled_in_thread(post, responses or load_settings().responses, as_of, reader)
    known = given_details(post, reader) | thread
    return tuple(d for d in needed if d not in known)


def offered_to_contribute(post: Post, offer: re.Pattern[str] | None, as_of: datetime | None = None) -> bool:
    """Whether the author already offered to build it ("happy to submit a PR": the rules file's
    offer phrases) in their own words, in the post or a reply of theirs by T. Their draft then does
    not ask whether they would like to contribute: SPEC §4, drafts never re-ask what the author gave.
    A quoted offer is someone else's; an offer made after T does not exist yet."""
    if offer is None:
        return False
    texts = [post.body]
    texts += [
        r.body
        for r in post.replies
        if (as_of is None or r.created_at <= as_of) and answers.is_by_author(post, r)
    ]
    return any(text and offer_in(plain_words(answers.own_words(text)), offer) for text in texts)


def _words(text: str) -> str:
    """A keyword or the text it matched, case-folded, its words one space apart."""
    return " ".join(text.casefold().split())


def greeted_name(author: str) -> str:
    """Whom a reply draft greets: the author's name made safe to show ("Hi there," for a name that
    shows nothing, and for a deleted account: "Hi ghost," greets nobody). The one greeting of every
    draft, the one [Triage] shows and the one that goes upstream alike."""
    if author.strip().casefold() in DELETED_AUTHORS:
        return "there"
    return safe_name(author, MAX_GREETED, unnamed="there")


class DraftWriter:
    """Builds each new post's suggested action and reply draft from the rules file and templates."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        doc_links = settings.reply_drafts.doc_links
        self._doc_pattern = keyword_pattern(doc_links)
        # By a keyword's words: a match may break a phrase over a line ("high\navailability").
        self._doc_urls = {_words(k): v for k, v in doc_links.items()}
        self._reader = PostClassifier.from_settings(settings)
        self._offer = offer_pattern(settings.uservoice.offer_phrases)

    def related_docs(self, post: Post) -> tuple[tuple[str, str], ...]:
        if self._doc_pattern is None:
            return ()
        found: dict[str, tuple[str, str]] = {}
        for match in self._doc_pattern.finditer(f"{post.title}\n{post.body}"):
            url = self._doc_urls[_words(match.group(0))]
            found.setdefault(url, (" ".join(match.group(0).split()), url))
        return tuple(found.values())[:3]

    def suggest(
        self,
        post: Post,
        classification: Classification,
        related: Sequence[Related] = (),
        as_of: datetime | None = None,
        also_posted: Sequence[Post] = (),
    ) -> Suggestion:
        """The action and draft for a post; ``related``: its related items, best first (related.py);
        ``as_of``: the thread as it stood at T decides what is still missing; ``also_posted``: the
        author's own copies on other channels folded into it (``related.fold_duplicates``)."""
        post_type = classification.post_type
        # The author's own earlier copy on another channel is not a related item (related.split_own_copies):
        # like a folded copy, it is where they posted it already.
        related, earlier_copies = split_own_copies(related)
        copies = (*also_posted, *earlier_copies)
        missing = missing_details(post, post_type, self._reader, as_of, self._settings.responses)
        docs = self.related_docs(post)
        override = decide_action(post_type, related)
        # The ticket's key, URL and version are upstream text, shown in the action and the draft.
        shown = _shown(override)
        drafts = self._settings.reply_drafts
        draft = render_template(
            "reply_draft.md.j2",
            {
                "post_type": post_type,
                "channel": post.channel,
                "author": greeted_name(post.author),
                "missing": missing,
                "docs": docs,
                **_related_links(related, shown),
                **_own_copy_links(copies),
                "feature_idea_url": drafts.feature_idea_url,
                "forum_url": drafts.forum_url,
                "documentation_url": drafts.documentation_url,
                "contributing_url": drafts.contributing_url,
                # A feature that is built already (shipped or coming) has nothing left to contribute;
                # an author who offered to build it is not asked again.
                "ask_to_contribute": post_type in ("bug", "feature_proposal")
                and not _built(override)
                and not offered_to_contribute(post, self._offer, as_of),
                "community": self._settings.community_name,
            },
        ).strip()
        default_action = self._settings.suggested_actions.for_post(post.channel, post_type)
        return Suggestion(
            action=shown.action if shown is not None else default_action,
            missing_details=missing,
            doc_links=docs,
            draft=draft,
            override=override,
        )


def _available(override: ActionOverride | None) -> bool:
    return override is not None and override.kind == "already_available"


def _built(override: ActionOverride | None) -> bool:
    return override is not None and override.kind in ("already_available", "coming")


def _shown(override: ActionOverride | None) -> ActionOverride | None:
    """``override`` with its upstream parts as a message may show them (no mention, no markup)."""
    if override is None:
        return None
    return replace(
        override,
        ticket_key=safe_text(override.ticket_key, MAX_SHOWN),
        ticket_url=safe_url(override.ticket_url),
        version=safe_text(override.version, MAX_SHOWN),
    )


def _own_copy_links(copies: Sequence[Post]) -> dict[str, str]:
    """Where the author posted it already: their own suggestion on the feature-idea forum and their
    own forum topic (the first of each), which the draft thanks them for instead of asking for."""
    return {
        f"own_{kind}_url": next((safe_url(p.url) for p in copies if p.channel == channel), "")
        for kind, channel in (("idea", "uservoice"), ("topic", "forum"))
    }


def _related_links(related: Sequence[Related], override: ActionOverride | None) -> dict[str, str]:
    """The draft's ticket and feature-idea links, from the best related ticket and suggestion.

    The ticket that decided the action is the one linked, even when a closer ticket decided nothing.
    Otherwise only an open ticket is: "we track this in" a ticket declined or already fixed would
    mislead the author.
    """
    best_ticket = next((safe_url(r.url) for r in related if r.kind == "jira" and r.is_open), "")
    return {
        "jira_url": override.ticket_url if override is not None else best_ticket,
        "available_in": override.version if _available(override) else "",
        "coming_in": override.version if override is not None and override.kind == "coming" else "",
        "existing_idea_url": next((safe_url(r.url) for r in related if r.kind == "uservoice"), ""),
    }
