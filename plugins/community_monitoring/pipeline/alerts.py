"""The failure alert: the CM hears once per run that it failed, and why, and once more for each post
task that failed (SPEC §6, README "Failures")."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

# Whoever triggered a run with a bad param sees it fail in the UI (or the REST answer): the CM
# need not. Bad settings or rosters are different: a scheduled digest silently not going out is
# exactly what the CM must hear about.
NO_ALERT_ERRORS = ("ParamError",)
TRIAGE_MODEL_DAG = "community_triage_model"  # pipeline.triage_model.DAG_ID, which imports the models
DAILY_DAG = "community_daily_monitoring"
CLOSEOUT_DAG = "community_release_closeout"  # pipeline.closeout plans nothing without every channel
# The tasks that post a message or write upstream (post_help_wanted_digest, post_thank_yous, …).
POST_TASK_PREFIX = "post_"


def alert_text(dag_id: str, as_of: Any, task_id: str, attempts: int, run_id: str, reason: str) -> str:
    from community_monitoring.safety import cap_length, safe_text, single_line

    # In a code span Markdown escapes show as they are, and nothing pings: the run id is shown
    # exactly, as `airflow tasks clear` takes it (only a backtick could end the span).
    shown_run_id = cap_length(single_line(run_id).replace("`", "'"), 120)
    text = (
        f"[Alert] {dag_id} as of {as_of:%Y-%m-%d %H:%M UTC}: task `{task_id}` failed "
        f"after {max(attempts, 1)} attempt(s) (run `{shown_run_id}`).\n{safe_text(reason, 600)}"
    )
    if task_id.startswith("extract_"):
        from community_monitoring.channels import named

        channel = named(task_id.removeprefix("extract_"))
        if dag_id == TRIAGE_MODEL_DAG:  # it sends no digests
            text += (
                f"\nThis run trains the model without {channel}, and without every other channel that"
                " could not be read (this alert names the first failure only)."
            )
        elif dag_id == CLOSEOUT_DAG:  # it cannot plan without a channel: no summary goes out
            text += (
                f"\nThe closeout cannot be planned without {channel}: nobody was thanked, the tracking"
                " sheet was not updated and no summary was posted. Trigger the closeout again once"
                f" {channel} answers."
            )
        else:
            text += (
                f"\nThe digests of this run say that {channel} is missing, with every"
                " other channel that could not be read (this alert names the first failure only)."
            )
            if dag_id == DAILY_DAG:
                text += (
                    f" Once {channel} answers again, the next day's run sends this day's posts there"
                    " in a [Triage] catching up on it; clear this run to send them sooner."
                )
    return text


def alert_on_task_failure(context: Mapping[str, Any]) -> None:
    """Tell the CM that a run failed: the first task that failed for good (after its retries), and
    every post that may or may not have arrived or was not made.

    Runs as the tasks' ``on_failure_callback``; it never raises, so a broken alert channel cannot
    hide the task's own error.
    """
    try:
        from community_monitoring.errors import UncertainDelivery
        from community_monitoring.pipeline.run import alert_outbox, facts_from_context

        error = context.get("exception")
        reason = f"{type(error).__name__}: {error}" if error else "see the task log"
        if any(name in reason for name in NO_ALERT_ERRORS):
            log.info("Bad param (%s): no alert; whoever triggered the run sees it", reason)
            return
        ti = context["ti"]
        facts = facts_from_context(context)
        text = alert_text(
            facts.dag_id, facts.as_of, ti.task_id, int(getattr(ti, "try_number", 1)), facts.run_id, reason
        )
        # A post that may or may not have arrived is named whatever else failed first (SPEC §6):
        # its alert is its own, once per task.
        # The task wrapper raises it as the cause of an AirflowFailException (no retries).
        uncertain = isinstance(error, UncertainDelivery) or isinstance(
            getattr(error, "__cause__", None), UncertainDelivery
        )
        # So is a message or write that failed for good (a hook answering 403, a refused
        # thank-you): no digest says it is missing, so only this alert tells the CM.
        if uncertain:
            about = f"uncertain:{ti.task_id}"
        elif ti.task_id.startswith(POST_TASK_PREFIX):
            about = f"not-sent:{ti.task_id}"
        else:
            about = ""
        alert_outbox(facts).alert(text, about)
    except Exception:  # an alert must never mask the failure it reports
        log.exception("Could not send the failure alert")
