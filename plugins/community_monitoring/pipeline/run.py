"""The typed boundary between Airflow and the product: what a task gets from the run it belongs to.

Airflow's context is read here and only here. Every task callable is a ``@community_task``:
it receives one :class:`TaskRun` holding T, the validated settings, the rosters, the write
policy, the run store and the outbox, and returns a small summary for XCom. Inputs that will not
fix themselves (settings, rosters, params, a missing connection) fail the task at once, without
retries, naming what is wrong.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import re
import resource
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from community_monitoring.errors import SettingsError, UncertainDelivery, WritesFailed
from community_monitoring.outbox import Outbox
from community_monitoring.params import CloseoutParams, ParamError, closeout_params, flag_param, resolve_as_of
from community_monitoring.pipeline.store import RunStore, safe_name
from community_monitoring.policy import WritePolicy, decide_write_policy
from community_monitoring.roster import (
    CONTACTS_VARIABLE,
    ROTATION_VARIABLE,
    STAFF_VARIABLE,
    Contacts,
    RosterError,
    Rosters,
    Rotation,
    StaffRoster,
)
from community_monitoring.timeutil import day_window

if TYPE_CHECKING:
    from community_monitoring.settings import Settings

log = logging.getLogger(__name__)

# Errors in what people typed (settings, rosters, params, connections): retrying cannot help.
BAD_INPUT_ERRORS: tuple[type[Exception], ...] = (SettingsError, RosterError, ParamError)
Item = TypeVar("Item")
Made = TypeVar("Made")
FAILURES_NAMED = 10  # in the error (and so the alert); the task log names every one


@dataclass(frozen=True)
class RunFacts:
    """What Airflow says about the run: which DAG, which run, T, and the params it was given."""

    dag_id: str
    run_id: str
    run_type: str
    as_of: datetime
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def interval_start(self) -> datetime:
        return day_window(self.as_of)[0]

    @property
    def is_backfill(self) -> bool:
        return self.run_type == "backfill"


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value))


def facts_from_context(context: Mapping[str, Any]) -> RunFacts:
    dag_run = context["dag_run"]
    params = dict(context.get("params") or {})
    run_type = _enum_value(dag_run.run_type)
    as_of = resolve_as_of(
        run_type,
        context.get("data_interval_end") or getattr(dag_run, "data_interval_end", None),
        context.get("logical_date") or getattr(dag_run, "logical_date", None),
        getattr(dag_run, "run_after", None),
        params.get("as_of"),
    )
    return RunFacts(dag_run.dag_id, dag_run.run_id, run_type, as_of, params)


def _variable(key: str) -> Any:
    from airflow.sdk import Variable

    return Variable.get(key, default=None)


def load_rosters() -> Rosters:
    staff = _variable(STAFF_VARIABLE)
    rotation = _variable(ROTATION_VARIABLE)
    contacts = _variable(CONTACTS_VARIABLE)
    if staff is None:
        log.warning("Variable %r is not set: only platform flags mark staff", STAFF_VARIABLE)
    if rotation is None:
        log.warning("Variable %r is not set: the digest mentions no developer on rotation", ROTATION_VARIABLE)
    parsed = Contacts.parse(contacts) if contacts else Contacts()
    unnamed = [role for role in ("cm_lead", "pm", "release_manager") if not getattr(parsed, role)]
    if unnamed:
        # Allowed (a team may have no PM), but the messages that would mention them mention nobody.
        log.warning(
            "Variable %r names no %s: the messages for them mention nobody", CONTACTS_VARIABLE, unnamed
        )
    return Rosters(
        staff=StaffRoster.parse(staff) if staff is not None else StaffRoster.empty(),
        rotation=Rotation.parse(rotation) if rotation is not None else None,
        contacts=parsed,
    )


def _airflow_home() -> str:
    return os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")


def storage_root(settings: Settings, key: str) -> Any:
    """An ObjectStoragePath for a configured location (a folder under AIRFLOW_HOME by default)."""
    from airflow.sdk import ObjectStoragePath

    location = getattr(settings.paths, key)
    if not location:
        location = "file://" + os.path.join(_airflow_home(), "community_monitoring", key)
    elif "://" not in location:
        location = "file://" + os.path.abspath(location)
    return ObjectStoragePath(location)


def tracking_sheet_path(settings: Settings) -> str:
    configured = settings.paths.tracking_sheet
    if configured:
        return configured.removeprefix("file://")
    return os.path.join(_airflow_home(), "community_monitoring", "tracking-sheet.xlsx")


def open_ledger() -> Any:
    from community_monitoring.ledger import NotificationLedger

    return NotificationLedger.from_connection()


def mattermost_sender(settings: Settings) -> Callable[[str, str], Callable[[str], None]]:
    """Webhook posts with the deployment's timeouts and retry bounds (``settings.http``)."""

    def sender(conn_id: str, username: str) -> Callable[[str], None]:
        from community_monitoring.mattermost import MattermostWebhook

        return MattermostWebhook(conn_id, username, http=settings.http).post

    return sender


@dataclass
class TaskRun:
    """Everything a task needs, decided once from the Airflow context."""

    facts: RunFacts
    settings: Settings
    rosters: Rosters
    policy: WritePolicy
    store: RunStore
    outbox: Outbox
    closeout: CloseoutParams | None = None
    # The Airflow context, for the few questions only Airflow can answer (other runs' states).
    context: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def as_of(self) -> datetime:
        return self.facts.as_of

    @property
    def sheet_path(self) -> str:
        return tracking_sheet_path(self.settings)

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> TaskRun:
        facts = facts_from_context(context)
        settings = run_settings()
        rosters = load_rosters()
        # The release closeout's DAG declares `version`; the reviews do not.
        closeout = closeout_params(facts.params, facts.as_of.date()) if "version" in facts.params else None
        policy = decide_write_policy(
            facts.run_type,
            post_backfill_digests=flag_param(facts.params, "post_backfill_digests"),
            dry_run=closeout.dry_run if closeout else False,
        )
        store = RunStore(storage_root(settings, "intermediate") / facts.dag_id / safe_name(facts.run_id))
        task_id = getattr(context.get("ti"), "task_id", "")
        outbox = make_outbox(facts, settings, policy, owner=f"{facts.dag_id}/{facts.run_id}/{task_id}")
        return cls(facts, settings, rosters, policy, store, outbox, closeout, context)

    def is_older_backfill_day(self, kind: str) -> bool:
        """A backfill run that is not the newest day of its catch-up, or older than a later day's
        ``kind`` digest already posted (a backfill that stops short of the latest run): its digest
        mentions nobody."""
        from community_monitoring import keys
        from community_monitoring.pipeline.backfill import is_newest_day

        if not self.facts.is_backfill:
            return False
        later = keys.sent_for_a_later_day(
            keys.kind_prefix(self.facts.dag_id, kind), self.outbox.deliveries_of(kind), self.as_of
        )
        return later or not is_newest_day(self.context)

    def channels_read(self) -> dict[str, Any]:
        """Which channels this run read and which it could not (written by ``collect_channels``)."""
        return self.store.read_json("channels.json")


def redact(text: str) -> str:
    """Text with every secret Airflow knows of (connection passwords, masked ids) replaced."""
    from airflow.sdk._shared.secrets_masker import redact as airflow_redact

    return str(airflow_redact(text))


# The words of a connection extra's key that hold a credential (Discourse's "Api-Key", Stack
# Exchange's "key", Mattermost's "webhook_id", a "client_secret", an "access_token"), and every
# other word Airflow's masker hides extras by ("passphrase", "passwd", "authorization",
# "service_account"): the state table's titles are scrubbed of these alone.
_SECRET_EXTRA = (
    "key",
    "token",
    "secret",
    "password",
    "webhook",
    "passphrase",
    "passwd",
    "authorization",
    "service_account",
)


def connection_secrets(conn_ids: Iterable[str]) -> tuple[str, ...]:
    """The credentials the product's connections hold: each one's password and its extra's secrets.

    A connection that cannot be read gives none (the task that uses it says why)."""
    from airflow.sdk.bases.hook import BaseHook

    from community_monitoring.sources.http import SHORT_SECRET

    found: set[str] = set()
    for conn_id in sorted(set(conn_ids)):
        try:
            conn = BaseHook.get_connection(conn_id)
        except Exception:  # not defined, or its backend is down: its own task names the problem
            continue
        found.add(conn.password or "")
        for key, value in (conn.extra_dejson or {}).items():
            if isinstance(value, str) and any(word in key.casefold() for word in _SECRET_EXTRA):
                found.add(value)
    # As Airflow's masker: a shorter one ("k") would turn every such word of a message into "***".
    return tuple(sorted(secret for secret in found if len(secret) >= SHORT_SECRET))


def product_redactor(settings: Settings, *, only_where_found: bool = False) -> Callable[[str], str]:
    """``redact``, and every credential of the product's connections shown as ``***`` wherever it
    stands: an upstream title or body that carries one (a webhook URL pasted into an issue) must not
    reach a message, the ledger or an archive (SPEC §6), and the task that posts has not itself read
    the sources' connections, so Airflow's masker alone does not know them. Read once, on first use.

    ``only_where_found``: for many short upstream texts (the state table's titles), a text in which
    one search finds none of those credentials is returned as it is, without Airflow's masker (which
    costs more than the search, 100,000 times a run); the credentials an upstream text can carry are
    the product's, not the ones this task itself read."""
    from community_monitoring.channels import CHANNELS
    from community_monitoring.sources.http import scrub_secrets, secrets_finder

    @functools.cache
    def secrets() -> tuple[str, ...]:
        conn_ids = [conn for channel in CHANNELS.values() for conn in channel.connections]
        return connection_secrets([*conn_ids, *settings.mattermost.targets.values()])

    @functools.cache
    def finder() -> re.Pattern[str] | None:
        return secrets_finder(secrets())

    def redact_all(text: str) -> str:
        if only_where_found and ((found := finder()) is None or found.search(text) is None):
            return text
        return scrub_secrets(redact(text), secrets())

    return redact_all


def make_outbox(facts: RunFacts, settings: Settings, policy: WritePolicy, owner: str = "") -> Outbox:
    return Outbox(
        facts.dag_id,
        facts.as_of,
        settings,
        policy,
        open_ledger=open_ledger,
        webhook=mattermost_sender(settings),
        archive_root=lambda: storage_root(settings, "archive"),
        owner=owner,
        redact=product_redactor(settings),
    )


def alert_outbox(facts: RunFacts) -> Outbox:
    """An outbox for the failure alert, which must go out even when the settings are what failed."""
    from community_monitoring.settings import build_settings, bundled_rules, load_settings

    try:
        settings = run_settings()
    except SettingsError:
        try:  # the rules file without the Variable's overrides
            settings = load_settings()
        except SettingsError:  # the rules file itself: the one shipped in the package says where to alert
            rules, source = bundled_rules()
            settings = build_settings(rules, rules_source=source)
    return make_outbox(facts, settings, decide_write_policy("manual"))


def run_settings() -> Settings:
    """The rules file with the ``community_settings`` Variable's overrides, read now (at run time).

    Imported here, not at the top: a DAG file's parse imports this module, and building the
    settings models is work only a running task needs."""
    from community_monitoring.settings import SETTINGS_VARIABLE, load_settings

    return with_community_page_links(load_settings(_variable(SETTINGS_VARIABLE)))


def with_community_page_links(settings: Settings) -> Settings:
    """``digest.full_list_url`` left empty: "… and N more" links this Airflow's Community page (SPEC
    §7, §10) when Airflow knows its own address (``[api] base_url``); else the line names the
    archived full list, as the setting's comment says."""
    from airflow.sdk.configuration import conf

    if settings.digest.full_list_url:
        return settings
    base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
    if not base.startswith(("http://", "https://")):
        return settings
    url = f"{base}/community?kind={{kind}}&as_of={{as_of}}&section={{section}}"
    return settings.model_copy(update={"digest": settings.digest.model_copy(update={"full_list_url": url})})


def peak_memory_mb() -> float:
    """This process's peak resident memory. ``VmHWM`` where Linux gives it: ``ru_maxrss`` keeps the
    peak of the process that started this one (it survives exec), so alone it can overstate."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_each(
    items: Iterable[Item], write: Callable[[Item], Made], name: Callable[[Item], str], what: str
) -> list[Made]:
    """``write`` for every item, going on past a failure; then one error naming every failure.

    An upstream refusing one write (a locked issue, a deleted suggestion) must not keep the
    others from being made. The error is ``UncertainDelivery`` (no retry) when one of the failed
    writes may have arrived, else ``WritesFailed``: a retry makes only the failed ones again.
    Bad settings or params fail at once: every write would fail the same way.
    """
    made: list[Made] = []
    failed: list[str] = []
    uncertain = False
    for item in items:
        try:
            made.append(write(item))
        except BAD_INPUT_ERRORS:
            raise
        except Exception as exc:
            uncertain = uncertain or isinstance(exc, UncertainDelivery)
            failed.append(f"{name(item)}: {type(exc).__name__}: {redact(str(exc))}")
            log.error("%s failed (the others are still made): %s", what, failed[-1])
    if failed:
        shown = "; ".join(failed[:FAILURES_NAMED])
        more = (
            f"; and {len(failed) - FAILURES_NAMED} more (see the task log)"
            if len(failed) > FAILURES_NAMED
            else ""
        )
        # "the others were made" only when some were: an alert for a list none of which went out
        # must not read as a partial success.
        others = "the others were made" if made else "none was made"
        message = f"{len(failed)} of {len(failed) + len(made)} {what} failed, {others}: {shown}{more}"
        raise (UncertainDelivery if uncertain else WritesFailed)(message)
    return made


def community_task(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a task callable its :class:`TaskRun` as first argument; bad input fails without retries.

    The wrapper's signature drops ``run``, so Airflow binds only the task's own arguments.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

        started = time.monotonic()
        context = get_current_context()
        try:
            run = TaskRun.from_context(context)
            return func(run, *args, **kwargs)
        except (*BAD_INPUT_ERRORS, AirflowNotFoundException, UncertainDelivery) as exc:
            # Retrying cannot help: bad input stays bad, and an uncertain write must not be resent.
            raise AirflowFailException(f"{type(exc).__name__}: {redact(str(exc))}") from exc
        finally:
            # What sizing a worker needs: a task runs in a process of its own on every executor.
            log.info(
                "%s took %.1fs; the process's peak memory so far: %.0f MB",
                getattr(context.get("ti"), "task_id", func.__name__),
                time.monotonic() - started,
                peak_memory_mb(),
            )

    signature = inspect.signature(func)
    wrapper.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])  # type: ignore[attr-defined]
    return wrapper
