"""The reply draft's "what is missing" list reads only what the author filled in (SPEC §4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from test_classify import bug_form, legacy_template

from builders import SETTINGS, T, ago, post, reply
from community_monitoring.classify import Classification
from community_monitoring.drafts import DraftWriter, missing_details, offered_to_contribute
from community_monitoring.records import Post
from community_monitoring.related import Related, decide_action
from community_monitoring.uservoice_review import offer_pattern

WRITER = DraftWriter(SETTINGS)


@pytest.mark.parametrize(
    ("case", "body", "missing"),
    [
        # Headings alone give nothing: not "Steps to reproduce", nor "Server Version", nor the
        # "(what version are you using?)" of a placeholder, nor an empty Log Output block.
        ("unfilled markdown template", legacy_template(), ("versions", "logs", "steps")),
        ("unfilled bug form", bug_form(), ("versions", "logs", "steps")),
        (
            "steps and version filled, log block left empty",
            bug_form(
                "10.5.2", "Ubuntu", "1. open a thread\n2. edit the root post", "count stays", "count is 0"
            ),
            ("logs",),
        ),
        (
            "steps written under the heading, version in the environment list",
            legacy_template(steps="Open any channel and pin a post.").replace(
                "- Mattermost Server Version:", "- Mattermost Server Version: 10.4.2"
            ),
            ("logs",),
        ),
        (
            "a log pasted in the text",
            "Server 10.5.2, every time:\n1. open\n2. click\n\n"
            '{"level":"error","msg":"Unable to get the user","caller":"app/user.go:12"}',
            (),
        ),
        ("plain text with nothing", "It crashes.", ("versions", "logs", "steps")),
        # The form's numbered list left as it came ("1. 2. 3.") gives no steps (classify reads it so too).
        (
            "steps left as the template's numbered list",
            bug_form("10.5.2", "Ubuntu", "1.\n2.\n3.", "count stays", "count is 0"),
            ("logs", "steps"),
        ),
        ("an empty numbered list in the text", "It crashes.\n\n1.\n2.\n3.", ("versions", "logs", "steps")),
        # Steps numbered without a blank after the mark say something all the same, in any script.
        ("steps numbered '1.open'", "It crashes.\n\n1.open a channel\n2.pin a post", ("versions", "logs")),
        ("steps numbered '1)open'", "It crashes.\n\n1)open a channel\n2)pin a post", ("versions", "logs")),
        ("steps in Chinese", "它崩溃了。\n\n1. 打开设置\n2. 点击保存", ("versions", "logs")),
        ("steps in Chinese, no blank", "它崩溃了。\n\n1.打开设置\n2.点击保存", ("versions", "logs")),
        (
            "a version at a line's start is no step",
            "It crashes.\n\n1.5 GB uploads fail\n1.x clients too",
            ("versions", "logs", "steps"),
        ),
        # Markdown's indented code block is pasted code (given logs); a line indented under a list
        # item continues the item's text.
        (
            "output pasted as an indented code block",
            "It crashes on upload:\n\n    upload failed: request entity too large",
            ("versions", "steps"),
        ),
        (
            "output pasted as indented code right under a heading",
            "It crashes on upload.\n\n### What I see\n    upload failed: request entity too large",
            ("versions", "steps"),
        ),
        (
            "a line indented under a numbered step is the step's text",
            "It crashes on upload.\n\n1. Open a channel\n\n    Then drag a 2 GB file in\n2. Wait",
            ("versions", "logs"),
        ),
        # A version at the end of a sentence is given; a size, the bare word and the verb "log in" are not.
        (
            "a version that ends its sentence",
            "Server 11.1.0. Search in Japanese finds nothing.",
            ("logs", "steps"),
        ),
        (
            "the server version pasted in a code block",
            "It crashes on upload.\n\n```\nMattermost Version: 10.5.2\nDatabase: postgres 15\n```",
            ("steps",),
        ),
        (
            "another server's version in a code block is not the server's",
            "It crashes on upload.\n\n```\nnginx webserver 1.24\n```",
            ("versions", "steps"),
        ),
        (
            "an address in a code block is no version",
            "It crashes on upload.\n\n```\ndial tcp 10.0.0.5:5432: connection refused\n```",
            ("versions", "steps"),
        ),
        (
            "the log-in screen and a log-out are no logs",
            "Stuck on the log-in screen; after a log-out it never loads.",
            ("versions", "logs", "steps"),
        ),
        ("a log-file is a log", "Server 11.1.0, the log-file from the crash is attached.", ("steps",)),
        ("a log level set is no log", "Server 11.1.0, with the log level set to debug.", ("logs", "steps")),
        # An IPv4 address is where the server runs, not which release: four numbers up to 255.
        (
            "an address in the text is no version",
            "The web app at http://192.168.1.20:8065 shows a blank page since the move to 127.0.0.1.",
            ("versions", "logs", "steps"),
        ),
        (
            "a four-part app version is a version",
            "Desktop App 5.1.0.19938 crashes at launch.",
            ("logs", "steps"),
        ),
        (
            "a version only in the template's hidden comment is not given",
            "It crashes on upload.\n\n<!-- Mattermost Server Version: e.g. 10.5.2 -->",
            ("versions", "logs", "steps"),
        ),
        (
            "a size, the latest version and logging in",
            "Cannot log in after upgrading to the latest version. It logs out when I attach a 2.5 GB file.",
            ("versions", "logs", "steps"),
        ),
    ],
)
def test_missing_details_reads_only_filled_sections(case: str, body: str, missing: tuple[str, ...]) -> None:
    assert missing_details(post(title="Reply counter is wrong", body=body), "bug") == missing, case


def test_types_that_need_nothing_miss_nothing() -> None:
    assert missing_details(post(body=legacy_template()), "feature_proposal") == ()


def test_the_draft_asks_for_what_an_unfilled_template_left_out() -> None:
    item = post(title="Thread counter", body=bug_form("10.6.0", "macOS", "1. reply\n2. edit the root"))
    suggestion = WRITER.suggest(item, Classification("bug", 'filled section "Steps to reproduce"'))
    assert suggestion.missing_details == ("logs",)
    unfilled = WRITER.suggest(post(title="Thread counter", body=bug_form()), Classification("bug", "x"))
    assert unfilled.missing_details == ("versions", "logs", "steps")


SHIPPED = Related(
    "jira",
    "MM-61501",
    "https://jira.test/browse/MM-61501",
    "Schedule messages",
    0.6,
    "Done · fixed in 11.1",
    False,
    "11.1",
)
TRACKED = Related(
    "jira",
    "MM-61500",
    "https://jira.test/browse/MM-61500",
    "Push",
    0.6,
    "In Progress · fixVersion 11.3",
    True,
)
IDEA = Related(
    "uservoice",
    "suggestion 43871022",
    "https://mm.uservoice.test/suggestions/43871022",
    "Idea",
    0.5,
    "Open",
    True,
)
ISSUE = Related("github", "o/r#7", "https://example.test/github/7", "Issue", 0.5, "open", True)
DECLINED = Related(
    "jira", "MM-61502", "https://jira.test/browse/MM-61502", "Ticket", 0.5, "Closed · Won't Do", False
)
# Built and resolved by T, its fixVersion 11.3 not released by T.
COMING = Related(
    "jira",
    "MM-61503",
    "https://jira.test/browse/MM-61503",
    "Ticket",
    0.5,
    "Done · fixVersion v11.3, not released yet",
    False,
    None,
    "11.3",
)
FEATURE_FORUM = SETTINGS.reply_drafts.feature_idea_url
CONTRIBUTE = SETTINGS.reply_drafts.contributing_url


@pytest.mark.parametrize(
    ("case", "post_type", "related", "action", "says", "never_says"),
    [
        (
            "a feature that shipped in a released version",
            "feature_proposal",
            (SHIPPED,),
            "Already available in 11.1 (MM-61501): reply with the release and its documentation",
            ("already available in Mattermost 11.1 (https://jira.test/browse/MM-61501)",),
            (FEATURE_FORUM, CONTRIBUTE, "We track this in"),
        ),
        (
            # Asking the author to post the idea on the feature-idea forum when it is built already
            # would send them the wrong way: the draft says which release brings it.
            "a feature built and waiting for its release",
            "feature_proposal",
            (COMING,),
            "Coming in 11.3 (MM-61503): reply that the next release brings it",
            ("already been built and is planned for Mattermost 11.3 (https://jira.test/browse/MM-61503)",),
            (FEATURE_FORUM, CONTRIBUTE, "We track this in", "already available"),
        ),
        (
            "a bug with an open ticket",
            "bug",
            (TRACKED,),
            "Tracked in MM-61500: link the ticket in a reply",
            ("We track this in https://jira.test/browse/MM-61500.", CONTRIBUTE),
            ("we'll create a ticket",),
        ),
        (
            "a feature with a matching idea on the feature-idea forum",
            "feature_proposal",
            (ISSUE, IDEA),
            SETTINGS.suggested_actions.for_post("github", "feature_proposal"),
            ("already on the feature-idea forum, where others vote for it: " + IDEA.url, CONTRIBUTE),
            (FEATURE_FORUM, "We track this in"),
        ),
        (
            "a feature with an open ticket: linked, the action unchanged",
            "feature_proposal",
            (TRACKED,),
            SETTINGS.suggested_actions.for_post("github", "feature_proposal"),
            ("We track this in https://jira.test/browse/MM-61500.", FEATURE_FORUM),
            ("already available",),
        ),
        (
            # "We track this in" a ticket already fixed would mislead: only an open ticket is tracking.
            "a bug whose only ticket shipped: not said to be tracked there, the action unchanged",
            "bug",
            (SHIPPED,),
            SETTINGS.suggested_actions.for_post("github", "bug"),
            ("we'll create a ticket",),
            ("already available", "We track this in"),
        ),
        (
            "a bug whose only ticket was declined: not said to be tracked there",
            "bug",
            (DECLINED,),
            SETTINGS.suggested_actions.for_post("github", "bug"),
            ("we'll create a ticket",),
            ("We track this in",),
        ),
    ],
)
def test_related_items_fill_the_links_and_decide_the_action(
    case: str,
    post_type: str,
    related: tuple[Related, ...],
    action: str,
    says: tuple[str, ...],
    never_says: tuple[str, ...],
) -> None:
    suggestion = WRITER.suggest(post(title="Schedule a message"), Classification(post_type, "x"), related)
    assert suggestion.action == action, case
    assert suggestion.override == decide_action(post_type, related), case
    for text in says:
        assert text in suggestion.draft, (case, text)
    for text in never_says:
        assert text not in suggestion.draft, (case, text)


def test_the_authors_own_earlier_idea_is_not_the_idea_others_vote_for() -> None:
    """The author posted the idea on UserVoice two days ago and now on GitHub: their own copy is
    "also posted on" in [Triage] (related.split_own_copies), not someone else's idea to vote for."""
    item = post(title="Schedule a message")
    decided = Classification("feature_proposal", "x")
    own = replace(IDEA, post=post(channel="uservoice", created=ago(days=2)), own_copy=True)
    assert "vote for it: " + IDEA.url not in WRITER.suggest(item, decided, (own,)).draft
    assert "already on the feature-idea forum, where others vote for it: " + IDEA.url in (
        WRITER.suggest(item, decided, (IDEA,)).draft
    )


OWN_IDEA = post(channel="uservoice", number=43871022, url=IDEA.url, created=ago(days=2))
OWN_TOPIC = post(channel="forum", number=3501, url="https://forum.test/t/3501", created=ago(days=2))
THANKS_FOR_THE_IDEA = (
    "Thanks for also posting this idea on the feature-idea forum, where others can vote for it: "
)
THANKS_FOR_THE_TOPIC = "Thanks for also posting this on the Mattermost forum: https://forum.test/t/3501."
ASKS_FOR_THE_IDEA = ("Could you post your idea there", "Could you also post this on the feature-idea forum")
ASKS_FOR_THE_TOPIC = "Could you post your question there?"


def _own(copy: Post) -> Related:
    """``copy`` as find_related marks the author's earlier copy among the related items."""
    kind = "uservoice" if copy.channel == "uservoice" else "forum"
    return Related(kind, "own", copy.url, copy.title, 0.9, "open", True, post=copy, own_copy=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "channel", "post_type", "related", "also_posted", "says", "never_says"),
    [
        (
            "a GitHub idea the author posted on UserVoice on an earlier day",
            "github",
            "feature_proposal",
            (_own(OWN_IDEA),),
            (),
            (THANKS_FOR_THE_IDEA + IDEA.url, CONTRIBUTE),
            (*ASKS_FOR_THE_IDEA, FEATURE_FORUM, "already on the feature-idea forum"),
        ),
        (
            "a GitLab idea the author posted on UserVoice the same day (folded)",
            "gitlab",
            "feature_proposal",
            (),
            (OWN_IDEA,),
            (THANKS_FOR_THE_IDEA + IDEA.url,),
            (*ASKS_FOR_THE_IDEA, FEATURE_FORUM),
        ),
        (
            "a forum idea the author posted on UserVoice",
            "forum",
            "feature_proposal",
            (_own(OWN_IDEA),),
            (),
            (THANKS_FOR_THE_IDEA + IDEA.url,),
            (*ASKS_FOR_THE_IDEA, FEATURE_FORUM),
        ),
        (
            "their own idea is thanked for, someone else's matching one is not sent to them as well",
            "github",
            "feature_proposal",
            (IDEA, _own(replace(OWN_IDEA, url="https://mm.uservoice.test/suggestions/1"))),
            (),
            (THANKS_FOR_THE_IDEA + "https://mm.uservoice.test/suggestions/1",),
            (*ASKS_FOR_THE_IDEA, "vote for it: " + IDEA.url),
        ),
        (
            "a built feature says so first, whatever the copies",
            "github",
            "feature_proposal",
            (SHIPPED, _own(OWN_IDEA)),
            (),
            ("already available in Mattermost 11.1",),
            (*ASKS_FOR_THE_IDEA, THANKS_FOR_THE_IDEA),
        ),
        (
            "a copy on the forum is not on the feature-idea forum: still asked",
            "github",
            "feature_proposal",
            (_own(OWN_TOPIC),),
            (),
            (ASKS_FOR_THE_IDEA[0],),
            (THANKS_FOR_THE_IDEA, "Thanks for also posting"),
        ),
        (
            "GitHub troubleshooting the author posted on the forum on an earlier day",
            "github",
            "troubleshooting",
            (_own(OWN_TOPIC),),
            (),
            (THANKS_FOR_THE_TOPIC,),
            (ASKS_FOR_THE_TOPIC,),
        ),
        (
            "GitLab troubleshooting the author posted on the forum the same day (folded)",
            "gitlab",
            "troubleshooting",
            (),
            (OWN_TOPIC,),
            (THANKS_FOR_THE_TOPIC,),
            (ASKS_FOR_THE_TOPIC,),
        ),
        (
            "a copy on UserVoice is no forum topic: still asked to post on the forum",
            "github",
            "troubleshooting",
            (_own(OWN_IDEA),),
            (),
            (ASKS_FOR_THE_TOPIC,),
            ("Thanks for also posting",),
        ),
        (
            "no copy: asked as before",
            "github",
            "troubleshooting",
            (),
            (),
            (ASKS_FOR_THE_TOPIC,),
            ("Thanks for also posting",),
        ),
    ],
)
def test_the_draft_thanks_for_the_authors_copy_where_it_would_ask_for_one(
    case: str,
    channel: str,
    post_type: str,
    related: tuple[Related, ...],
    also_posted: tuple[Post, ...],
    says: tuple[str, ...],
    never_says: tuple[str, ...],
) -> None:
    """SPEC §4: drafts never re-ask what the author already gave. Their own copy on the feature-idea
    forum (a feature) or on the forum (troubleshooting) is thanked for, linked, not asked for."""
    item = post(channel=channel, title="Schedule a message", created=ago(hours=2))
    draft = WRITER.suggest(item, Classification(post_type, "x"), related, T, also_posted=also_posted).draft
    for text in says:
        assert text in draft, (case, text)
    for text in never_says:
        assert text not in draft, (case, text)


@pytest.mark.parametrize("post_type", ["bug", "troubleshooting", "feature_proposal", "question"])
@pytest.mark.parametrize("channel", ["github", "forum", "uservoice"])
def test_related_items_that_decide_nothing_leave_the_draft_as_it_was(channel: str, post_type: str) -> None:
    item = post(channel=channel, title="Thread counter", body=bug_form())
    decided = Classification(post_type, "x")
    without = WRITER.suggest(item, decided)
    assert WRITER.suggest(item, decided, (ISSUE,)) == without
    assert without.override is None
    assert without.action == SETTINGS.suggested_actions.for_post(channel, post_type)


@pytest.mark.parametrize(
    ("channel", "asks_to_post_the_idea"),
    [("github", True), ("gitlab", True), ("forum", True), ("stackoverflow", True), ("uservoice", False)],
)
def test_a_feature_idea_is_sent_to_the_feature_idea_forum_unless_it_is_there(
    channel: str, asks_to_post_the_idea: bool
) -> None:
    """A UserVoice suggestion is on the feature-idea forum already: its draft never asks to post it there."""
    item = post(channel=channel, title="Dark mode for the admin console", body="Please add a dark theme.")
    draft = WRITER.suggest(item, Classification("feature_proposal", "x")).draft
    assert ("feature-idea forum" in draft) is asks_to_post_the_idea, draft


# ----- drafts never re-ask what the thread already asked or the author already gave -------------

BARE_BUG = "The server crashes when I upload a file."


@pytest.mark.parametrize(
    ("case", "replies", "missing"),
    [
        ("nothing in the thread", (), ("versions", "logs", "steps")),
        (
            "the author gave the version in a reply",
            (reply("alice", body="Forgot to say: we run 10.11.2 on Ubuntu."),),
            ("logs", "steps"),
        ),
        (
            "staff already asked for the logs",
            (reply("staffer", body="Could you share the server logs from the crash?"),),
            ("versions", "steps"),
        ),
        (
            "someone mentioned logs without asking: still asked",
            (reply("bob", body="I saw this in my logs too."),),
            ("versions", "logs", "steps"),
        ),
        (
            "the author gave the steps run on in one line",
            (reply("alice", body="Steps: 1. post foo-bar 2. search foo-bar 3. nothing found"),),
            ("versions", "logs"),
        ),
        (
            "the author said how to reproduce it",
            (reply("alice", body="To reproduce: upload any PNG over 5 MB from the desktop app."),),
            ("versions", "logs"),
        ),
        (
            "the author gave the logs in a code block of a reply",
            (
                reply(
                    "alice",
                    body="Here is what the server prints:\n```\n2026-11-18T02:00:00Z error app: dial tcp: connection refused\n```",
                ),
            ),
            ("versions", "steps"),
        ),
        (
            "the author gave the logs in an HTML code block of a reply",
            (reply("alice", body="<p>Server output:</p><pre><code>connection refused</code></pre>"),),
            ("versions", "steps"),
        ),
        (
            "the author pasted log lines in a reply",
            (reply("alice", body="Found this:\nERROR [2026-11-18 02:00:00] upload failed: disk full"),),
            ("versions", "steps"),
        ),
        (
            "the author pasted the About box in a code block of a reply",
            (
                reply(
                    "alice",
                    body="From the About dialog:\n```\nMattermost Version: 10.5.2\nBuild Number: 1234\n```",
                ),
            ),
            ("steps",),
        ),
        (
            "code quoted from someone else is not the author's logs",
            (reply("alice", body="> ```\n> error: connection refused\n> ```\n\nSame thing here."),),
            ("versions", "logs", "steps"),
        ),
        (
            "a version quoted from someone else is not the author's",
            (
                reply(
                    "alice", body="> This was fixed in Mattermost server 10.5\n\nNot sure which one we run."
                ),
            ),
            ("versions", "logs", "steps"),
        ),
        (
            "the About box quoted in a mail reply is someone else's",
            (
                reply(
                    "alice",
                    body="Thanks.\n\nOn Mon, Nov 16, 2026 bob wrote:\n> Mattermost Version: 10.5.2\n> Build Number: 1234",
                ),
            ),
            ("versions", "logs", "steps"),
        ),
        (
            "a Chinese request for the logs",
            (reply("staffer", body="麻烦提供一下具体日志"),),
            ("versions", "steps"),
        ),
        (
            "a Chinese request for the steps to reproduce",
            (reply("staffer", body="请提供一下复现步骤"),),
            ("versions", "logs"),
        ),
        (
            "a Japanese request for the steps to reproduce",
            (reply("staffer", body="再現手順を教えてください。"),),
            ("versions", "logs"),
        ),
        (
            "a Japanese reply that could not reproduce it asks for no steps",
            (reply("staffer", body="こちらでは再現しません。ログを共有してください。"),),
            ("versions", "steps"),
        ),
        (
            "a Chinese request for the version names no steps",
            (reply("staffer", body="请提供版本号"),),
            ("logs", "steps"),
        ),
        (
            "a Chinese request for a screenshot asks for no logs",
            (reply("staffer", body="请提供截图"),),
            ("versions", "logs", "steps"),
        ),
        (
            "asking to log in again asks for no logs",
            (reply("staffer", body="Could you try to log in again from a private window?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "asking about the log-in page asks for no logs",
            (reply("staffer", body="Does the log-in page load at all?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "asking for the log asks for the logs",
            (reply("staffer", body="Could you attach the log from the crash?"),),
            ("versions", "steps"),
        ),
        (
            "a question naming an address asks for no version",
            (
                reply(
                    "bob",
                    body="The browser opens http://10.0.17.12:3000/sign-in. Where do I change 127.0.0.1?",
                ),
            ),
            ("versions", "logs", "steps"),
        ),
        (
            "an ask phrase without a question mark",
            (reply("staffer", body="Please share the version you are on."),),
            ("logs", "steps"),
        ),
        (
            "staff already asked for the steps in plain words",
            (reply("staffer", body="Could you share the exact steps you followed?"),),
            ("versions", "logs"),
        ),
        (
            "someone asked for the steps with an ask phrase and no question mark",
            (reply("bob", body="Please share the exact steps you followed"),),
            ("versions", "logs"),
        ),
        (
            "someone asked how to reproduce it",
            (reply("bob", body="How can we reproduce this on our side?"),),
            ("versions", "logs"),
        ),
        (
            "asking whether it reproduces elsewhere is not asking for the steps",
            (reply("bob", body="Are you able to reproduce this with the desktop app?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "someone mentioned steps without asking: still asked",
            (reply("bob", body="I followed the same steps and it worked for me."),),
            ("versions", "logs", "steps"),
        ),
        (
            "steps asked for in a list after the question",
            (
                reply(
                    "staffer",
                    body="Could you share the following?\n1. the exact steps you followed\n2. the server logs",
                ),
            ),
            ("versions",),
        ),
        (
            "a next step is no ask for the steps",
            (reply("staffer", body="As a next step, could you share the server logs?"),),
            ("versions", "steps"),
        ),
        (
            "steps named beside a question about something else are not asked for",
            (reply("bob", body="I followed the same steps and it works for me. Which version are you on?"),),
            ("logs", "steps"),
        ),
        (
            "steps named after a question about something else are not asked for",
            (reply("bob", body="Which version are you on? I followed the same steps and it works for me."),),
            ("logs", "steps"),
        ),
        (
            "steps asked for in a bulleted list after the question",
            (reply("staffer", body="Could you share the following?\n- the exact steps\n- the server logs"),),
            ("versions",),
        ),
        (
            "a version and logs the replier tells of their own are not asked for",
            (
                reply(
                    "bob",
                    body="Same crash here on 10.5, my logs show nothing. Could you share the steps you followed?",
                ),
            ),
            ("versions", "logs"),
        ),
        (
            "logs the replier checked on their side are not asked for",
            (reply("bob", body="I checked the logs on my server. How can we reproduce this?"),),
            ("versions", "logs"),
        ),
        (
            "logs needed, then asked for",
            (reply("staffer", body="We need the server logs. Could you share them?"),),
            ("versions", "steps"),
        ),
        (
            "steps wished for after the question",
            (reply("staffer", body="Could you share the server logs? The exact steps would help too."),),
            ("versions",),
        ),
        # Chinese and Japanese end a sentence with a full-width mark and no blank after it.
        (
            "steps the replier followed, told in Chinese before a question, are not asked for",
            (reply("bob", body="我也按照同样的步骤试过了。你用的是哪个版本？"),),
            ("logs", "steps"),
        ),
        (
            "steps asked for in Chinese after a full stop",
            (reply("staffer", body="你用的是哪个版本？请提供一下复现步骤。"),),
            ("logs",),
        ),
        (
            "steps asked for in a second question",
            (reply("staffer", body="Which version are you on? And what steps did you follow?"),),
            ("logs",),
        ),
        (
            "the version asked for as the release the author is on",
            (reply("staffer", body="Which release are you on?"),),
            ("logs", "steps"),
        ),
        (
            "the version asked for as the build the author runs",
            (reply("bob", body="Thanks. What Mattermost build are you running?"),),
            ("logs", "steps"),
        ),
        (
            "the version asked for as the build number",
            (reply("staffer", body="Please share the build number from the About box."),),
            ("logs", "steps"),
        ),
        # Which release has the fix is asked of the team, not of the author's setup.
        (
            "a question which release fixes it asks for no version",
            (reply("bob", body="Same problem for us. Which release fixes this?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a question which release will include the fix asks for no version",
            (reply("bob", body="Which release will include the fix?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a question which version it will be fixed in asks for no version",
            (reply("bob", body="What version will this be fixed in?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a question which release brought the bug asks for no version",
            (reply("bob", body="In which release was this introduced?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "the version the fix is in, told, asks for none",
            (reply("staffer", body="The fix is included in version 10.6. Could you share the logs?"),),
            ("versions", "steps"),
        ),
        (
            "a question which release the author's server is on asks for it",
            (reply("staffer", body="Which release is your server on?"),),
            ("logs", "steps"),
        ),
        (
            "a release named beside a question asks for no version",
            (reply("staffer", body="Could you share the server logs? The fix may be in the next release."),),
            ("versions", "steps"),
        ),
        (
            "a question about the author's build logs asks for no version",
            (reply("bob", body="Could you share your build logs? Which build step fails?"),),
            ("versions", "steps"),
        ),
        (
            "a question about building asks for no version",
            (reply("bob", body="What happens when you build it from source?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "logs asked for by a request to send them, before a question",
            (reply("staffer", body="Send me the logs. What version?"),),
            ("steps",),
        ),
        (
            "logs asked for by a request to send them, after a question",
            (reply("staffer", body="What version? Send me the logs."),),
            ("steps",),
        ),
        (
            "a request to send alone, no question mark",
            (reply("staffer", body="Please DM me the exact steps and the server logs"),),
            ("versions",),
        ),
        (
            "a request to share with the replier",
            (reply("bob", body="Share the logs with me. Which version are you on?"),),
            ("steps",),
        ),
        (
            "logs the replier will look at are not asked for",
            (reply("staffer", body="Let me have a look at the logs."),),
            ("versions", "logs", "steps"),
        ),
        (
            "logs the replier will read on their side are not asked for",
            (reply("staffer", body="Let me look at the logs on our side and come back."),),
            ("versions", "logs", "steps"),
        ),
        (
            "a moment asked for to check the logs asks for none",
            (reply("staffer", body="Please give me a moment to check the logs."),),
            ("versions", "logs", "steps"),
        ),
        (
            "logs a service sends the replier are not asked for",
            (reply("bob", body="The push proxy doesn't send us anything since 10.5, logs are empty."),),
            ("versions", "logs", "steps"),
        ),
        (
            "logs the replier asks to see are asked for",
            (reply("staffer", body="Let me see your logs."),),
            ("versions", "steps"),
        ),
        (
            "logs that showed the replier nothing are not asked for",
            (reply("bob", body="The logs showed me nothing. Which version are you on?"),),
            ("logs", "steps"),
        ),
        (
            "a replier telling what happened to them asks nothing",
            (reply("bob", body="I had to upload the logs again and it happened to me too."),),
            ("versions", "logs", "steps"),
        ),
        (
            "the replier's own version in a sentence before the question is not asked for",
            (reply("bob", body="Same crash here on 10.5. Could you share the steps?"),),
            ("versions", "logs"),
        ),
        (
            "the replier's own version in the sentence of the question is not asked for",
            (reply("bob", body="Same for me on 10.5, could you share the steps you followed?"),),
            ("versions", "logs"),
        ),
        (
            "a version told of is not asked for",
            (reply("staffer", body="This was fixed in 10.6. Could you share the server logs?"),),
            ("versions", "steps"),
        ),
        (
            "a version the author is asked to upgrade to is not asked for",
            (reply("staffer", body="Could you try upgrading to 10.6 and share the server logs?"),),
            ("versions", "steps"),
        ),
        (
            "a version the author is asked to try is not asked for",
            (reply("staffer", body="Does it still happen in Mattermost 11.1?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a question naming a version asks for it",
            (reply("staffer", body="Are you on 10.5 or 10.6?"),),
            ("logs", "steps"),
        ),
        # "in" a version asks which one the author runs; "still … in" or "try" points them to one.
        (
            "a question whether the author sees it in a version asks for it",
            (reply("staffer", body="Are you seeing this in 10.5?"),),
            ("logs", "steps"),
        ),
        (
            "a question which of two versions the author sees it in asks for it",
            (reply("staffer", body="Are you seeing this in 10.5 or in 10.6?"),),
            ("logs", "steps"),
        ),
        (
            "two versions offered as one choice ask for it",
            (reply("staffer", body="Are you seeing this in 10.5 or 10.6?"),),
            ("logs", "steps"),
        ),
        (
            "a question whether the author is still on a version asks for it",
            (reply("staffer", body="Are you still on 10.5?"),),
            ("logs", "steps"),
        ),
        (
            "a version the author is asked to try out is not asked for",
            (reply("staffer", body="Could you try 10.6 and see if it helps?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a version the author is asked to try it on is not asked for",
            (reply("staffer", body="Could you try it on 10.6?"),),
            ("versions", "logs", "steps"),
        ),
        # A version the author is asked to test pointing them to it: reproduce, check, verify or retest
        # "in" it asks which one they run no more than "try it on" does.
        (
            "a version the author is asked to reproduce it in is not asked for",
            (reply("staffer", body="Can you reproduce it in 11.1?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a version the author is asked to check in is not asked for",
            (reply("staffer", body="Could you check in 11.1?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a version the author is asked to verify it on is not asked for",
            (reply("staffer", body="Could you verify this on 11.1?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a version the author is asked to retest in is not asked for",
            (reply("staffer", body="Would you retest in 11.1?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "whether it is reproducible in a version is not asked for",
            (reply("staffer", body="Is this reproducible in 11.1?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a question naming a version and whom to tell asks for it",
            (reply("staffer", body="Let me know whether you run 10.5 or later."),),
            ("logs", "steps"),
        ),
        # A debug run changes a setting; it asks for no logs, which the draft still asks for.
        (
            "a run with a debug log level asks for no logs",
            (reply("staffer", body="Could you run it with --log-level debug?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a log level named in a question asks for no logs",
            (reply("staffer", body="What is your log level set to?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "a debug run and its logs asked for",
            (reply("staffer", body="Could you run it with --log-level debug and share the logs?"),),
            ("versions", "steps"),
        ),
        # The commands that print a self-hosted server's logs ask for its logs: omnibus GitLab's
        # "gitlab-ctl tail" (its logs page's tool), systemd's journal.
        (
            "staff asked for the output of gitlab-ctl tail",
            (
                reply(
                    "staffer",
                    body="Could you share the output of `gitlab-ctl tail mattermost` while a client reconnects?",
                ),
            ),
            ("versions", "steps"),
        ),
        (
            "staff asked for the journal of the service",
            (reply("staffer", body="What does journalctl -u mattermost print around the crash?"),),
            ("versions", "steps"),
        ),
        (
            "another gitlab-ctl command asks for no logs",
            (reply("staffer", body="Could you run `gitlab-ctl reconfigure` again and tell us if it helps?"),),
            ("versions", "logs", "steps"),
        ),
        (
            "asked only after T: not yet asked",
            (reply("staffer", at=T + timedelta(hours=1), body="Could you share the server logs?"),),
            ("versions", "logs", "steps"),
        ),
    ],
)
def test_drafts_never_re_ask(case: str, replies: tuple, missing: tuple[str, ...]) -> None:
    item = post(body=BARE_BUG, title="Crash on upload", replies=replies, created=ago(hours=3))
    decided = Classification("bug", "test")
    suggestion = DraftWriter(SETTINGS).suggest(item, decided, as_of=T)
    assert suggestion.missing_details == missing, case


@pytest.mark.parametrize(
    ("text", "offers"),
    [
        # Offers to build the thing asked for.
        ("I can build this", True),
        ("I can build this.", True),
        ("happy to open a pull request for this", True),
        ("I'm willing to implement it if the team agrees", True),
        ("I'd be happy to submit a PR for this.", True),
        ("I can implement this feature myself", True),
        ("If nobody minds I'd like to work on this, I have a branch.", True),
        ("We can build it for you. Let me know.", True),
        ("I could open a PR once the design is settled", True),
        ("happy to contribute!", True),
        ("I can build it Thanks for the great work", True),  # a new sentence after a line break
        # The pull request described after the phrase: still the offer.
        ("I can submit a PR that adds a mute button", True),
        ("I'd be happy to submit a PR implementing the setting", True),
        ("happy to open a pull request to add it", True),
        ("I can open a PR which adds the option", True),
        # Not offers: building or implementing something else, asking how.
        ("I can build the desktop app from source, but it crashes", False),
        ("we can build it locally", False),
        ("we can build it locally, the server still crashes", False),
        ("how do I open a pull request?", False),
        ("I can implement a workaround", False),
        ("I can implement this workaround in our proxy", False),
        ("I can build it?", False),
        ("Would a pull request help?", False),
        # A question asking someone else is no offer of the author's; one they speak in is.
        ("Would anyone be happy to submit a PR for this?", False),
        ("Is anyone happy to contribute to this?", False),
        ("Thanks! Are you happy to open a PR for this? We need it soon.", False),
        ("I'm happy to submit a PR for this, would that help?", True),
        ("Is this wanted? I can build it", True),
        ("Can I help? I'd be happy to submit a PR for this!", True),
        # The author's offer with its "I" left out, then asking whether it helps, is theirs.
        ("Happy to submit a PR for this, would that help?", True),
        ("Happy to contribute to this if it helps - would you accept one?", True),
        ("Thanks! Happy to open a pull request for this, OK?", True),
        ("Would anybody else be happy to contribute to this?", False),
        ("Are the maintainers happy to contribute to this?", False),
        ("Who would be happy to submit a PR for this?", False),
    ],
)
def test_an_offer_is_to_build_the_thing_asked_for(text: str, offers: bool) -> None:
    """The rules file's offer phrases (uservoice_review.offer_pattern) read "I can build this", not
    "I can build the desktop app from source": a false offer would leave the contribute ask out."""
    item = post(author="alice", title="Mute a thread", body=text)
    assert offered_to_contribute(item, offer_pattern(SETTINGS.uservoice.offer_phrases)) is offers, text
    draft = WRITER.suggest(item, Classification("feature_proposal", "x"), (), as_of=T).draft
    assert ("interested in contributing" in draft) is not offers, text


@pytest.mark.parametrize(
    ("case", "post_type", "body", "replies", "asks"),
    [
        (
            "a bug whose author offers a PR in the post",
            "bug",
            "It crashes. I'd be happy to submit a PR for this.",
            (),
            False,
        ),
        (
            "a feature whose author offers in a later reply (curly apostrophe)",
            "feature_proposal",
            "It would be nice to mute threads.",
            (reply("alice", ago(hours=2), body="I\u2019d like to work on this myself."),),
            False,
        ),
        (
            "an offer by someone else is not the author's",
            "bug",
            "It crashes.",
            (reply("bob", ago(hours=2), body="I can submit a PR for this."),),
            True,
        ),
        (
            "the author's offer made after T does not exist yet",
            "bug",
            "It crashes.",
            (reply("alice", T + timedelta(hours=1), body="I can submit a PR for this."),),
            True,
        ),
        (
            "an offer only quoted from someone else is not the author's",
            "bug",
            "> I can submit a PR for this.\n\nStill crashing here.",
            (),
            True,
        ),
        ("no offer", "feature_proposal", "Please add an option to mute threads.", (), True),
    ],
)
def test_drafts_do_not_ask_an_author_who_offered_to_contribute(
    case: str, post_type: str, body: str, replies: tuple, asks: bool
) -> None:
    """SPEC §4: drafts never re-ask what the author already gave; one who offered to build it gave that."""
    p = post(author="alice", title="Mute a thread", body=body, replies=replies)
    draft = WRITER.suggest(p, Classification(post_type, "x"), (), as_of=T).draft
    assert ("interested in contributing" in draft) == asks, (case, draft)


@pytest.mark.parametrize(
    ("title", "body", "shown"),
    [
        pytest.param("Setup", "How do I set up high availability?", "high availability", id="one line"),
        # sc34: a keyword's words wrapped onto the next line are still the keyword (and never a
        # lookup of "high\navailability" that no doc link is keyed by).
        pytest.param(
            "Setup", "We want high\navailability with two nodes.", "high availability", id="wrapped"
        ),
        pytest.param("Setup", "We want HIGH  Availability.", "HIGH Availability", id="spaced twice"),
    ],
)
def test_related_docs_find_a_phrase_keyword_however_it_is_spaced(title: str, body: str, shown: str) -> None:
    url = "https://docs.mattermost.com/scale/high-availability-cluster.html"
    assert (shown, url) in WRITER.related_docs(post(title=title, body=body))
