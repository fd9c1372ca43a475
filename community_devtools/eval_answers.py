"""``python -m community_devtools.eval_answers FILE``: how often the answer state agrees with a person's.

``python -m community_devtools.eval_answers FILE [--half odd|even] [--errors]`` reads labelled threads
(JSON lines), decides each one's answer state (SPEC §4 "Answer state") as of just after its last
reply, and prints the agreement, each state's precision and recall, and a confusion table (rows: the
label; columns: what the product said). ``--errors`` lists each disagreement with the first 120
characters of the reply that decided it (the latest substantive one; none when no reply counted).
``--half odd`` or ``--half even`` keeps the odd or even lines only: fixes are drawn from one half
and measured on the other.

One thread a line: ``{"id", "channel", "author", "replies": [{"author", "created_at", "body",
"maintainer"}], "label"}``, ``label`` one of the four states, ``maintainer`` whether the platform
says the replier is the project's (GitHub ``author_association`` OWNER or MEMBER): they are the
thread's staff. Every thread is taken as open, so that its replies alone decide.

Real threads are not kept in the repository (their text is their authors'): write them to a file
outside it. A first set (77 GitHub issues of 77 repositories, 2014–2026, 1–6 replies each: 52
answered, 11 unanswered, 11 waiting on the reporter, 3 waiting on us; labelled before the product
was run) agreed 74.0% blind (odd lines 74.4%, even lines 73.7%). From the errors of its odd lines
only: a question typed without its "?" at a sentence's start ("did u run …", "Can you try doing …"),
telling the reporter to send something ("Send the crash log"), needing more information, keyboard
faces alone ("D:") and the author saying it works fine or well, or closing their own post, are read
as such. The odd lines went to 92.3%, the even lines, held out, to 76.3% (one author's "it's working
fine" gained), the set to 84.4%. Left: chatter from passers-by that has words but answers nothing
(a joke, sympathy, a correction of the title: 4 threads), a closing courtesy read as a question ("let
me know if it's not fixed", a rhetorical "Try again?": 2), the author's thanks or apology worded
without a resolution phrase (3), questions put to another commenter, not the author (2), and a
request in Chinese without a mark (1). A second blind set (nl38: 101 GitHub issues of 98 other
repositories, 2014–2026, 1–6 replies each: 70 answered, 11 unanswered, 15 waiting on the reporter, 5
waiting on us) agreed 76.2% blind after the first set's fixes, and 81.2% after fixes only for classes
seen in both sets (a courtesy to come back if a fix fails, an author's solved in other words, an ask
without its mark after a greeting with a name, a me-too asking for the fix), the first set then 88.3%.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, get_args

from community_devtools.eval_triage import load_jsonl, read_labelled
from community_monitoring.answers import AnswerState, answer_state, substantive_replies
from community_monitoring.records import Post, Reply
from community_monitoring.roster import StaffRoster
from community_monitoring.settings import Settings, load_settings

STATES: tuple[str, ...] = get_args(AnswerState)
SHORT = {
    "unanswered": "unans",
    "waiting_on_reporter": "on-rep",
    "waiting_on_us": "on-us",
    "answered": "answd",
}
# A post's creation time where the line gives none: this long before its first reply.
_BEFORE_FIRST_REPLY = timedelta(days=1)
_JUST_AFTER = timedelta(seconds=1)
_EXCERPT = 120


@dataclass(frozen=True)
class Thread:
    line: int
    id: str
    label: str
    post: Post
    roster: StaffRoster

    @property
    def as_of(self) -> datetime:
        """Just after the last reply (just after the post where it has none)."""
        times = [reply.created_at for reply in self.post.replies] or [self.post.created_at]
        return max(times) + _JUST_AFTER


@dataclass(frozen=True)
class Outcome:
    thread: Thread
    predicted: str
    # The first characters of the reply that decided (the latest substantive one), "" where none did.
    deciding: str

    @property
    def agrees(self) -> bool:
        return self.predicted == self.thread.label


def _time(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no offset")
    return moment


def thread_from_dict(data: dict[str, Any], line: int) -> Thread:
    """The post and its staff (the maintainers among its repliers) of one labelled line."""
    label = str(data["label"])
    if label not in STATES:
        raise ValueError(f"label {label!r} is not one of {', '.join(STATES)}")
    channel = str(data.get("channel") or "github")
    ident = str(data.get("id") or f"line-{line}")
    replies = tuple(
        Reply(
            reply_id=f"{ident}#{index}",
            author=str(reply["author"]),
            created_at=_time(reply["created_at"]),
            body=str(reply.get("body") or ""),
            author_platform_staff=bool(reply.get("maintainer")),
        )
        for index, reply in enumerate(data.get("replies") or ())
    )
    if "created_at" in data:
        created = _time(data["created_at"])
    elif replies:
        created = min(reply.created_at for reply in replies) - _BEFORE_FIRST_REPLY
    else:
        raise ValueError("a thread without replies needs its own 'created_at'")
    post = Post(
        channel=channel,
        source_id=ident,
        url=f"https://eval.invalid/{ident}",
        title=str(data.get("title") or ""),
        author=str(data["author"]),
        created_at=created,
        body=str(data.get("body") or ""),
        replies=replies,
    )
    maintainers = sorted({r.author for r in replies if r.author_platform_staff})
    return Thread(line, ident, label, post, StaffRoster.parse({channel: maintainers}))


def load_threads(path: Path) -> list[Thread]:
    return load_jsonl(path, thread_from_dict)


def in_half(thread: Thread, half: str) -> bool:
    """``half``: "odd" or "even" lines of the file, "" for every line."""
    return not half or (thread.line % 2 == 1) == (half == "odd")


def decide(thread: Thread, settings: Settings) -> Outcome:
    as_of = thread.as_of
    replies = substantive_replies(thread.post, thread.roster, settings, as_of)
    state = answer_state(thread.post, thread.roster, settings, as_of, replies)
    deciding = " ".join(replies[-1].body.split())[:_EXCERPT] if replies else ""
    return Outcome(thread, state, deciding)


def precision_recall(outcomes: Sequence[Outcome], state: str) -> tuple[float, float, int]:
    hits = sum(1 for o in outcomes if o.predicted == state == o.thread.label)
    said = sum(1 for o in outcomes if o.predicted == state)
    support = sum(1 for o in outcomes if o.thread.label == state)
    return (hits / said if said else 0.0, hits / support if support else 0.0, support)


def print_report(outcomes: Sequence[Outcome], name: str, out: TextIO, errors: bool = False) -> None:
    agreeing = sum(1 for o in outcomes if o.agrees)
    total = len(outcomes)
    print(f"== {name}: {total} threads ==", file=out)
    print(f"agreement {agreeing / total if total else 0.0:6.1%}  ({agreeing}/{total})", file=out)
    print(f"{'state':20s} {'precision':>9s} {'recall':>7s} {'support':>7s}", file=out)
    for state in STATES:
        precision, recall, support = precision_recall(outcomes, state)
        print(f"{state:20s} {precision:9.1%} {recall:7.1%} {support:7d}", file=out)
    matrix = Counter((o.thread.label, o.predicted) for o in outcomes)
    print("confusion (rows: label, columns: product)", file=out)
    print(f"{'':20s}" + "".join(f"{SHORT[s]:>8s}" for s in STATES), file=out)
    for label in STATES:
        print(f"{label:20s}" + "".join(f"{matrix[(label, s)]:8d}" for s in STATES), file=out)
    if errors:
        for o in outcomes:
            if not o.agrees:
                print(
                    f"  line {o.thread.line:3d} {o.thread.id}: {o.thread.label} -> {o.predicted} | {o.deciding}",
                    file=out,
                )
    print(file=out)


def evaluate(threads: Iterable[Thread], settings: Settings) -> list[Outcome]:
    return [decide(thread, settings) for thread in threads]


def run(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("data", type=Path, help="labelled threads, JSON lines")
    parser.add_argument("--half", choices=("odd", "even"), default="", help="only the odd or even lines")
    parser.add_argument("--errors", action="store_true", help="list every thread the product got wrong")
    args = parser.parse_args(argv)
    threads = [t for t in read_labelled(args.data, load_threads, "threads") if in_half(t, args.half)]
    if not threads:
        return 2
    name = f"{args.half} lines" if args.half else "whole set"
    print(f"Answer states against {args.data.name}\n", file=out)
    print_report(evaluate(threads, load_settings()), name, out, args.errors)
    return 0


def main() -> None:
    raise SystemExit(run())


if __name__ == "__main__":
    main()
