"""How the DAG files are wired: task defaults, params, and the extract → transform → notify groups.

Every DAG reads left to right: ``extract`` (check the run, then one task per channel),
``transform`` (collect what was read, then decide and render), ``notify`` (post and write, and a
final check that turns the run red when a channel could not be read). T and the settings come
to each task from the Airflow context, never through an XCom edge from one task to all others.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from community_monitoring.channels import CHANNELS
from community_monitoring.pipeline import common
from community_monitoring.pipeline.alerts import alert_on_task_failure


def task_defaults() -> dict[str, Any]:
    """Retries with exponential backoff; the environment may shorten them (tests, demo)."""
    retries = int(os.environ.get("COMMUNITY_TASK_RETRIES", "3"))
    delay = float(os.environ.get("COMMUNITY_RETRY_DELAY_SECONDS", "60"))
    # No task may hang on a stalled upstream: every HTTP call has timeouts too (settings.http).
    timeout = float(os.environ.get("COMMUNITY_TASK_TIMEOUT_MINUTES", "30"))
    return {
        "execution_timeout": timedelta(minutes=timeout),
        "owner": "community",
        "on_failure_callback": alert_on_task_failure,
        "retries": retries,
        "retry_delay": timedelta(seconds=delay),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=max(delay, 1) * 16),
    }


def review_params(what: str) -> dict[str, Any]:
    """The trigger form of a scheduled review DAG: a point in time, for manual runs.

    ``post_backfill_digests`` is no form field (it means nothing for a manual run): a backfill
    that should post sets it in its conf, ``--dag-run-conf '{"post_backfill_digests": true}'``.
    """
    from airflow.sdk import Param

    return {
        "as_of": Param(
            None,
            type=["null", "string"],
            title="As of",
            description=f"Compute the {what} as of this moment, e.g. 2026-11-18T09:00:00Z (UTC if no "
            "offset). Empty: the run's logical date, or the time it was triggered.",
        ),
    }


def extract(
    channels: Sequence[str],
    review: str = "daily",
    extractors: Mapping[str, Callable[..., Any]] | None = None,
    check_run: Callable[..., Any] | None = None,
) -> list[Any]:
    """Inside the ``extract`` group: check the run, then one extract task per channel.

    ``check_run``: a DAG's own check (the closeout's also resolves the release it is for).
    """
    from airflow.sdk import task

    # Bad input fails it at once (``@community_task`` raises AirflowFailException); its retries are
    # for a worker lost or storage that did not answer while it ran.
    check = task(check_run or common.check_run, task_id="check_run")()
    extracts = []
    for key in channels:
        custom = (extractors or {}).get(key)
        extract_task = task(
            custom or common.extract_channel, task_id=f"extract_{key}", pool=CHANNELS[key].pool
        )
        extracts.append(extract_task() if custom else extract_task(key, review))
    check >> extracts
    return extracts


def collect(channels: Sequence[str], extracts: list[Any]) -> Any:
    """First in the ``transform`` group: runs whatever the extracts did, and names what is missing."""
    from airflow.sdk import task

    collected = task(common.collect_channels, task_id="collect_channels", trigger_rule="all_done")(
        list(channels)
    )
    extracts >> collected
    return collected


def verify(collected: Any, without: str = "the digests were sent without them") -> Any:
    """In the ``notify`` group: the run ends red when a channel could not be read.

    A channel not read repeats what the failed extract task already alerted about (or a bad param,
    which is not alerted): no alert for that. Items that could not be read failed no task, so for
    them the check sends the run's alert itself, naming them (``verify_all_channels_read``). What
    was read cannot change by retrying, so that failure is final (AirflowFailException). Its
    retries are for the worker lost, or the run store not answering, while it checked: a run whose
    channels were all read does not end red for that. ``without`` says what the run did without
    them (the triage model DAG sends no digests).
    """
    from airflow.sdk import task

    check = task(
        common.verify_all_channels_read,
        task_id="verify_all_channels_read",
        trigger_rule="all_done",
        on_failure_callback=None,
    )(without)
    collected >> check
    return check


# Task ids operators already know (CLI recipes, alerts): the digests' own names.
POST_TASK_IDS = {"help_wanted": "post_help_wanted_digest", "triage": "post_triage_list"}


def post(kind: str) -> Any:
    """In the ``notify`` group: post a built message once."""
    from airflow.sdk import task

    return task(common.post_message, task_id=POST_TASK_IDS.get(kind, f"post_{kind}"))(kind)


def group(name: str, tooltip: str) -> Any:
    """A TaskGroup whose task ids stay short (``extract_github``, not ``extract.extract_github``)."""
    from airflow.sdk import TaskGroup

    return TaskGroup(name, prefix_group_id=False, tooltip=tooltip)
