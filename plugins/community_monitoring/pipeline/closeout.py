"""The release closeout's own tasks: thank every nominator whose idea shipped, once per version.

Steps: check the params, read the suggestions and the release's Jira tickets, plan who to thank
(and who to skip, with the reason), post one status update per suggestion (Completed, carrying
the thank-you) through the edition's connection, update the tracking sheet, post a summary.

A run started by the release Asset (SPEC §5) takes its params from the release event, not from
the form: the event's version and publication date, no announcement URL, and always a dry run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from community_monitoring.params import CloseoutParams
from community_monitoring.pipeline.common import check_mattermost_targets, remove_idle_intermediates
from community_monitoring.pipeline.run import TaskRun, community_task, write_each

if TYPE_CHECKING:
    # The plan's module (and the settings models it reads) is imported by the tasks that use it:
    # a DAG file's parse imports this module and should not build them.
    from community_monitoring.closeout_plan import CloseoutPlan, Nominee, ThankResult

log = logging.getLogger(__name__)

DAG_ID = "community_release_closeout"
# What the run did without what it could not read (``verify_all_channels_read``'s alert): it sends no
# digests; a nominator behind an unread suggestion or ticket was not thanked, and is owed a thank-you.
WITHOUT_UNREAD = (
    "nobody whose suggestion or Jira ticket could not be read was thanked; trigger the closeout again "
    "with the same params once they can be read (nobody is thanked twice)"
)


def release_params(run: TaskRun) -> CloseoutParams:
    """The form's params for a manual run (a version required); the release event's for a prompt."""
    from community_monitoring.params import prompted_closeout_params, require_version
    from community_monitoring.pipeline.release_prompt import triggering_release

    assert run.closeout is not None, "the closeout DAG declares the version param"
    event = triggering_release(run.context)
    if event is not None:
        return prompted_closeout_params(event, run.as_of.date())
    return require_version(run.closeout)


@community_task
def check_release_run(run: TaskRun) -> dict[str, Any]:
    """Settings, rosters and params are valid; a manual run names its version. Say what will happen."""
    params = release_params(run)
    log.info(
        "Run %s (%s) as of %s: closeout of %s%s; %s",
        run.facts.run_id,
        run.facts.run_type,
        run.as_of.isoformat(),
        params.version,
        f", prompted by release {params.prompted_by}" if params.is_prompt else "",
        "dry run" if params.dry_run else (run.policy.reason or "thank-yous will be sent"),
    )
    if run.policy.post_messages:
        check_mattermost_targets(run.settings.mattermost.targets)
    remove_idle_intermediates(run)
    return {"as_of": run.as_of.isoformat(), "version": params.version, "dry_run": params.dry_run}


@community_task
def extract_release_tickets(run: TaskRun) -> dict[str, Any]:
    """The tickets with this fixVersion, whenever they were updated (a leading "v" is ignored)."""
    from community_monitoring.item_cache import ItemCache
    from community_monitoring.sources import FetchRequest
    from community_monitoring.sources.jira import fetch_for, release_clause

    params = release_params(run)
    # The release's tickets (tens, once a release) have their remote links read afresh: a link
    # to a suggestion added without the ticket's `updated` moving would be served stale from the
    # daily runs' cache, and its nominator never thanked. What is read is stored for the daily runs.
    cache = ItemCache.from_connection(refresh=True)
    request = FetchRequest(run.settings, run.as_of, run.as_of, cache=cache)
    fetched = fetch_for(request, release_clause(params.version), None)
    counts = run.store.save_channel("jira", fetched)
    log.info("Jira: %s for release %s", counts, params.version)
    return {"channel": "jira", **counts}


@community_task
def plan_release_closeout(run: TaskRun) -> dict[str, Any]:
    from community_monitoring.closeout_plan import plan_closeout
    from community_monitoring.uservoice_review import UserVoiceRules

    # Params first: a run without a version failed at check_run, and says so again (no alert).
    params = release_params(run)
    missing = run.channels_read()["missing"]
    if missing:
        from airflow.sdk.exceptions import AirflowFailException

        # The extract that failed alerted already, and retrying this plan cannot read the channel:
        # fail for good, at once.
        raise AirflowFailException(f"cannot plan the closeout without {', '.join(missing)}; nothing was sent")
    plan = plan_closeout(
        run.store.posts(["uservoice"]),
        run.store.tickets(),
        UserVoiceRules.from_settings(run.settings),
        params,
        run.settings.closeout,
        run.store.statuses(),
    )
    run.store.save_plan("closeout", plan.to_dict())
    log.info(
        "Closeout plan for %s: thank %d (%s), skip %d",
        plan.params.version,
        len(plan.thank),
        ", ".join(f"{n.name} ({n.edition})" for n in plan.thank) or "nobody",
        len(plan.skipped),
    )
    return {"thank": len(plan.thank), "skipped": len(plan.skipped)}


def thanked_upstream(plan: CloseoutPlan, nominee: Any, client: Any) -> dict[str, Any] | None:
    """The suggestion's status update that already thanked for this version, if one did."""
    from community_monitoring.closeout_plan import already_thanked

    found = already_thanked(
        client.status_updates(nominee.suggestion_id),
        plan.params.version,
        nominee.message,
        plan.completed_status_id,
    )
    return dict(found) if found is not None else None


def earlier_thanks(run: TaskRun, plan: CloseoutPlan, nominee: Any, client: Any) -> ThankResult | None:
    """What was done before: what UserVoice's status updates say (thanked for this version, or for
    another release, with its day), else the ledger's thank-you for another fixVersion of the ticket
    (one UserVoice does not show as such: a thank-you text the team has changed since); neither once
    the suggestion was reopened since."""
    from community_monitoring import keys
    from community_monitoring.closeout_plan import upstream_result

    ledger_thanks = {}
    for other in nominee.also_fixed_in:
        sent_at = run.outbox.done_at(keys.thank_key(nominee.suggestion_id, other))
        if sent_at is not None:
            ledger_thanks[other] = sent_at
    return upstream_result(
        nominee,
        client.status_updates(nominee.suggestion_id),
        plan.params.version,
        plan.completed_status_id,
        ledger_thanks,
    )


def planned_result(run: TaskRun, plan: CloseoutPlan, nominee: Any, client: Any) -> ThankResult:
    """A dry run's answer for one nominee: what a real run would do now, writing nothing.

    Someone the ledger or an upstream status update says was thanked for this version is listed as
    thanked earlier, and one thanked for another release among the skipped, not as someone the run
    would thank (a real run would send them nothing).
    """
    from community_monitoring import keys
    from community_monitoring.closeout_plan import ThankResult

    if run.outbox.already_done(keys.thank_key(nominee.suggestion_id, plan.params.version)):
        return ThankResult(nominee, "already_thanked")
    return earlier_thanks(run, plan, nominee, client) or ThankResult(nominee, "dry_run")


def thank_once(run: TaskRun, plan: CloseoutPlan, nominee: Any, client: Any) -> ThankResult:
    """One status update (Completed + thank-you), unless the ledger or upstream says it was made."""
    from community_monitoring import keys
    from community_monitoring.closeout_plan import ThankResult, already_thanked, update_time

    key = keys.thank_key(nominee.suggestion_id, plan.params.version)
    if not run.outbox.already_done(key):
        earlier = earlier_thanks(run, plan, nominee, client)
        if earlier is not None and earlier.outcome == "already_thanked":
            # Thanked outside this ledger (by hand, or by another deployment): record it, send nothing.
            run.outbox.record_done_elsewhere(
                key, "release_closeout_thank", nominee.connection, nominee.message
            )
            log.info(
                "Suggestion %s was already thanked for %s upstream",
                nominee.suggestion_id,
                plan.params.version,
            )
            return earlier
        if earlier is not None:
            # Thanked with the release that shipped it: nothing to send, nor to record (a later
            # trigger reads the same status update and sends nothing either).
            log.info("Suggestion %s: %s", nominee.suggestion_id, earlier.nominee.reason)
            return earlier
    created: dict[str, Any] = {}

    def send(text: str) -> None:
        created.update(
            client.post_status_update(nominee.suggestion_id, plan.completed_status_id, text, plan.notify)
        )

    def arrived(_: str) -> bool:
        updates = client.status_updates(nominee.suggestion_id)
        found = already_thanked(updates, plan.params.version, nominee.message)
        if found is not None:
            created.update(found)  # its id for the tracking sheet, as the write's own answer gives
        return found is not None

    delivery = run.outbox.write_upstream(
        key, "release_closeout_thank", nominee.connection, nominee.message, send, read_back=arrived
    )
    if delivery.sent_now:
        outcome = "thanked"
    else:
        # Sent before: by an earlier try of this task (then this run thanked them, and the sheet
        # still needs the update's id and time) or by an earlier run. UserVoice tells which update.
        created = created or thanked_upstream(plan, nominee, client) or {}
        outcome = "thanked" if run.outbox.sent_by_this_task(key) else "already_thanked"
    log.info("Suggestion %s (%s, %s): %s", nominee.suggestion_id, nominee.name, nominee.edition, outcome)
    return ThankResult(
        nominee,
        outcome,
        str(created.get("id", "")),
        thanked_at=update_time(created) if created and not delivery.sent_now else "",
    )


@community_task
def post_thank_yous(run: TaskRun) -> dict[str, Any]:
    """One status update per suggestion (Completed + thank-you), never twice for the same version.

    What happened to each nominee is saved before the task ends, also when some failed: the sheet
    and the summary run whatever this task did (their trigger rule), for those thanked and naming
    those not, and ``verify_thank_yous`` keeps the run red.
    """
    from community_monitoring.closeout_plan import CloseoutPlan
    from community_monitoring.sources.uservoice import UserVoiceClient

    plan = CloseoutPlan.from_dict(run.store.plan("closeout"))
    clients: dict[str, UserVoiceClient] = {}

    def client_for(nominee: Any) -> UserVoiceClient:
        if nominee.connection not in clients:
            clients[nominee.connection] = UserVoiceClient.from_connection(
                nominee.connection, http=run.settings.http
            )
        return clients[nominee.connection]

    # The plan's own dry_run too: a prompted run is a dry run whatever the form's default says.
    if not run.policy.write_upstream or plan.params.dry_run:
        reason = run.policy.reason or "dry run"
        results = each_nominee(
            run,
            plan,
            lambda nominee: planned_result(run, plan, nominee, client_for(nominee)),
            "dry-run checks",
        )
        log.info(
            "%s: %d thank-you(s) a real run would send (%d thanked earlier), nothing sent upstream",
            reason,
            sum(1 for r in results if r.outcome == "dry_run"),
            sum(1 for r in results if r.outcome == "already_thanked"),
        )
    else:
        # One refused (a deleted suggestion) does not keep the others from being thanked.
        results = each_nominee(
            run, plan, lambda nominee: thank_once(run, plan, nominee, client_for(nominee)), "thank-yous"
        )
    return {"thanked": sum(1 for r in results if r.outcome == "thanked")}


def each_nominee(
    run: TaskRun, plan: CloseoutPlan, make: Callable[[Nominee], ThankResult], what: str
) -> list[ThankResult]:
    """``make`` for every nominee through ``write_each`` (past a failure, then one error naming
    every failure); what happened to each is saved as ``closeout-results`` before any error leaves,
    a failure as a ``failed`` result with its error, and a nominee not reached as failed too."""
    from dataclasses import asdict

    from community_monitoring.closeout_plan import ThankResult
    from community_monitoring.pipeline.run import redact

    done: dict[int, ThankResult] = {}

    def one(item: tuple[int, Nominee]) -> ThankResult:
        index, nominee = item
        try:
            done[index] = make(nominee)
        except Exception as exc:
            done[index] = ThankResult(nominee, "failed", error=f"{type(exc).__name__}: {redact(str(exc))}")
            raise
        return done[index]

    try:
        write_each(
            enumerate(plan.thank),
            one,
            lambda item: f"suggestion {item[1].suggestion_id} ({item[1].url})",
            what,
        )
    finally:
        # Bad settings stop ``write_each`` at once: the nominees after it were not tried.
        results = [
            done.get(index) or ThankResult(nominee, "failed", error="not tried: the task stopped before it")
            for index, nominee in enumerate(plan.thank)
        ]
        run.store.save_plan("closeout-results", [asdict(r) for r in results])
    return results


def verify_thank_yous() -> None:
    """The run's last word on the thank-yous: it runs only when ``post_thank_yous`` succeeded.

    The sheet and the summary run whatever the thank-yous did (one refused must not keep the others'
    rows and the PM's summary from them), so they cannot end the run red for it: this task, with the
    default trigger rule, is marked upstream_failed instead, and the run is red. No alert of its own:
    ``post_thank_yous`` alerted, naming the failures, and the summary names them to the PM.
    """
    log.info("Every thank-you was made, found made earlier or planned")


def load_results(run: TaskRun) -> list[ThankResult]:
    from community_monitoring.closeout_plan import Nominee, ThankResult

    return [
        ThankResult(**{**r, "nominee": Nominee(**r["nominee"])}) for r in run.store.plan("closeout-results")
    ]


def sheet_release_dates(run: TaskRun) -> set[tuple[str, str]]:
    """The keys of the sheet's rows that have a release date (only the closeout writes one)."""
    from community_monitoring.tracking_sheet import read_sheet, sheet_key

    return {
        sheet_key(row["suggestion_id"], row["fix_version"])
        for row in read_sheet(run.sheet_path)
        if row["release_date"].strip()
    }


@community_task
def update_sheet_for_release(run: TaskRun) -> dict[str, Any]:
    from community_monitoring.closeout_plan import CloseoutPlan, closeout_sheet_rows

    plan = CloseoutPlan.from_dict(run.store.plan("closeout"))
    if plan.params.dry_run:
        log.info("Dry run: the tracking sheet stays as it is")
        return {"inserted": 0, "updated": 0}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    results = load_results(run)
    # Someone thanked earlier gets this closeout's release date where their row has none yet.
    dated = sheet_release_dates(run) if any(r.outcome == "already_thanked" for r in results) else set()
    rows = closeout_sheet_rows(plan, results, now, dated)
    result = run.outbox.update_sheet(run.sheet_path, rows)
    if result is None:
        return {"inserted": 0, "updated": 0}
    log.info("Tracking sheet %s: %d inserted, %d updated", result.path, result.inserted, result.updated)
    return {"inserted": result.inserted, "updated": result.updated}


@community_task
def post_closeout_summary(run: TaskRun) -> dict[str, Any]:
    """Who was thanked, who was skipped and why; a dry run shows its plan every time."""
    from community_monitoring import keys
    from community_monitoring.closeout_plan import CloseoutPlan
    from community_monitoring.messages import render_closeout_summary
    from community_monitoring.pipeline.daily import save_message

    plan = CloseoutPlan.from_dict(run.store.plan("closeout"))
    results = load_results(run)
    params = plan.params
    # Keyed on everyone thanked for the version (now or by an earlier run): a re-trigger after a
    # failed summary post sends the summary it owes; one after a complete closeout sends nothing.
    # A closeout that thanks nobody still tells the PM so, with whom it skipped and why (SPEC §4:
    # every closeout ends with its summary); keyed on nobody, it is posted once.
    thanked = [r.nominee.suggestion_id for r in results if r.outcome in ("thanked", "already_thanked")]
    message = render_closeout_summary(
        results,
        plan.skipped,
        params,
        run.settings,
        prompt_mentions(run),
        trigger_form_url(DAG_ID),
        unreadable=run.channels_read().get("unreadable", []),
        as_of=run.as_of,
    )
    key = keys.closeout_summary_key(DAG_ID, params.version, thanked, dry_run_id(run, params))
    save_message(run, message)
    delivery = run.outbox.post_message(message.kind, message.parts, key)
    return {"kind": message.kind, "status": delivery.status, "parts_sent": delivery.parts_sent}


def dry_run_id(run: TaskRun, params: CloseoutParams) -> str | None:
    """A manual dry run shows its plan on every run; a prompted one once per release event.

    A prompt is keyed on the release (its tag and publication time), not on the run: a rerun of
    the daily run that emits the event again starts a new closeout run, which posts nothing.
    """
    if not params.dry_run:
        return None
    return f"release:{params.prompted_by}" if params.is_prompt else run.facts.run_id


def prompt_mentions(run: TaskRun) -> list[str]:
    """The PM and the release manager (``community_contacts``), once each; nobody when unset."""
    contacts = run.rosters.contacts
    return list(dict.fromkeys(name for name in (contacts.pm, contacts.release_manager) if name))


def trigger_form_url(dag_id: str) -> str:
    """The DAG's page in Airflow's UI, where its Trigger button opens the form.

    Airflow 3.3's UI has no route that opens the form itself nor one that prefills it from the
    URL (its routes: ``dags/:dagId`` and below), so the message says what to enter.
    """
    from urllib.parse import quote

    from airflow.sdk.configuration import conf

    base = conf.get("api", "base_url", fallback="") or ""
    if "://" not in base:
        base = "http://localhost:8080" + base
    return f"{base.rstrip('/')}/dags/{quote(dag_id)}"
