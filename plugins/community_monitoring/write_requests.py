"""Whether a write's request is out right now, told by the HTTP layer to the ledger (SPEC §6).

The ledger marks a part "in flight" before it sends it, so a worker that dies mid-request leaves
a mark: the part may have arrived and a webhook post is then never re-sent by itself. Between
the attempts of one write, though, nothing is out: an answer that proves the request was not
processed (a 503, a 429, a refused connection) settles it, and the retry's wait is safe to die in.
The HTTP layer reports both moments here; whoever sends (the ledger) listens for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Called with True when a write's request goes out, False when an answer proved it not processed.
_listener: ContextVar[Callable[[bool], None] | None] = ContextVar("write_request_listener", default=None)


@contextmanager
def listening(listener: Callable[[bool], None]) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def request_out() -> None:
    listener = _listener.get()
    if listener is not None:
        listener(True)


def request_not_processed() -> None:
    listener = _listener.get()
    if listener is not None:
        listener(False)
