"""What a task needs from the run it belongs to: T, the settings, where files go.

Airflow's context is read here and only here, so the rest of the package stays pure.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from community_monitoring.config import ConfigError, MonitoringConfig, load_config
from community_monitoring.records import Post, read_posts, write_posts
from community_monitoring.roster import ROTATION_VARIABLE, STAFF_VARIABLE, Rotation, StaffRoster
from community_monitoring.timeutil import parse_time

log = logging.getLogger(__name__)

SETTINGS_VARIABLE = "community_settings"
P = ParamSpec("P")
R = TypeVar("R")


class ParamError(ValueError):
    """A DAG param is invalid; the message names it."""


def resolve_as_of(
    run_type: str,
    data_interval_end: datetime | None,
    logical_date: datetime | None,
    run_after: datetime | None,
    as_of_param: str | None,
) -> datetime:
    """T of SPEC §4: the interval end for scheduled and backfill runs; for manual runs the
    ``as_of`` param, else the logical date, else the time the run was triggered."""
    if run_type in ("scheduled", "backfill") and data_interval_end is not None:
        return parse_time(data_interval_end)
    if as_of_param:
        try:
            return parse_time(as_of_param)
        except (ValueError, TypeError):
            raise ParamError(f"param 'as_of' is not an ISO-8601 time: {as_of_param!r}") from None
    if logical_date is not None:
        return parse_time(logical_date)
    if run_after is not None:
        return parse_time(run_after)
    if data_interval_end is not None:
        return parse_time(data_interval_end)
    raise ParamError("cannot tell the run's as-of time: no as_of param, logical date or run_after")


@dataclass(frozen=True)
class RunWindow:
    """The small, XCom-sized facts of a run that every task of it shares."""

    dag_id: str
    run_id: str
    run_type: str
    as_of: str
    post_messages: bool

    @property
    def as_of_time(self) -> datetime:
        return parse_time(self.as_of)

    @property
    def is_backfill(self) -> bool:
        return self.run_type == "backfill"

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, value: Mapping[str, Any]) -> RunWindow:
        return cls(**value)

    def notification_key(self, kind: str, suffix: str = "") -> str:
        return f"{self.dag_id}:{kind}:{self.as_of}" + (f":{suffix}" if suffix else "")


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value))


def run_window_from_context(context: Mapping[str, Any]) -> RunWindow:
    dag_run = context["dag_run"]
    params = context.get("params") or {}
    run_type = _enum_value(dag_run.run_type)
    as_of = resolve_as_of(
        run_type,
        context.get("data_interval_end") or getattr(dag_run, "data_interval_end", None),
        context.get("logical_date") or getattr(dag_run, "logical_date", None),
        getattr(dag_run, "run_after", None),
        params.get("as_of"),
    )
    post_backfill = bool(params.get("post_backfill_digests", False))
    return RunWindow(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        run_type=run_type,
        as_of=as_of.isoformat(),
        post_messages=run_type != "backfill" or post_backfill,
    )


def _variable(key: str) -> Any:
    from airflow.sdk import Variable

    return Variable.get(key, default=None)


def load_settings() -> MonitoringConfig:
    raw = _variable(SETTINGS_VARIABLE)
    overrides: Any = None
    if raw:
        try:
            overrides = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError as exc:
            raise ConfigError(f"Variable {SETTINGS_VARIABLE!r} is not valid JSON: {exc}") from None
    return load_config(overrides=overrides)


def load_staff_roster() -> StaffRoster:
    raw = _variable(STAFF_VARIABLE)
    if raw is None:
        log.warning("Variable %r is not set: only platform flags mark staff", STAFF_VARIABLE)
        return StaffRoster.empty()
    return StaffRoster.parse(raw)


def load_rotation() -> Rotation | None:
    raw = _variable(ROTATION_VARIABLE)
    if raw is None:
        log.warning("Variable %r is not set: the digest mentions no developer on rotation", ROTATION_VARIABLE)
        return None
    return Rotation.parse(raw)


def _airflow_home() -> str:
    return os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")


def storage_root(config: MonitoringConfig, key: str) -> Any:
    """An ObjectStoragePath for a configured location (local folder under AIRFLOW_HOME by default)."""
    from airflow.sdk import ObjectStoragePath

    location = config.paths.get(key) or ""
    if not location:
        location = "file://" + os.path.join(_airflow_home(), "community_monitoring", key)
    elif "://" not in location:
        location = "file://" + os.path.abspath(location)
    return ObjectStoragePath(location)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def run_folder(config: MonitoringConfig, window: RunWindow) -> Any:
    folder = storage_root(config, "intermediate") / window.dag_id / _safe_name(window.run_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_records(path: Any, posts: Iterable[Post]) -> int:
    tmp = path.parent / (path.name + ".partial")
    with tmp.open("w", encoding="utf-8") as stream:
        count = write_posts(posts, stream)
    tmp.rename(path)
    return count


def read_records(path: Any) -> Iterator[Post]:
    with path.open("r", encoding="utf-8") as stream:
        try:
            yield from read_posts(stream)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


def write_json(path: Any, value: Any) -> None:
    tmp = path.parent / (path.name + ".partial")
    with tmp.open("w", encoding="utf-8") as stream:
        json.dump(value, stream, ensure_ascii=False, indent=1, default=str)
    tmp.rename(path)


def read_json(path: Any) -> Any:
    with path.open("r", encoding="utf-8") as stream:
        return json.load(stream)


def archive_message(config: MonitoringConfig, window: RunWindow, kind: str, parts: Iterable[str]) -> str:
    """Keep the digest as Markdown, one file per (DAG, T, kind), whether or not it is posted."""
    stamp = window.as_of_time.strftime("%Y-%m-%dT%H%M%SZ")
    folder = storage_root(config, "archive") / window.dag_id / stamp
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}.md"
    tmp = folder / f"{kind}.md.partial"
    with tmp.open("w", encoding="utf-8") as stream:
        stream.write("\n\n---\n\n".join(parts) + "\n")
    tmp.rename(path)
    return str(path)


def fail_fast_on_bad_input(func: Callable[P, R]) -> Callable[P, R]:
    """Bad settings or a missing connection will not fix themselves: fail at once, no retries."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

        from community_monitoring.config import ConfigError
        from community_monitoring.roster import RosterError

        try:
            return func(*args, **kwargs)
        except (ConfigError, RosterError, ParamError, AirflowNotFoundException) as exc:
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    return wrapper


def task_defaults() -> dict[str, Any]:
    """Retries with exponential backoff; the environment may shorten them (tests, demo)."""
    retries = int(os.environ.get("COMMUNITY_TASK_RETRIES", "3"))
    delay = float(os.environ.get("COMMUNITY_RETRY_DELAY_SECONDS", "60"))
    return {
        "owner": "community",
        "on_failure_callback": alert_on_task_failure,
        "retries": retries,
        "retry_delay": timedelta(seconds=delay),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=max(delay, 1) * 16),
    }


def alert_on_task_failure(context: Mapping[str, Any]) -> None:
    """Tell the CM once that a run failed: the first task that failed for good (after its retries).

    Runs as the tasks' ``on_failure_callback``; it never raises, so a broken alert channel cannot
    hide the task's own error.
    """
    try:
        from community_monitoring.ledger import NotificationLedger
        from community_monitoring.mattermost import MattermostWebhook
        from community_monitoring.safety import safe_text

        ti = context["ti"]
        error = context.get("exception")
        if str(error).startswith(ParamError.__name__):
            # Whoever triggered the run with a bad param sees it fail in the UI; the CM need not.
            return
        window = run_window_from_context(context)
        try:
            config: MonitoringConfig | None = load_settings()
        except Exception:  # the failure may be the settings themselves: alert with the defaults
            config = None
        reason = f"{type(error).__name__}: {error}" if error else "see the task log"
        text = (
            f"[Alert] {window.dag_id} as of {window.as_of_time:%Y-%m-%d %H:%M UTC}: task `{ti.task_id}` failed "
            f"after {max(int(getattr(ti, 'try_number', 1)), 1)} attempt(s) (run `{safe_text(window.run_id, 120)}`).\n"
            f"{safe_text(reason, 600)}"
        )
        if ti.task_id.startswith("extract_"):
            text += f"\nThe digests of this run say that {ti.task_id.removeprefix('extract_')} is missing."
        target = config.mattermost_targets.get("alert", "mattermost_cm") if config else "mattermost_cm"
        username = config.mattermost_username if config else "Community Monitor"
        # One alert per run and T: the first task to fail for good tells the CM; the ones that fail
        # after it (often for the same reason) are in the run's logs.
        key = window.notification_key("alert")
        ledger = NotificationLedger.from_connection()
        ledger.deliver_once(key, "alert", target, [text], MattermostWebhook(target, username).post)
    except Exception:  # an alert must never mask the failure it reports
        log.exception("Could not send the failure alert")


def review_params(what: str) -> dict[str, Any]:
    """The Params every scheduled review DAG takes: a point in time, and posting backfills."""
    from airflow.sdk import Param

    return {
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="As of",
            description=f"Manual runs only: compute the {what} as of this moment (ISO time). "
            "Empty: the run's logical date, or the time it was triggered.",
        ),
        "post_backfill_digests": Param(
            False,
            type="boolean",
            title="Post backfill digests",
            description=f"Backfill runs archive their {what}; post it to Mattermost as well.",
        ),
    }
