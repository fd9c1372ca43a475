"""The failure alert: the CM hears once per run that it failed, and why (SPEC §6, README "Failures")."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

# Someone typed something wrong (settings, roster, param): the run shows red where they typed
# it, and nothing at all is sent, not even an alert.
BAD_INPUT_NAMES = ("SettingsError", "RosterError", "ParamError", "AirflowNotFoundException")


def alert_text(dag_id: str, as_of: Any, task_id: str, attempts: int, run_id: str, reason: str) -> str:
    from community_monitoring.safety import safe_text

    text = (
        f"[Alert] {dag_id} as of {as_of:%Y-%m-%d %H:%M UTC}: task `{task_id}` failed "
        f"after {max(attempts, 1)} attempt(s) (run `{safe_text(run_id, 120)}`).\n{safe_text(reason, 600)}"
    )
    if task_id.startswith("extract_"):
        text += f"\nThe digests of this run say that {task_id.removeprefix('extract_')} is missing."
    return text


def alert_on_task_failure(context: Mapping[str, Any]) -> None:
    """Tell the CM that a run failed: the first task that failed for good (after its retries).

    Runs as the tasks' ``on_failure_callback``; it never raises, so a broken alert channel cannot
    hide the task's own error.
    """
    try:
        from community_monitoring.pipeline.run import TaskRun, facts_from_context

        error = context.get("exception")
        reason = f"{type(error).__name__}: {error}" if error else "see the task log"
        if any(name in reason for name in BAD_INPUT_NAMES):
            log.info("Bad input (%s): no alert; the run shows it", reason)
            return
        ti = context["ti"]
        facts = facts_from_context(context)
        run = TaskRun.from_context(context)
        text = alert_text(
            facts.dag_id, facts.as_of, ti.task_id, int(getattr(ti, "try_number", 1)), facts.run_id, reason
        )
        run.outbox.alert(text)
    except Exception:  # an alert must never mask the failure it reports
        log.exception("Could not send the failure alert")
