"""SPEC §4 "Response", "Answer state" and "Days on the list and escalation", one row per case, as of T."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from builders import ROSTER, SETTINGS, T, ago, answer, post, reply
from community_monitoring.answers import (
    AnswerState,
    LadderStep,
    _phrase_pattern,
    answer_state,
    asks_the_author,
    day_on_list,
    is_last_call,
    is_me_too,
    joined_list_at,
    ladder_step,
    own_words,
    says_it_is_solved,
    substantive_replies,
)
from community_monitoring.records import Post
from community_monitoring.settings import EscalationSection

RESPONSES = SETTINGS.responses
LONG_QUOTE = "> " + "The server stops answering after the upgrade and the logs show nothing useful. " * 3


@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        ("plus one", "+1", True),
        ("same here with punctuation", "Same here!", True),
        ("two phrases and a question mark", "same issue, any update?", True),
        ("emoji only", "👍", True),
        ("emoji shortcode", ":+1: :thumbsup:", True),
        # Faces typed with the keyboard are emoji; the same marks in a drive, a time or a link are not.
        ("a face of dismay", "D:", True),
        ("a sad face", ":(", True),
        ("faces with noses and a heart", ";-) xD <3 :P ^^", True),
        ("a drive named", "D:\\backup is full", False),
        ("a time", "8:30", False),
        ("words and a face", "We all do bro :(", False),
        ("bump", "bump", True),
        ("upper case", "ME TOO!!!", True),
        ("punctuation only", "...", True),
        ("quoted long text, then +1", f"{LONG_QUOTE}\n\n+1", True),
        (
            "Discourse quote, then same here",
            '[quote="alice, post:1"]\nIt crashes on start.\n[/quote]\nSame here',
            True,
        ),
        ("HTML quote, then me too", "<blockquote><p>It crashes.</p></blockquote><p>Me too</p>", True),
        ("code block, then +1", "```\npanic: runtime error\n```\n+1", True),
        # A pasted log or config alone is what was asked for: the code is the reply's words.
        ("a pasted log alone", "```\npanic: runtime error\n```", False),
        (
            "the asked config under its quote",
            "> can you share your config?\n\n```\nserver_name: x\n```",
            False,
        ),
        ("a log in a <pre> block alone", "<pre>panic: runtime error</pre>", False),
        ("a log in an indented code block alone", "    panic: runtime error\n    goroutine 1", False),
        ("an emoji beside an indented log", "\U0001f44d\n\n    panic: runtime error", True),
        ("an empty code block says nothing", "```\n```", True),
        # A screenshot alone shows what was asked for, as a pasted log does; beside a me-too it adds
        # nothing to it, whichever way GitHub wrote the upload.
        ("a screenshot alone", "![image](https://user-images.githubusercontent.com/1/2.png)", False),
        (
            "an uploaded screenshot alone",
            '<img width="300" alt="Image" src="https://github.com/user-attachments/assets/x" />',
            False,
        ),
        (
            "same here with a screenshot",
            "Same here\n\n![image](https://user-images.githubusercontent.com/1/2.png)",
            True,
        ),
        (
            "+1 with an uploaded screenshot",
            '+1 <img width="300" alt="Image" src="https://github.com/user-attachments/assets/x" />',
            True,
        ),
        ("a quoted screenshot says nothing", "> ![image](https://example.test/1.png)", True),
        # GitLab writes an upload's size after it ("{width=617 height=364}"); a picture may be a link.
        (
            "same here with a sized GitLab screenshot",
            "Same here\n\n![image](/uploads/1a2b/image.png){width=617 height=364}",
            True,
        ),
        ("a sized GitLab screenshot alone", "![image](/uploads/1a2b/image.png){width=617 height=364}", False),
        (
            "+1 with a linked screenshot",
            "+1 [![screenshot](https://example.test/1.png)](https://example.test/1.png)",
            True,
        ),
        ("words in braces after a screenshot stay words", "![a](x.png) {the same crash on restart}", False),
        # Emoji only is a me-too with the code removed (SPEC §4), whatever it carries.
        ("an emoji beside a pasted log", "\U0001f44d\n```\npanic: runtime error\n```", True),
        ("an emoji shortcode beside a screenshot", ":+1: ![image](https://example.test/1.png)", True),
        ("exclamation marks beside a pasted log", "!!!\n```\npanic: runtime error\n```", True),
        ("quoted code says nothing of the replier's", "> ```\n> panic\n> ```", True),
        ("signature after the me-too", "+1\n-- \nBob, ACME Corp IT, phone 555-0100", True),
        (
            "signature after the me-too, CRLF",
            "+1\r\n\r\n-- \r\nJohn Smith | ACME Corp\r\nSent from my iPhone",
            True,
        ),
        ("phone client line", "Same problem\nSent from my iPhone", True),
        ("quote only", "> It crashes on start.", True),
        ("nothing at all", "", True),
        (
            "a real answer that starts like a me-too",
            "Same here, I fixed it by setting SiteURL to the public address and restarting the server.",
            False,
        ),
        ("a short real answer", "Set SiteURL and restart.", False),
        ("a question back", "Which version are you on?", False),
        ("a phrase inside a word is no phrase", "setup", False),
        ("up as a word inside a sentence", "Set up LDAP first", False),
        ("plus one and an instruction", "+1, also check the proxy timeout", False),
        ("inline code says something", "+1 `MM_SQLSETTINGS_DRIVERNAME`", False),
        ("me-too phrases past the length limit", "same here, " * 8, False),
        # Without a single word, a reply says nothing however long it is (the limit is for phrases).
        ("a long row of emoji", "👍🏽" * 40, True),
        ("emoji shortcodes past the length limit", ":+1: " * 20, True),
        ("punctuation past the length limit", "!" * 80, True),
        ("a long row of emoji, then a word", "👍🏽" * 40 + " fixed", False),
        # The limit is on the words: emoji and punctuation around a phrase add nothing to say.
        ("a phrase padded with emoji past the length limit", "Same here " + "😭" * 60, True),
        ("plus one padded with emoji past the length limit", "+1 " + "👍" * 70, True),
        ("a phrase and shouting past the length limit", "any update?" + "!" * 60, True),
        ("asking for news in a sentence", "Is there any update on this?", True),
        ("asking for progress", "Any progress on this?", True),
        (
            "e-mail reply: +1 above the quoted issue",
            "+1\n\nOn Mon, Nov 30, 2026 at 10:00 AM Ann <notifications@github.com> wrote:\n> It crashes on start.",
            True,
        ),
        (
            "e-mail reply with the attribution over two lines",
            "Same here\n\nOn Mon, Nov 30, 2026 at 10:00 AM Ann <\nnotifications@github.com> wrote:\n\n> It crashes.",
            True,
        ),
        ("'wrote:' in the reply's own sentence", "On the server I wrote: MaxFileSize = 100", False),
        ("a vote that wants it too", "+1 would love this", True),
        ("wanting to see it", "Would love to see this! 🙏", True),
        ("wanting it with a reason", "Would love this, our auditors ask for it every quarter", False),
        ("thanks in its other forms", "Thank you so much!", True),
        ("thanks, shortest", "thx", True),
        ("thanks with what worked", "Thank you, setting SiteURL fixed it", False),
        # A me-too in its everyday wording: the phrases with words that add nothing ("this", "for
        # me", "from our team"), a person pinged for news, the common variants of a bump.
        ("asking for news about the issue", "Any update on this issue?", True),
        ("the same problem, for me", "Same problem for me.", True),
        ("a vote from a team", "+1 from our team", True),
        ("a vote, the same for us", "+1, same for us", True),
        ("affected too", "We are also affected by this", True),
        ("asking for an ETA", "Is there any ETA?", True),
        ("progress, here", "Any progress here?", True),
        ("pinging someone for news", "@hanzei any update?", True),
        ("following", "Following this.", True),
        ("bumping", "Bumping this", True),
        ("same, alone", "same", True),
        ("asking for a workaround too", "Same here. Any workaround?", True),
        # Saying one has it too in the everyday verbs: having, facing, seeing, getting the same.
        ("having the same issue, as a team", "We are having the same issue", True),
        ("facing the same issue too", "I am also facing the same issue", True),
        ("seeing the same problem", "Seeing the same problem here.", True),
        ("having the same problem", "We have the same problem", True),
        ("getting the same error", "Getting the same error", True),
        (
            "having the same issue, and since when",
            "We are having the same issue since we moved to Postgres 15",
            False,
        ),
        # Asking it too, as a Q&A site's or forum's reader does: a vote for the question.
        ("having the same question", "I have the same question.", True),
        ("the same question, here", "Same question here", True),
        ("a vote for the question", "+1 for the question", True),
        (
            "the same question, and what differs",
            "Same question, but on Postgres 16 the import fails too",
            False,
        ),
        # Filler words alone are no me-too, and what they come with may still say something.
        ("filler words without a phrase", "It is here.", False),
        ("a version says which release is affected", "Same issue here on 11.2", False),
        ("a phrase and a real instruction", "Same for us, restarting the push proxy fixed it", False),
        ("a question about the setup", "Same here. Are you behind a proxy?", False),
        # Asking for the author's fix, or for help, with nothing of one's own, is a me-too as well.
        ("asking for the author's fix", "same here have you found a fix for that yet?", True),
        ("asking for help", "Same here, send help!", True),
        ("asking for ideas", "Any ideas?", True),
        ("an idea of one's own", "Any idea what changed in 2.3? The log shows a timeout.", False),
        ("offering help", "I can help: set the proxy in the config.", False),
        ("a fix found, told", "Same here, found a fix: set the timeout to 60.", False),
    ],
)
def test_is_me_too(case: str, text: str, expected: bool) -> None:
    assert is_me_too(text, RESPONSES) is expected, case


@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        ("quote lines", "> quoted\nmine", "mine"),
        ("fenced code", "before\n```\ncode\n```\nafter", "before after"),
        ("signature", "mine\n--\nsig line", "mine"),
        ("indented code block", "before\n\n    code line\n\n    more code\nafter", "before after"),
        ("an indented line continues its paragraph", "before\n    more words", "before more words"),
        (
            "an indented line continues its list item",
            "- one\n\n    more words\n\nafter",
            "- one more words after",
        ),
        ("code in a list item is indented past its text", "1. one\n\n       code\n\nafter", "1. one after"),
        ("a paragraph after a list ends it", "- one\n\ntext\n\n    code", "- one text"),
        # A heading or a thematic break is a block of its own: an indented line right after it is code.
        ("indented code right under a heading", "### Logs\n    panic: what?\nafter", "### Logs after"),
        ("indented code right after a thematic break", "mine\n\n* * *\n    code?", "mine * * *"),
        ("indented code right after a dashed break", "mine\n\n---\n    code?", "mine ---"),
        ("a '#' word is no heading", "#hashtag\n    more words", "#hashtag more words"),
        ("a line of two stars is no break", "**\n    more words", "** more words"),
        # Not indented as the item's text, a heading or a break is no part of the list: it ends it.
        (
            "a heading right after a list item ends the list",
            "- OS: Ubuntu\n### Logs\n    panic: what?",
            "- OS: Ubuntu ### Logs",
        ),
        ("a break right after a list item ends the list", "1. step\n- - -\n    code?", "1. step - - -"),
        (
            "a heading inside the item keeps the list",
            "- item\n  # Head\n      code?\nafter",
            "- item # Head after",
        ),
        # A quote right after a list item is no part of the item's paragraph: it ends the list.
        ("a quote right after a list item ends the list", "- item\n> quote\n\n    code?", "- item"),
        # An item's marker with blanks after it and nothing else: its text is indented past one blank.
        ("an empty item with a blank after its marker", "- \n  foo\n\n      code?", "- foo"),
        # A reply that opens with a line break (a web form's, a mail's) and then its code.
        (
            "code after an opening blank line",
            "\n    SELECT * FROM Posts WHERE Id = ?;\n\nThe query.",
            "The query.",
        ),
        ("code after an opening CRLF", "\r\n \r\n    SELECT ?;\r\n\r\nok", "ok"),
        # A paragraph underlined with "=" is a heading: the indented line right after it is code.
        ("indented code right under an underlined heading", "Logs\n====\n    panic: what?", "Logs ===="),
        ("a line of '=' alone is no underline", "mine\n\n===\n    more words", "mine === more words"),
        (
            "a line of '=' under a heading is no underline",
            "# Logs\n===\n    more words",
            "# Logs === more words",
        ),
        (
            "a line of '=' indented less than the item's text goes on the item",
            "- item\n===\n    more words",
            "- item === more words",
        ),
        ("html tags and entities", "<p>a &amp; b</p>", "a & b"),
        ("Discourse cooked quote", '<aside class="quote"><blockquote>x</blockquote></aside>mine', "mine"),
        ("mail client's attribution above a quote", "mine\nOn Tue, Ann <a@b.c> wrote:\n> quoted", "mine"),
        # GitHub stores what its web form and e-mail replies send: lines end in CRLF.
        ("signature, CRLF line ends", "mine\r\n\r\n-- \r\nBob, ACME Corp IT\r\nphone 555-0100", "mine"),
        ("attribution above a quote, CRLF", "mine\r\n\r\nOn Tue, Ann <a@b.c> wrote:\r\n> quoted", "mine"),
        ("'wrote:' with no quote after it stays", "On Tuesday I wrote: hello", "On Tuesday I wrote: hello"),
        # A quote of a post that quoted another holds both: all of it is quoted, to the outer end.
        (
            "Discourse quote inside a quote",
            '[quote="bob, post:2"]\n[quote="alice, post:1"]\nIt broke\n[/quote]\nDid you purge it?\n[/quote]\nmine',
            "mine",
        ),
        (
            "HTML quote inside a quote",
            "<blockquote><blockquote>It broke</blockquote>Did you purge it?</blockquote><p>mine</p>",
            "mine",
        ),
        ("two quotes one after the other", "[quote]a[/quote] mine [quote]b[/quote] too", "mine too"),
        # An outer quote never closed is read as before: to the first closing tag.
        ("an outer quote never closed", "[quote]a [quote]b[/quote] mine", "mine"),
        ("a closing tag with no quote open stays", "mine[/quote] too", "mine[/quote] too"),
    ],
)
def test_own_words(case: str, text: str, expected: str) -> None:
    assert own_words(text) == expected, case


def test_a_reply_is_read_for_its_own_words_once() -> None:
    """Each reply is read by several rules (asks, solved, details), at 100,000 posts a day: a second
    reading of the same reply is the first one's result, not a new pass over its text."""
    text = "> quoted\n" * 50 + "mine  and  more\n\n-- \nBob"
    first = own_words(text)
    assert first == "mine and more"
    assert own_words(text) is first


@pytest.mark.parametrize(
    ("case", "text", "asks", "solved"),
    [
        ("question mark", "Which version do you run?", True, False),
        # "?" as Chinese and Japanese write it (full width), and as Arabic does.
        ("full-width question mark", "你用的是哪个版本？", True, False),
        ("Arabic question mark", "ما هو إصدار الخادم؟", True, False),
        ("full-width mark only inside a quote", "> 哪个版本？\nIt does for me.", False, False),
        # Chinese and Arabic put no space after a link: the full-width and Arabic marks are never part
        # of one (a query string starts with "?"), so a link just before them leaves them asking.
        (
            "full-width mark right after a link",
            "参考https://docs.example.com/install，你用的是哪个版本？",
            True,
            False,
        ),
        ("Arabic mark right after a link", "راجع https://docs.example.com/install؟", True, False),
        ("a link's own query string", "See https://example.com/search?q=timeout for more.", False, False),
        # Inline code names a value, as Markdown's backticks and HTML's <code> (Stack Overflow, a forum
        # post's HTML) write it: a "?" in it asks nothing; a "?" after it still asks.
        ("a query string in Markdown inline code", "Append `?per_page=200` to the URL.", False, False),
        (
            "a query string in HTML inline code",
            "<p>Append <code>?per_page=200</code> to the URL.</p>",
            False,
            False,
        ),
        ("an operator in HTML inline code", "<p>Use <code>a ?? b</code> there.</p>", False, False),
        ("a question after HTML inline code", "<p>Did you set <code>SiteURL</code>?</p>", True, False),
        (
            "a question beside a code block's own",
            "<pre><code>x = a ? b : c\n</code></pre><p>Which one?</p>",
            True,
            False,
        ),
        # A link shows the title of what it links to: its "?" is that page's question, not the replier's.
        (
            "an old Stack Overflow duplicate comment",
            'Possible duplicate of <a href="https://stackoverflow.com/questions/1">How do I find the version?</a>',
            False,
            False,
        ),
        (
            "a Markdown link to a question",
            "Possible duplicate of [How do I find the version?](https://stackoverflow.com/questions/1)",
            False,
            False,
        ),
        (
            "the newer duplicate comment asks the author",
            'Does this answer your question? <a href="https://stackoverflow.com/questions/1">How do I find the version?</a>',
            True,
            False,
        ),
        (
            "a question after a link",
            'Have you seen <a href="https://example.com/a">this answer</a>?',
            True,
            False,
        ),
        ("a question after a Markdown link", "Did [the docs](https://example.com/docs) help?", True, False),
        # Markdown's indented code block (four blanks or a tab, after a blank line) is code; a line
        # indented so right after a list item, or in an HTML body, is not.
        (
            "a question mark in an indented code block",
            "Run this:\n\n    DELETE FROM Posts WHERE Status = ?;\n\nIt clears the stuck ones.",
            False,
            False,
        ),
        (
            "a question mark in a tab-indented code block",
            "Try:\n\n\tSELECT * FROM x WHERE y = ?",
            False,
            False,
        ),
        (
            "a question in an indented block after a list item",
            "1. Open the System Console\n\n    Does the Save button show?",
            True,
            False,
        ),
        # Markdown writes "<br>" for a line break (in a table's cell above all): it makes no HTML body.
        (
            "a question mark in indented code below a table with a <br>",
            "| Setting | Value |\n|---|---|\n| SiteURL | one<br>two |\n\nRun this:\n\n"
            "    DELETE FROM Posts WHERE Status = ?;",
            False,
            False,
        ),
        (
            "a question mark in indented code below a line broken with <br/>",
            "Checked the config<br/>and the proxy.\n\nThen run:\n\n\tSELECT * FROM x WHERE y = ?",
            False,
            False,
        ),
        (
            "a question indented in an HTML body with a <br>",
            "<p>Open it<br>then save</p>\n\n    <p>Which version are you on?</p>",
            True,
            False,
        ),
        (
            "a question indented in an HTML body",
            "<ul>\n<li>Open it</li>\n</ul>\n\n    <p>Which version are you on?</p>",
            True,
            False,
        ),
        ("ask phrase, no question mark", "Could you share the server logs.", True, False),
        # Chinese and Japanese write no spaces: an ask phrase stands between other words.
        ("a Chinese request, no question mark", "麻烦提供一下具体日志", True, False),
        ("a Chinese request in a sentence", "你好，请提供服务器日志。", True, False),
        ("a Japanese request", "サーバーのログを共有してください。", True, False),
        ("a Chinese statement of what was given", "我已经提供了日志。", False, False),
        # "请" ends another word in "申请" (apply): no "please provide" there.
        ("a Chinese statement of applying to provide", "我们已经申请提供日志的权限了。", False, False),
        ("the same in traditional characters", "我們已經申請提供日誌的權限了。", False, False),
        ("a Chinese request after another word", "麻烦请提供一下日志", True, False),
        ("question only inside a quote", "> Does it work?\nIt does for me.", False, False),
        ("says it worked", "That worked, thank you!", False, True),
        ("says solved but asks more", "Solved, but why did it break?", True, False),
        ("plain statement", "Here are my logs.", False, False),
        ("an order to send them", "Send me the logs.", True, False),
        ("an order to send them to the team", "Please DM me the config, or send us the output.", True, False),
        (
            "the replier telling of what was sent",
            "He sent me the logs yesterday, nothing in them.",
            False,
            False,
        ),
        # A request to be sent something asks; the same words telling of what happens do not.
        ("a request after the case it is for", "If it comes back, send me the logs.", True, False),
        ("a request after a mention", "@alice send us the config", True, False),
        ("a request to share with the replier", "Please share the output with me.", True, False),
        (
            "a service that sends the replier nothing",
            "Same for us: the push proxy doesn't send us anything since 10.5.",
            False,
            False,
        ),
        ("what a bot will send the replier", "The bot will email me when it is released.", False, False),
        ("what a setting also sends the replier", "It would also send us a mail each time.", False, False),
        ("a request the author may follow", "You can also DM me the config.", True, False),
        ("the replier looking at logs", "Let me have a look at the logs.", False, False),
        # A question typed without its "?": asking whether the reader did, can or will do something,
        # at a sentence's start; the same words telling what they can do do not ask.
        ("a question without its mark", "did u run the req file", True, False),
        (
            "asked to try, steps after",
            "Can you try doing\n1. Open a shell\n2. Run the installer again",
            True,
            False,
        ),
        ("after a greeting and a mention", "Hi @ann, have you checked the port", True, False),
        ("in a later sentence", "Thanks for the log. Could you run it once more with debug on", True, False),
        ("what the reader can do", "You can try restarting the server.", False, False),
        ("what the reader did", "The service restarts the way you did it.", False, False),
        ("what they could do", "What you could do is restart it.", False, False),
        # Told to send something, at a sentence's start; the same verbs telling what happens do not ask.
        # After a greeting with the author's name, on the next line: still the sentence's start.
        (
            "asked after a greeting with a name",
            "Hi Joe,\nCould you attach the ErrorLog.txt from the programs folder.",
            True,
            False,
        ),
        ("told after a greeting with a name", "Hello Maria, send the crash log", True, False),
        ("a greeting, then telling", "Hi Joe, you could attach it next time, it is fixed now.", False, False),
        ("told to send", "Send the Crashlog", True, False),
        ("told to upload, in a later sentence", "Thanks. Upload a screenshot of the error", True, False),
        ("what the app sends", "It sends a mail each time the job fails.", False, False),
        ("what the author sent", "Sending the logs did not help.", False, False),
        # A tip and the steps of an answer ask nothing: told to send no evidence, asked whether one knows.
        ("a tip", "Did you know you can set it: go to System Console > Plugins.", False, False),
        ("asked what they know", "Do you know if it happens on mobile too", True, False),
        (
            "a step: upload a plugin",
            "Upload a new version of the plugin from the System Console.",
            False,
            False,
        ),
        ("a step: send a test", "Send a test message to confirm the webhook works.", False, False),
        ("a step: share a link", "Share the link with your team to invite them.", False, False),
        ("a step after a colon", "Fixed in 9.2: attach a debugger to see more.", False, False),
        ("told to share the output", "Please share the full mmctl output", True, False),
        # Saying what the replier needs to help asks for it; more information they give does not.
        (
            "needing more information, listed",
            "The report is too sparse. We would need more information, for example:\n- the version\n- the crash log",
            True,
            False,
        ),
        ("more information given", "More information on the release is in the changelog.", False, False),
        # A courtesy to come back only if a fix fails asks nothing now; "let me know if" asking for
        # something, or with a "?", still asks.
        (
            "come back if it is not fixed",
            "Fixed in master, please let us know if it isn't.",
            False,
            False,
        ),
        (
            "come back if you think it is not",
            "Closing.\nLet me know if you think its not fixed.",
            False,
            False,
        ),
        (
            "come back if it still happens",
            "Fixed in 2.1. Let me know if it still happens after the update",
            False,
            False,
        ),
        ("let me know what you can reproduce", "Let me know if you can reproduce it on 2.1", True, False),
        (
            "let me know, then a request",
            "Let us know if it is not fixed. Also, which version do you run?",
            True,
            False,
        ),
        ("let us know the version", "Please let us know the version you run.", True, False),
        # How it runs now in everyday words, and the author closing the post, say it is solved.
        ("working fine since", "It's working fine since the restart.", False, True),
        (
            "works well, loosely written",
            "Thanks so much, i've used 1.0.4 a long time, it also work well.",
            False,
            True,
        ),
        ("closing it", "Working on 1.5.1, closing the issue, thanks for the fast response.", False, True),
        # Said in a figure of speech, as the problem put right, or as leave to close the post.
        ("works like a charm", "Nope. Works like a charm.", False, True),
        ("got it sorted", "3 hours with no problems. Looks like you got it sorted out! :+1:", False, True),
        ("right to close", "I just missed the change. You were right to close.", False, True),
        ("free to close", "Updated and the sync is back, feel free to close it.", False, True),
        ("not sorted yet", "We haven't got it sorted yet.", False, False),
        ("a charm until", "It worked like a charm until the 2.3 update.", False, False),
        ("closing the app, set against", "You can close the dialog but the app still crashes.", False, False),
        ("not working well", "The fix doesn't work well with two monitors.", False, False),
        ("closing something else", "Closing the app makes it crash.", False, False),
        # What works set against what fails in the next sentence, or on the next line, is no solution.
        ("works, however next", "It works fine. However, the mobile app still crashes.", False, False),
        # A later sentence telling what still fails, with no contrast word; how it was is no failure now.
        (
            "works, a later sentence still fails",
            "It works fine on desktop. The mobile app still crashes.",
            False,
            False,
        ),
        ("worked, still the error", "That worked! Still getting the error on mobile", False, False),
        ("works, another part not working", "It works now. The export is not working.", False, False),
        ("works, how it was before", "It works now. It did not work before the restart.", False, True),
        ("works, still thanks", "Works now. Still, thanks for the help!", False, True),
        ("works, but on the next line", "It works!\nBut the export still fails", False, False),
        ("works, thanks next", "It works now.\nThanks a lot", False, True),
        ("works, then something else", "Thanks, it works. Else I would have been stuck.", False, True),
        # Thanks, or how little it took, set against nothing that fails.
        ("works, but thanks", "It works now, but thanks anyway", False, True),
        ("thanks though", "Thanks though, it works now.", False, True),
        ("works, but thanks next", "Solved it myself. But thank you for looking!", False, True),
        ("works, only had to", "works fine now, only had to restart", False, True),
        ("works, only one thing fails", "Works fine now, only the export fails.", False, False),
        # Saying it is not solved is not saying it is.
        ("not solved", "Unfortunately that has not solved it, the same users are skipped.", False, False),
        ("not resolved yet", "It's not resolved yet.", False, False),
        ("never worked", "It never worked after the change.", False, False),
        ("a negation in another sentence", "Not sure why. It works now.", False, True),
        ("a negation before a comma", "Not the proxy after all, it works now", False, True),
        # What works set against what does not, or how it was, reports more of the problem.
        ("works with one, not another", "It works fine with Chrome but not with Firefox.", False, False),
        ("works on one version, fails on the next", "Works fine on 1.4 but fails on 1.5", False, False),
        ("everything else works", "Everything else works fine, only the export fails.", False, False),
        ("how it used to work", "It used to work fine in 10.4.", False, False),
        ("how it was working", "It was working fine until yesterday.", False, False),
        (
            "an old contrast in another sentence",
            "The upload failed but I updated. It works now.",
            False,
            True,
        ),
        (
            "solved with a version in the sentence",
            "Updated to 1.5.1 and it works fine now, thanks!",
            False,
            True,
        ),
    ],
)
def test_asks_and_solved(case: str, text: str, asks: bool, solved: bool) -> None:
    assert asks_the_author(text, RESPONSES) is asks, case
    assert says_it_is_solved(text, RESPONSES) is solved, case


def test_substantive_replies_drop_bots_me_too_and_later_replies_keep_the_author() -> None:
    item = post(
        replies=(
            answer("bob", at=ago(days=2)),
            reply("carol", at=ago(days=2), body="+1"),
            answer("ci[bot]", at=ago(days=1)),
            answer("alice", at=ago(hours=5)),
            answer("dave", at=T + timedelta(hours=1)),
        )
    )
    assert [r.author for r in substantive_replies(item, ROSTER, SETTINGS, T)] == ["bob", "alice"]


ASK = "Could you share the output of mmctl system version?"
GAVE = "Here it is: 11.1.0, on Ubuntu 24.04 behind nginx."

STATE_CASES: list[tuple[str, Post, AnswerState]] = [
    ("no replies", post(), "unanswered"),
    ("only the author replied", post(replies=(answer("alice", at=ago(days=1)),)), "unanswered"),
    ("only a me-too by someone else", post(replies=(reply("bob", at=ago(days=1), body="+1"),)), "unanswered"),
    ("only a bot replied", post(replies=(answer("ci[bot]", at=ago(days=1)),)), "unanswered"),
    ("the answer came after T", post(replies=(answer("bob", at=T + timedelta(minutes=1)),)), "unanswered"),
    ("someone answered", post(replies=(answer("bob", at=ago(days=1)),)), "answered"),
    (
        "staff asked the author something",
        post(replies=(answer("staffer", at=ago(days=1), body=ASK),)),
        "waiting_on_reporter",
    ),
    (
        "someone asked with a question mark",
        post(replies=(answer("bob", at=ago(days=1), body="Which version?"),)),
        "waiting_on_reporter",
    ),
    (
        "staff asked with a full-width question mark",
        post(replies=(answer("staffer", at=ago(days=1), body="请问你用的是哪个版本？"),)),
        "waiting_on_reporter",
    ),
    ("an answer exactly at T", post(replies=(answer("bob", at=T),)), "answered"),
    (
        "the author gave what was asked",
        post(
            replies=(answer("staffer", at=ago(days=2), body=ASK), answer("alice", at=ago(days=1), body=GAVE))
        ),
        "waiting_on_us",
    ),
    (
        "the author's reply came after T",
        post(
            replies=(
                answer("staffer", at=ago(days=2), body=ASK),
                answer("alice", at=T + timedelta(hours=1), body=GAVE),
            )
        ),
        "waiting_on_reporter",
    ),
    (
        "the author gave what was asked as a pasted log alone",
        post(
            replies=(
                answer("staffer", at=ago(days=2), body=ASK),
                answer(
                    "alice",
                    at=ago(days=1),
                    body="```\nERROR: dial tcp 10.0.0.5:5432: connection refused\n```",
                ),
            )
        ),
        "waiting_on_us",
    ),
    (
        "the author's me-too after the question is ignored",
        post(
            replies=(answer("staffer", at=ago(days=2), body=ASK), reply("alice", at=ago(days=1), body="bump"))
        ),
        "waiting_on_reporter",
    ),
    (
        "the author says it worked",
        post(
            replies=(
                answer("bob", at=ago(days=2)),
                answer("alice", at=ago(days=1), body="That worked, thanks!"),
            )
        ),
        "answered",
    ),
    (
        "the author says solved but asks more",
        post(
            replies=(
                answer("bob", at=ago(days=2)),
                answer("alice", at=ago(days=1), body="Solved, but will it come back after an upgrade?"),
            )
        ),
        "waiting_on_us",
    ),
    (
        "someone answered the author's follow-up",
        post(
            replies=(
                answer("staffer", at=ago(days=3), body=ASK),
                answer("alice", at=ago(days=2), body=GAVE),
                answer("staffer", at=ago(days=1)),
            )
        ),
        "answered",
    ),
    (
        "closed before T",
        post(state="closed", closed_at=ago(days=1)),
        "answered",
    ),
    (
        "closed after T",
        post(state="closed", closed_at=T + timedelta(days=1)),
        "unanswered",
    ),
    ("accepted answer before T", post(channel="stackoverflow", accepted_at=ago(days=1)), "answered"),
    (
        "accepted answer after T",
        post(channel="stackoverflow", accepted_at=T + timedelta(days=1)),
        "unanswered",
    ),
    (
        "the author says it is not solved",
        post(
            replies=(
                answer("bob", at=ago(days=2)),
                answer("alice", at=ago(days=1), body="Sadly that has not solved it."),
            )
        ),
        "waiting_on_us",
    ),
    # GitHub shows every deleted account as "ghost": the author's own follow-up is no response.
    (
        "a deleted author's follow-up under the deleted name",
        post(author="ghost", replies=(answer("ghost", at=ago(days=1), body="Forgot: server 11.1."),)),
        "unanswered",
    ),
    (
        "a deleted author's post answered by someone",
        post(author="ghost", replies=(answer("bob", at=ago(days=1)),)),
        "answered",
    ),
    (
        "Discourse solution by the author",
        post(channel="forum", accepted_at=ago(days=1), replies=(answer("alice", at=ago(days=1)),)),
        "answered",
    ),
    # A question put to another helper by name ("@bob why not …?") asks them, not the author; one that
    # names the author too, or only the author, asks the author.
    (
        "the latest reply asks another helper",
        post(
            replies=(
                answer("bob", at=ago(days=2)),
                reply("carol", at=ago(days=1), body="@bob why not the payload= form instead?"),
            )
        ),
        "answered",
    ),
    (
        "the latest reply asks the author by name",
        post(
            replies=(
                answer("bob", at=ago(days=2)),
                reply("carol", at=ago(days=1), body="@alice did that help?"),
            )
        ),
        "waiting_on_reporter",
    ),
    (
        "the latest reply names a helper, then asks the author",
        post(
            replies=(
                answer("bob", at=ago(days=2)),
                reply("carol", at=ago(days=1), body="@bob thanks! @alice, does it work now?"),
            )
        ),
        "waiting_on_reporter",
    ),
    # Stack Overflow mentions a display name without its spaces, or its first letters (three at least).
    (
        "the author mentioned by a display name's first letters",
        post(
            channel="stackoverflow",
            author="Alice Smith",
            replies=(
                answer("bob", at=ago(days=2)),
                reply("carol", at=ago(days=1), body="@AliceS which version?"),
            ),
        ),
        "waiting_on_reporter",
    ),
    (
        "a question to a helper that only names itself",
        post(replies=(reply("carol", at=ago(days=1), body="@bob can you look at this one?"),)),
        "answered",
    ),
    # Staff handing the post to a colleague asks the author nothing and answers nothing: the post still
    # waits on the team. Staff asking a community helper, or naming the author too, does not hand it on.
    (
        "staff hand the post to a colleague on the roster",
        post(
            replies=(
                reply(
                    "maintainer",
                    at=ago(days=1),
                    author_platform_staff=True,
                    body="@staffer can you look at this one?",
                ),
            )
        ),
        "waiting_on_us",
    ),
    (
        "staff hand the post to a colleague the platform marks as staff",
        post(
            replies=(
                answer("dev", at=ago(days=2), author_platform_staff=True),
                reply("alice", at=ago(days=1, hours=12), body="Still broken after that."),
                reply("staffer", at=ago(days=1), body="@dev, can you take this one? Looks like the proxy."),
            )
        ),
        "waiting_on_us",
    ),
    # Who the platform marks as staff is read as of T: a colleague's first reply after T does not exist
    # yet, so "@dev" is no one known to be staff at T (a backfill reads the thread as its day did).
    (
        "staff name someone the platform marks as staff only after T",
        post(
            replies=(
                reply("staffer", at=ago(days=1), body="@dev, can you take this one? Looks like the proxy."),
                answer("dev", at=T + timedelta(hours=2), author_platform_staff=True),
            )
        ),
        "answered",
    ),
    (
        "staff ask a community helper",
        post(replies=(reply("staffer", at=ago(days=1), body="@bob can you look at this one?"),)),
        "answered",
    ),
    (
        "staff name a colleague and ask the author",
        post(
            replies=(
                reply(
                    "staffer",
                    at=ago(days=1),
                    body="@dev FYI. @alice could you share the server logs meanwhile?",
                ),
                answer("dev", at=ago(days=3), author_platform_staff=True),
            )
        ),
        "waiting_on_reporter",
    ),
]


@pytest.mark.parametrize(("case", "item", "expected"), STATE_CASES)
def test_answer_state(case: str, item: Post, expected: AnswerState) -> None:
    assert answer_state(item, ROSTER, SETTINGS, T) == expected, case


def test_answer_state_depends_on_the_point_in_time() -> None:
    item = post(
        created=ago(days=6),
        replies=(answer("staffer", at=ago(days=4), body=ASK), answer("alice", at=ago(days=2), body=GAVE)),
    )
    assert answer_state(item, ROSTER, SETTINGS, ago(days=5)) == "unanswered"
    assert answer_state(item, ROSTER, SETTINGS, ago(days=3)) == "waiting_on_reporter"
    assert answer_state(item, ROSTER, SETTINGS, T) == "waiting_on_us"


def _topic_with_staff_question(question_at: datetime, reply_at: datetime, reply_body: str = GAVE) -> Post:
    return post(
        channel="forum",
        created=ago(days=20),
        replies=(
            answer("forum.staffer", at=question_at, body="Which version?"),
            answer("alice", at=reply_at, body=reply_body),
        ),
    )


@pytest.mark.parametrize(
    ("case", "item", "section", "joined"),
    [
        (
            "first response: two days after it was posted",
            post(created=ago(days=5)),
            "waiting_for_first_response",
            ago(days=3),
        ),
        (
            "after the release: when it was posted",
            post(channel="forum", created=ago(hours=4)),
            "after_the_release",
            ago(hours=4),
        ),
        (
            "core-team question: when the community replied",
            _topic_with_staff_question(ago(days=6), ago(days=4)),
            "new_reply_to_core_team_question",
            ago(days=4),
        ),
    ],
)
def test_joined_list_at(case: str, item: Post, section: str, joined: datetime) -> None:
    assert joined_list_at(item, section, ROSTER, SETTINGS, T) == joined, case  # type: ignore[arg-type]


def test_the_same_post_shows_its_own_day_at_each_point_in_time() -> None:
    item = post(created=ago(days=10))
    days = [
        day_on_list(joined_list_at(item, "waiting_for_first_response", ROSTER, SETTINGS, at), at)
        for at in (ago(days=8), ago(days=5), T)
    ]
    # Day 1 two days after posting, then one more each day: a backfill at T − 5 days says day 4.
    assert days == [1, 4, 9]


@pytest.mark.parametrize(
    ("case", "joined", "expected"),
    [
        ("joins at T", T, 1),
        ("joined 23 hours ago", ago(hours=23), 1),
        ("joined exactly a day ago", ago(days=1), 2),
        ("joined 6 days 23 hours ago", ago(days=6, hours=23), 7),
    ],
)
def test_day_on_list(case: str, joined: datetime, expected: int) -> None:
    assert day_on_list(joined, T) == expected, case


LADDER = EscalationSection(mention_rotation_day=3, escalate_day=7, last_call_days=3)


@pytest.mark.parametrize(
    ("case", "day", "expected"),
    [
        ("day 1", 1, "listed"),
        ("day 2", 2, "listed"),
        ("mention day", 3, "mention_rotation"),
        ("day before escalation", 6, "mention_rotation"),
        ("escalation day", 7, "escalated"),
        ("long after", 25, "escalated"),
    ],
)
def test_ladder_step(case: str, day: int, expected: LadderStep) -> None:
    assert ladder_step(day, LADDER) == expected, case


@pytest.mark.parametrize(
    ("case", "created", "as_of", "expected"),
    [
        ("ages out in 4 days", ago(days=26), T, False),
        ("ages out in exactly 3 days", ago(days=27), T, True),
        ("ages out in 1 hour", ago(days=29, hours=23), T, True),
        ("the same post three days earlier", ago(days=27), ago(days=3), False),
        ("young post", ago(days=3), T, False),
    ],
)
def test_last_call(case: str, created: datetime, as_of: datetime, expected: bool) -> None:
    assert is_last_call(post(created=created), SETTINGS, as_of) is expected, case


@pytest.mark.parametrize(
    "reply",
    [
        "Thanks!\nOn Mon, Bob wrote:\n> We run Mattermost server 10.5\n",
        "Thanks!\r\nOn Mon, Bob wrote:\r\n> We run Mattermost server 10.5\r\n",
        "Thanks!\r> We run Mattermost server 10.5\r",  # lines ended by CR alone
        "Thanks! [quote]We run Mattermost server 10.5[/quote]",
        "Thanks! <blockquote>We run Mattermost server 10.5</blockquote>",
    ],
)
def test_without_quotes_leaves_out_what_a_reply_quotes_whatever_ends_its_lines(reply: str) -> None:
    """A reply without its quotes (``without_quotes``, read for what the reply itself gives) reads
    its lines as ``own_words`` does: a quote on lines ended by CRLF or CR alone is a quote too."""
    from community_monitoring.answers import without_quotes

    kept = without_quotes(reply)
    assert "10.5" not in kept
    assert kept.startswith("Thanks!")


@pytest.mark.parametrize(
    ("reply", "kept", "dropped"),
    [
        pytest.param(
            "Diff of the About box:\n```\n< Mattermost Version: 10.4.1\n---\n> Mattermost Version: 10.5.2\n```",
            "> Mattermost Version: 10.5.2",
            None,
            id="a diff line in the reply's code block",
        ),
        pytest.param(
            "~~~\n  > mattermost version 10.5\n~~~\nThanks",
            "  > mattermost version 10.5",
            None,
            id="a prompt line, indented, in a tilde block",
        ),
        pytest.param(
            "<pre><code>$ cat out\n&gt; Mattermost 10.5.2\n</code></pre>",
            "&gt; Mattermost 10.5.2",
            None,
            id="a prompt line in an HTML code block",
        ),
        pytest.param(
            "```\nlog\n```\n> We run Mattermost server 10.5\nThanks",
            "```\nlog\n```",
            "10.5",
            id="a quote after the reply's code block",
        ),
        pytest.param(
            "> ```\n> Mattermost Version: 10.5.2\n> ```\nThanks",
            "Thanks",
            "10.5",
            id="a code block inside a quote",
        ),
        pytest.param(
            "[quote]\n```\n> Mattermost Version: 10.5.2\n```\n[/quote]\nThanks",
            "Thanks",
            "10.5",
            id="a code block inside a bbcode quote",
        ),
        pytest.param(
            "<blockquote><pre>\n&gt; Mattermost 10.5.2\n</pre></blockquote>Thanks",
            "Thanks",
            "10.5",
            id="an HTML code block inside a blockquote",
        ),
    ],
)
def test_without_quotes_reads_a_quote_only_outside_the_replys_code(
    reply: str, kept: str, dropped: str | None
) -> None:
    """A line starting with ">" in the reply's own code block (a shell prompt, a diff) is code and
    stays; a code block inside a quote is quoted and goes."""
    from community_monitoring.answers import without_quotes

    left = without_quotes(reply)
    assert kept in left
    assert dropped is None or dropped not in left


@pytest.mark.parametrize(
    ("case", "text", "found"),
    [
        ("the longest phrase wins", "Same issue here", "same issue"),
        ("a phrase inside a word is none", "the setup fails", None),
        ("a phrase starting with a mark", "+1 from us", "+1"),
        ("a phrase of an unspaced script among other words", "麻烦请提供一下日志", "请提供"),
        ("an unspaced phrase after the word it ends", "申请提供日志的权限", None),
        ("either script in one text", "same 请提供", "same"),
    ],
)
def test_phrase_pattern_finds_the_first_longest_phrase_of_either_script(
    case: str, text: str, found: str | None
) -> None:
    pattern = _phrase_pattern(("same", "same issue", "up", "+1", "请提供"))
    assert pattern is not None
    match = pattern.search(text)
    assert (match[0].lower() if match else None) == found, case
