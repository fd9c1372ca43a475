"""Every ledger key, built here and only here (SPEC §6: each notification has one key).

A key says what was sent, so the same thing is never sent twice whichever run or retry tries:
a digest is (DAG, kind, T); an upstream reply is the post; a status change is (suggestion,
status); a thank-you is (suggestion, version).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from community_monitoring.versions import normalise_version


def digest_key(dag_id: str, kind: str, as_of: datetime) -> str:
    return f"{dag_id}:{kind}:{as_of.isoformat()}"


def alert_key(dag_id: str, as_of: datetime) -> str:
    """One alert per run and T: the first task to fail for good tells the CM."""
    return digest_key(dag_id, "alert", as_of)


def reply_key(channel: str, source_id: str) -> str:
    """A post gets at most one reply draft upstream, ever, whatever run sends it."""
    return f"reply:{channel}:{source_id}"


def reply_marker(key: str) -> str:
    """The hidden line an upstream reply carries, so a resend can first look for it (SPEC §6).

    GitHub and GitLab render an HTML comment as nothing; the key inside names the post replied to.
    """
    return f"<!-- community-monitoring:{key} -->"


def status_key(suggestion_id: int | str, status: str) -> str:
    return f"uservoice_status:{suggestion_id}:{status}"


def thank_key(suggestion_id: int | str, version: str) -> str:
    return f"release_closeout:thank:{suggestion_id}:{normalise_version(version)}"


def closeout_summary_key(
    dag_id: str, version: str, thanked_ids: Iterable[int | str], dry_run_id: str | None = None
) -> str:
    """A dry run's plan is shown on every dry run; a real summary once per set of people thanked."""
    base = f"{dag_id}:release_closeout:{normalise_version(version)}"
    if dry_run_id is not None:
        return f"{base}:dry-run:{dry_run_id}"
    ids = ",".join(sorted(str(i) for i in thanked_ids))
    return f"{base}:{hashlib.sha256(ids.encode()).hexdigest()[:16]}"
