"""What keeps a page request cheap at 100,000 posts a day: results built once, then sliced.

The bench times the product's runs against the sandbox, so the sandbox's own time per request is
part of the figures. A list endpoint that filtered and sorted its whole dataset on every page made
a full read quadratic. Services now sort once per dataset (lazily, when a query first needs an
order, with the sort keys parsed once) and keep the list a query built in a ``ResultCache`` until
their data changes: each further page is a slice. Every write that changes what a list holds or
how it sorts clears the service's caches.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

# About 16 MB of list slots: a few full copies of the largest synthetic dataset's order.
DEFAULT_BUDGET = 2_000_000
# Enough for the queries of a run; a client reading one list per issue just cycles through it.
MAX_QUERIES = 4096
# Objects a build must leave behind for its end to be worth one full collection (a scenario of
# 10k posts a day loads about 110k, one of 100k about 1.1 million; a test's, about 10k).
SETTLE_AFTER = 100_000


@contextmanager
def bulk_build() -> Iterator[None]:
    """Build a large dataset with the cycle collector paused, then settle it in one collection.

    Loading 100k posts a day makes millions of objects that live as long as the sandbox and hold
    no reference cycles. With the collector on, each of its passes during the build walked
    everything built so far: seconds of the start went there. Paused, a large build is collected
    once at its end, so that the first requests do not pay for it instead; a small one (a test's
    scenario) is not, as a full pass over a whole test process would cost more than it saves.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        built = gc.get_count()[0]
        gc.enable()
        if built > SETTLE_AFTER:
            gc.collect()


class ResultCache:
    """Lists built for a query (the key: every parameter but the page), until ``clear``.

    Bounded by the items and the queries it holds, oldest query out first, so a client asking
    many different queries (one per issue, say) cannot grow it without limit.
    """

    def __init__(self, budget: int = DEFAULT_BUDGET, max_queries: int = MAX_QUERIES) -> None:
        self.budget = budget
        self.max_queries = max_queries
        self._lists: dict[Hashable, list[Any]] = {}
        self._held = 0

    def get(self, key: Hashable, build: Callable[[], list[T]]) -> list[T]:
        found = self._lists.get(key)
        if found is None:
            found = build()
            self._lists[key] = found
            self._held += len(found) + 1
            while len(self._lists) > 1 and (self._held > self.budget or len(self._lists) > self.max_queries):
                oldest = next(iter(self._lists))
                self._held -= len(self._lists.pop(oldest)) + 1
        return found

    def clear(self) -> None:
        self._lists.clear()
        self._held = 0
