"""The triage model's tasks: read a year of history, build the training set, train, store, report.

The model and its card are stored under ``paths.models`` (``ObjectStoragePath``), one folder per
version: ``triage/<version>/model.json`` and ``card.json``. ``triage/latest.json`` points at the
version the daily run uses; it moves only when a new card meets ``triage_model.minimums`` and every
channel was read. ``triage/last-trained.json`` points at the newest training, used or not.

``load_latest_model(settings)`` is what the daily run calls: it returns the newest promoted model
whose card meets today's minimums (an older one when minimums were raised since), or None with a
warning (no model yet, none meets them, a corrupted file, anything else) and never raises, so the
rules decide and the run goes on. ``load_model_for_run`` also says, in words, when a promoted model
could not be read back from storage: the daily ``[Triage]`` shows that, so the team hears of it.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from community_monitoring.channels import channel
from community_monitoring.pipeline.run import TaskRun, community_task, storage_root

if TYPE_CHECKING:
    from community_monitoring.classify import PostClassifier
    from community_monitoring.settings import Settings
    from community_monitoring.triage_model import ModelCard, ModelClassifier, TriageModel

log = logging.getLogger(__name__)

DAG_ID = "community_triage_model"
HISTORY_CHANNELS: tuple[str, ...] = ("github", "gitlab", "forum", "stackoverflow", "uservoice")
MODEL_FOLDER = "triage"
LATEST = "latest.json"
LAST_TRAINED = "last-trained.json"
# Earlier promoted versions kept in latest.json, so a backfill can use the model of its own day.
PROMOTED_KEPT = 52
# A model file larger than this is not read (a healthy one is a few MB).
MAX_MODEL_BYTES = 200 * 1024 * 1024
TRAINING_SET = "training/examples.json"
TRAINING_RESULT = "training/result.json"


# -- storage ------------------------------------------------------------------------------------


def models_root(settings: Settings) -> Any:
    """``paths.models``/triage as an ObjectStoragePath ($AIRFLOW_HOME/community_monitoring/models)."""
    return storage_root(settings, "models") / MODEL_FOLDER


def _write_text(path: Any, text: str) -> None:
    """Write to a temporary name and rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.parent / (path.name + ".partial")
    with partial.open("w", encoding="utf-8") as stream:
        stream.write(text)
    partial.rename(path)


def _read_text(path: Any, limit: int = MAX_MODEL_BYTES) -> str:
    with path.open("rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # A binary file (a pickle, a skops archive) where JSON belongs: refused unread, by its name.
        from community_monitoring.triage_model import ModelFileError

        raise ModelFileError(
            f"{path.name} is not UTF-8 JSON text (a binary file, such as a pickle, is never loaded)"
        ) from None


def save_model(settings: Settings, model: TriageModel, card: ModelCard) -> Any:
    """Store a trained model and its card in their version's folder; returns the folder."""
    folder = models_root(settings) / model.version
    _write_text(folder / "model.json", model.to_json())
    _write_text(folder / "card.json", card.to_json())
    _write_text(models_root(settings) / LAST_TRAINED, json.dumps({"version": model.version}))
    return folder


def promote(settings: Settings, card: ModelCard) -> bool:
    """Point ``latest.json`` at this version, keeping earlier ones (newest history first) for backfills.

    A training on older history (a backfill or a manual run with an earlier ``as_of``) is kept
    among them but does not replace a model trained on newer history. Returns whether this version
    is now the one in use.
    """
    from community_monitoring.timeutil import parse_time

    pointer = models_root(settings) / LATEST
    entries: list[dict[str, str]] = [{"version": card.version, "as_of": card.as_of}]
    if pointer.exists():
        try:
            current = json.loads(_read_text(pointer, 1024 * 1024))
            for entry in [current, *current.get("previous", [])]:
                if entry["version"] != card.version:
                    entries.append({"version": str(entry["version"]), "as_of": str(entry["as_of"])})
            entries.sort(
                key=lambda e: parse_time(e["as_of"]), reverse=True
            )  # stable: ties keep the new one first
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s was unreadable (%s): it is replaced", pointer, exc)
            entries = entries[:1]
    latest, *previous = entries[: PROMOTED_KEPT + 1]
    _write_text(pointer, json.dumps({**latest, "previous": previous}, indent=1))
    if latest["version"] != card.version:
        log.info(
            "Triage model %s was trained on older history than %s, which stays in use",
            card.version,
            latest["version"],
        )
        return False
    return True


def _candidate_versions(pointer: dict[str, Any], as_of: datetime | None) -> list[str]:
    """The promoted versions the run may use, newest history first: all, or those trained on
    history up to ``as_of``."""
    from community_monitoring.timeutil import parse_time

    entries = [pointer, *pointer.get("previous", [])]
    return [
        str(entry["version"])
        for entry in entries
        if as_of is None or parse_time(str(entry["as_of"])) <= as_of
    ]


def _error_words(exc: BaseException) -> str:
    """``exc`` in words for the [Triage], which goes to the team's channel: a file error names the
    file, not where the deployment keeps its models (a folder on the workers, a bucket)."""
    if isinstance(exc, OSError) and (exc.strerror or exc.filename):
        name = str(exc.filename or "").rstrip("/").rsplit("/", 1)[-1]
        words = exc.strerror or "cannot be read"
        return f"{type(exc).__name__}: {words}: {name}" if name else f"{type(exc).__name__}: {words}"
    if isinstance(exc, OSError):
        # s3fs and other fsspec filesystems raise FileNotFoundError(path): the path is all it says.
        return f"{type(exc).__name__}: the file cannot be read"
    return f"{type(exc).__name__}: {exc}"


class _PassedOver(NamedTuple):
    """A promoted version the run did not use: why, in words after the version; and whether its card
    could not be read (storage lost or changed it: the team is told) rather than missing today's
    minimums (as the model DAG left it: the log says so)."""

    version: str
    why: str
    unreadable: bool


def _usable_card(
    settings: Settings, versions: list[str]
) -> tuple[str | None, ModelCard | None, list[_PassedOver]]:
    """The newest of ``versions`` whose card meets today's minimums (SPEC §12: "the latest one whose
    card meets configured minimums"), with its card, and the newer ones passed over with why, in
    words after the version: minimums raised since a promotion leave an older model that meets them
    in use. A card that cannot be read (gone, written in another format) shows nothing that meets
    them: its version is passed over too, rather than leaving an older one that does unused."""
    from community_monitoring.triage_model import ModelCard

    root = models_root(settings)
    passed_over: list[_PassedOver] = []
    for version in versions:
        try:
            card = ModelCard.from_json(
                _read_text(root / _checked_version(version) / "card.json", 1024 * 1024)
            )
        except Exception as exc:  # a missing file, a foreign format: whatever it is, not usable
            passed_over.append(_PassedOver(version, f"'s card cannot be read ({_error_words(exc)})", True))
            continue
        missing = card.shortfalls(settings.triage_model.minimums)
        if not missing:
            return version, card, passed_over
        passed_over.append(_PassedOver(version, f" misses the minimums ({'; '.join(missing)})", False))
    return None, None, passed_over


def in_use_instead(settings: Settings, as_of: datetime) -> str:
    """What the daily run at ``as_of`` decides with when this training is not promoted, in words:
    the version promoted earlier that it picks when its card meets today's minimums, or the rules.

    A training that is not promoted leaves ``latest.json`` as it was: saying "the rules decide" while
    an earlier model stays in use sends the team looking at the wrong decider."""
    pointer = models_root(settings) / LATEST
    try:
        if not pointer.exists():
            return "the rules decide (no model has been promoted yet)"
        versions = _candidate_versions(json.loads(_read_text(pointer, 1024 * 1024)), as_of)
        if not versions:
            return f"the rules decide (no promoted model was trained on history up to {as_of.isoformat()})"
        version, _, _ = _usable_card(settings, versions)
    except Exception as exc:  # the loader says the same and falls back to the rules
        return f"the rules decide (the promoted model cannot be read: {_error_words(exc)})"
    if version is None:
        return "the rules decide (every model promoted earlier misses today's minimums)"
    return f"the daily run keeps using triage model {version}, promoted earlier"


def load_latest_model(settings: Settings, as_of: datetime | None = None) -> TriageModel | None:
    """The promoted model whose card meets today's minimums, or None with a warning; never raises.

    ``as_of``: the run's T; a backfill then gets the model that was trained on its own past (the
    newest promoted version trained on history up to T), or none.
    """
    return load_model_for_run(settings, as_of)[0]


def load_model_for_run(settings: Settings, as_of: datetime | None = None) -> tuple[TriageModel | None, str]:
    """``load_latest_model``'s model, and what the team must be told beyond the log: "" when all is
    as the model DAG left it (a model in use; or none yet, none trained on history up to T, none
    that meets today's minimums: the rules decide, and the log says why), else, in words, the
    promoted model that storage could not give back (a corrupted, truncated or foreign file, a
    pointer or card that cannot be read), so that a broken model never falls back to the rules
    unseen. Never raises."""
    section = settings.triage_model
    if not section.enabled:
        log.info("The triage model is switched off (triage_model.enabled): the rules decide")
        return None, ""
    broken: list[str] = []
    try:
        model = _load_promoted(settings, as_of, broken)
    except Exception as exc:  # whatever is wrong with the stored model, the rules decide
        log.warning(
            "The triage model could not be loaded (%s: %s): the rules decide", type(exc).__name__, exc
        )
        broken.append(f"the promoted triage model could not be loaded ({_error_words(exc)})")
        model = None
    if not broken:
        return model, ""
    instead = f"triage model {model.version} decided instead" if model else "the rules decided every type"
    return model, f"{'; '.join(broken)}: {instead}. Retrain it (trigger {DAG_ID}) or restore the files."


def _load_promoted(settings: Settings, as_of: datetime | None, broken: list[str]) -> TriageModel | None:
    """The model to use; what could not be read on the way is logged and added to ``broken``."""
    from community_monitoring.triage_model import TriageModel, format_card

    root = models_root(settings)
    pointer = root / LATEST
    if not pointer.exists():
        log.warning("No triage model has been promoted yet (%s does not exist): the rules decide", pointer)
        return None
    versions = _candidate_versions(json.loads(_read_text(pointer, 1024 * 1024)), as_of)
    if not versions:
        log.warning("No promoted triage model was trained on history up to %s: the rules decide", as_of)
        return None
    # A promoted model whose model.json storage cannot give back is passed over as one whose card
    # cannot be read is: the next older promoted model that meets the minimums decides, not the rules.
    while versions:
        version, card, passed_over = _usable_card(settings, versions)
        for skipped in passed_over:
            log.warning("Triage model %s%s", skipped.version, skipped.why)
            if skipped.unreadable:
                broken.append(f"triage model {skipped.version}{skipped.why}")
        if version is None or card is None:
            break
        try:
            model = TriageModel.from_json(_read_text(root / version / "model.json"))
            if model.version != card.version:
                raise ValueError(f"it is version {model.version}, its card says {card.version}")
        except Exception as exc:  # named by version and file: which of the promoted models is broken
            why = f"'s model.json cannot be read ({_error_words(exc)})"
            log.warning("Triage model %s%s", version, why)
            broken.append(f"triage model {version}{why}")
            versions = versions[versions.index(version) + 1 :]
            continue
        _warn_on_version_drift(model)
        log.info(
            "Using triage model %s (threshold %.2f):\n%s",
            version,
            settings.triage_model.threshold,
            format_card(card),
        )
        return model
    log.warning("No promoted triage model meets the minimums and can be read: the rules decide")
    return None


def _checked_version(version: str) -> str:
    from community_monitoring.triage_model import VERSION_PATTERN

    if not VERSION_PATTERN.match(version):
        raise ValueError(f"latest.json names {version!r}, which is not a version id")
    return version


def _warn_on_version_drift(model: TriageModel) -> None:
    import sklearn

    if model.sklearn_version and model.sklearn_version != sklearn.__version__:
        log.warning(
            "Triage model %s was trained with scikit-learn %s, this worker has %s: its plain parameters "
            "still apply; the next weekly training brings them in line",
            model.version,
            model.sklearn_version,
            sklearn.__version__,
        )


def triage_classifier(settings: Settings, as_of: datetime | None = None) -> PostClassifier | ModelClassifier:
    """The post classifier of the daily ``[Triage]``: model then rules when a model loads, else the rules."""
    return triage_decider(settings, as_of)[0]


def triage_decider(
    settings: Settings, as_of: datetime | None = None
) -> tuple[PostClassifier | ModelClassifier, str]:
    """``triage_classifier``'s classifier and ``load_model_for_run``'s problem ("" when none), which
    the daily ``[Triage]`` shows."""
    from community_monitoring.classify import PostClassifier
    from community_monitoring.triage_model import ModelClassifier

    rules = PostClassifier.from_settings(settings)
    model, problem = load_model_for_run(settings, as_of)
    classifier = ModelClassifier(rules, model, settings.triage_model.threshold) if model else rules
    return classifier, problem


# -- tasks --------------------------------------------------------------------------------------


def _extract_history(run: TaskRun, key: str) -> dict[str, Any]:
    """Read one channel's posts created in (T − history_days, T] into the run store."""
    from community_monitoring.item_cache import ItemCache
    from community_monitoring.sources import Fetched, FetchRequest

    section = run.settings.triage_model
    if not run.settings.is_enabled(key) or not section.enabled:
        why = "channels.disabled" if section.enabled else "triage_model.enabled is off"
        log.info("Not reading %s history (%s)", key, why)
        run.store.save_channel(key, Fetched())
        return {"channel": key, "disabled": True}
    since = run.as_of - timedelta(days=section.history_days)
    log.info("Reading %s history: posts created in (%s, %s]", key, since.isoformat(), run.as_of.isoformat())
    request = FetchRequest(run.settings, since, run.as_of, cache=ItemCache.from_connection())
    counts = run.store.save_channel(key, channel(key).fetcher()(request))
    log.info("%s: %s written to the run store", channel(key).label, counts)
    return {"channel": key, **counts}


def _history_extractor(key: str) -> Callable[..., Any]:
    def extract(run: TaskRun) -> dict[str, Any]:
        return _extract_history(run, key)

    extract.__name__ = extract.__qualname__ = f"extract_{key}_history"
    extract.__doc__ = f"Read {channel(key).label}'s posts of the history window into the run store."
    return community_task(extract)


# One extract task per channel (``shape.extract(..., extractors=HISTORY_EXTRACTORS)``).
HISTORY_EXTRACTORS: dict[str, Callable[..., Any]] = {key: _history_extractor(key) for key in HISTORY_CHANNELS}


@community_task
def build_training_set(run: TaskRun) -> dict[str, Any]:
    """The team's decisions in the history that was read, as labelled examples."""
    from community_monitoring.history import build_training_set as decided_posts

    read = run.channels_read()
    posts = run.store.posts(key for key in HISTORY_CHANNELS if key in read["read"])
    training = decided_posts(posts, run.rosters.staff, run.settings, run.as_of)
    run.store.write_json(TRAINING_SET, [e.to_dict() for e in training.examples])
    summary = {
        "examples": len(training.examples),
        "by_type": training.counts("post_type"),
        "by_source": dict(sorted(Counter(f"{e.channel} {e.source}" for e in training.examples).items())),
        "skipped": dict(sorted(training.skipped.items())),
    }
    log.info("Training set as of %s: %s", run.as_of.isoformat(), json.dumps(summary))
    return {"examples": len(training.examples), "by_type": summary["by_type"]}


@community_task
def train_triage_model(run: TaskRun) -> dict[str, Any]:
    """Train on the training set, store the model and its card; promote it when the card is good."""
    from community_monitoring.history import Example
    from community_monitoring.triage_model import NotEnoughHistory, train

    section = run.settings.triage_model
    if not section.enabled:
        log.info("The triage model is switched off (triage_model.enabled): nothing trained")
        run.store.write_json(TRAINING_RESULT, {"trained": False, "reason": "triage_model.enabled is off"})
        return {"trained": False}
    examples = [Example.from_dict(e) for e in run.store.read_json(TRAINING_SET)]
    try:
        model, card = train(examples, run.settings, as_of=run.as_of)
    except NotEnoughHistory as exc:
        instead = in_use_instead(run.settings, run.as_of)
        log.warning("No triage model trained: %s. Instead, %s.", exc, instead)
        run.store.write_json(TRAINING_RESULT, {"trained": False, "reason": f"{exc}; instead, {instead}"})
        return {"trained": False}
    read = run.channels_read()
    # The card says which items this training lacks: the run's alert names them once, the card for
    # as long as the model is in use.
    card = card.with_items_not_read([f"{p['channel']} {p['item']}" for p in read.get("unreadable", ())])
    folder = save_model(run.settings, model, card)
    reasons = card.shortfalls(section.minimums)
    missing = read["missing"]
    if missing:
        reasons.append(f"channel(s) not read, so their history is missing: {', '.join(missing)}")
    instead = ""
    if reasons:
        instead = in_use_instead(run.settings, run.as_of)
        log.warning(
            "Triage model %s is stored in %s but not used: %s. Instead, %s.",
            model.version,
            folder,
            "; ".join(reasons),
            instead,
        )
    elif promote(run.settings, card):
        log.info(
            "Triage model %s is stored in %s and is now the one the daily run uses", model.version, folder
        )
    else:
        reasons.append("a model trained on newer history stays in use (this one serves backfills)")
    run.store.write_json(
        TRAINING_RESULT,
        {
            "trained": True,
            "promoted": not reasons,
            "reasons": reasons,
            "instead": instead,
            "folder": str(folder),
            "card": card.to_dict(),
        },
    )
    return {"version": model.version, "promoted": not reasons, "accuracy": round(card.cv_accuracy, 4)}


@community_task
def report_model_card(run: TaskRun) -> dict[str, Any]:
    """Log the card of this run's training (no message is posted)."""
    from community_monitoring.triage_model import ModelCard, format_card

    result = run.store.read_json(TRAINING_RESULT)
    if not result.get("trained"):
        log.warning("No triage model was trained in this run: %s", result.get("reason"))
        return {"trained": False}
    card = ModelCard.from_dict(result["card"])
    text = format_card(card, run.settings.triage_model.minimums)
    state = "in use from now on"
    if not result["promoted"]:
        state = "not used: " + "; ".join(result["reasons"])
        if result.get("instead"):
            state += f"; instead, {result['instead']}"
    log.info("Triage model card (%s; %s):\n%s", state, result["folder"], text)
    return {"version": card.version, "promoted": result["promoted"]}
