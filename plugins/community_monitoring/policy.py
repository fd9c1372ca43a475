"""What a run may change in the world, decided in one place (SPEC §6).

Backfill runs recompute the past: they archive their digests and post them only when asked
(``post_backfill_digests``), and never write upstream nor rewrite the tracking sheet with old data. A dry run
(release closeout) posts its plan and changes nothing upstream. Writes that need channels a run
could not read (a status proposed from missing Jira tickets) are not made.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class WritePolicy:
    post_messages: bool
    write_upstream: bool
    update_sheet: bool
    # Why something is not allowed, for the task log.
    reason: str = ""

    def needing(self, channels: Iterable[str], missing: Iterable[str]) -> WritePolicy:
        """The policy for writes computed from ``channels``: none of them when one was not read."""
        lacking = sorted(set(channels) & set(missing))
        if not lacking:
            return self
        return replace(
            self,
            write_upstream=False,
            update_sheet=False,
            reason=f"{', '.join(lacking)} could not be read in this run",
        )


def decide_write_policy(
    run_type: str, post_backfill_digests: bool = False, dry_run: bool = False
) -> WritePolicy:
    backfill = run_type == "backfill"
    post = not backfill or post_backfill_digests
    reasons = []
    if backfill:
        reasons.append(
            "backfill run (digests archived" + (", and posted)" if post_backfill_digests else ", not posted)")
        )
    if dry_run:
        reasons.append("dry run")
    return WritePolicy(
        post_messages=post,
        # Upstream writes are decided from T's data: replaying the past must not reply to a post
        # answered since, or set a status that has moved on.
        write_upstream=not backfill and not dry_run,
        update_sheet=not backfill and not dry_run,
        reason="; ".join(reasons),
    )
