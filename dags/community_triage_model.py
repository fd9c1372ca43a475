"""
### Community triage model

Every Monday (and whenever triggered by hand), as of the end of its data interval (T), this DAG
reads a year of history (`triage_model.history_days`) from GitHub, GitLab, the forum, Stack
Overflow and UserVoice and gathers the team's own past decisions: the type labels the team
applied, staff replies that redirected a post (to the forum, to the feature-idea forum, to a
Jira ticket, to the docs), forum categories, UserVoice suggestions (feature proposals) and Stack
Overflow questions (by tag). It trains a text classifier on them (scikit-learn: TF-IDF word and
character n-grams, a linear model, calibrated probabilities), cross-validates it, and stores the
model with its **model card** under `paths.models` (`triage/<version>/`).

The daily `[Triage]` uses the newest model whose card meets `triage_model.minimums` (enough
examples of every type, cross-validated accuracy and per-type recall) when its probability reaches
`triage_model.threshold`; otherwise the rules decide. A model trained while a channel could not be
read is stored but never used, and the run ends red. Nothing is posted: the card is in the log of
`report_model_card`.

**extract** → **transform** (`build_training_set`, `train_triage_model`) → **notify**
(`report_model_card`). Settings: the `triage_model` section of the rules file.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from community_monitoring.pipeline import shape, triage_model


@dag(
    dag_id=triage_model.DAG_ID,
    schedule=CronDataIntervalTimetable(
        os.environ.get("COMMUNITY_TRIAGE_MODEL_CRON", "0 6 * * 1"), timezone="UTC"
    ),
    start_date=pendulum.datetime(2026, 1, 5, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=shape.task_defaults(),
    tags=["community", "weekly", "model"],
    doc_md=__doc__,
    params=shape.review_params("triage model"),
)
def community_triage_model() -> None:
    channels = triage_model.HISTORY_CHANNELS
    with shape.group("extract", "Check the run, then read each channel's history into the run store"):
        extracts = shape.extract(channels, extractors=triage_model.HISTORY_EXTRACTORS)
    with shape.group("transform", "The team's decisions as examples; train, cross-validate and store"):
        collected = shape.collect(channels, extracts)
        examples = task(triage_model.build_training_set, task_id="build_training_set")()
        trained = task(triage_model.train_triage_model, task_id="train_triage_model")()
        collected >> examples >> trained
    with shape.group("notify", "Log the model card"):
        trained >> task(triage_model.report_model_card, task_id="report_model_card")()
        shape.verify(collected, without="the model was trained without them")


community_triage_model()
