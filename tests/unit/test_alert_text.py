"""The failure alert's words (pipeline/alerts.py): what failed, and where to look for the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from community_monitoring.pipeline.alerts import alert_text

T = datetime(2026, 11, 18, 9, tzinfo=UTC)


def test_an_extract_alert_says_the_digests_name_every_channel_not_read() -> None:
    text = alert_text(
        "community_daily_monitoring", T, "extract_github", 3, "scheduled__x", "UpstreamError: 500"
    )
    assert text.startswith(
        "[Alert] community_daily_monitoring as of 2026-11-18 09:00 UTC: task `extract_github`"
    )
    assert "say that GitHub (github) is missing, with every other channel that could not be read" in text
    assert "names the first failure only" in text
    # How the day's posts of the channel get listed: by the next run that reads it, or sooner by clearing.
    assert "Once GitHub (github) answers again, the next day's run sends this day's posts there" in text
    assert "clear this run to send them sooner" in text
    weekly = alert_text(
        "community_weekly_review", T, "extract_github", 3, "scheduled__x", "UpstreamError: 500"
    )
    assert "[Triage]" not in weekly


def test_another_task_alert_says_nothing_of_channels() -> None:
    text = alert_text("community_daily_monitoring", T, "post_triage_list", 1, "manual__x", "HTTP 400")
    assert "missing" not in text


def test_the_model_dag_alert_says_it_trains_without_the_channel() -> None:
    from community_monitoring.pipeline.triage_model import DAG_ID

    text = alert_text(DAG_ID, T, "extract_forum", 2, "scheduled__x", "UpstreamError: 502")
    assert "This run trains the model without Forum (forum), and without every other channel" in text
    assert "digests" not in text


def test_the_closeout_alert_says_nothing_was_sent_not_that_digests_name_the_channel() -> None:
    """A closeout that could not read Jira or UserVoice plans nothing and posts no summary: an alert
    saying "the digests of this run say that jira is missing" told the CM the PM had heard."""
    from community_monitoring.pipeline.closeout import DAG_ID

    text = alert_text(DAG_ID, T, "extract_jira", 4, "manual__x", "InvalidResponseError: HTML page")
    assert "digests" not in text
    assert "cannot be planned without Jira (jira): nobody was thanked" in text
    assert "no summary was posted. Trigger the closeout again once Jira (jira) answers." in text


def test_the_run_id_is_shown_as_airflow_takes_it() -> None:
    """Inside a code span a Markdown escape shows as a backslash: the id copied into
    `airflow tasks clear` would name no run."""
    run_id = "scheduled__2026-11-18T07:00:00+00:00"
    text = alert_text("community_daily_monitoring", T, "post_triage_list", 1, run_id, "HTTP 400")
    assert f"(run `{run_id}`)" in text
    assert "(run `manual__a'b`)" in alert_text("d", T, "t", 1, "manual__a`b", "x")
