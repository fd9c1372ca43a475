"""The triage model (SPEC §12): training, its card, safe storage, and the model in front of the rules."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from builders import SETTINGS, T, post
from community_monitoring.classify import Classification
from community_monitoring.history import Example
from community_monitoring.settings import SettingsError, TriageModelMinimums, build_settings, default_rules
from community_monitoring.triage_model import (
    ModelCard,
    ModelClassifier,
    ModelFileError,
    NotEnoughHistory,
    TriageModel,
    format_card,
    model_input,
    train,
)

# Small, varied texts per type: enough for a 3-fold cross-validation to mean something.
OPENINGS = {
    "bug": [
        "Since {v} the {thing} is broken",
        "The {thing} shows the wrong {what} after an edit",
        "Regression: {thing} crashes when I open it",
        "{thing} freezes every time on {v}",
    ],
    "troubleshooting": [
        "Our nginx proxy in front of the {thing} gives 502",
        "x509 certificate error on our server for the {thing}",
        "Docker container for the {thing} can't connect to Postgres",
        "Our SMTP setup fails for the {thing}",
    ],
    "feature_proposal": [
        "It would be great to have an option for the {thing}",
        "Please add a setting to hide the {thing}",
        "Feature request: let admins configure the {thing}",
        "Would love the ability to export the {thing}",
    ],
    "question": [
        "How do I use the API to read the {thing}?",
        "Is there a way to get the {thing} with mmctl?",
        "What is the difference between the {thing} and the {what}?",
        "Where can I find the {thing} setting?",
    ],
}
THINGS = [
    "threads view",
    "channel sidebar",
    "search",
    "emoji picker",
    "webhook",
    "plugin",
    "mobile app",
    "desktop app",
]
WHATS = ["date", "count", "name", "order"]
TYPES = list(OPENINGS)
SMALL_MINIMUMS = TriageModelMinimums(examples=40, per_type=10, cv_accuracy=0.5, recall=0.4)


def generated_examples(per_type: int = 30, seed: int = 0, types: list[str] | None = None) -> list[Example]:
    rng = random.Random(seed)
    examples = []
    for post_type in types or TYPES:
        for _ in range(per_type):
            text = rng.choice(OPENINGS[post_type]).format(
                thing=rng.choice(THINGS), what=rng.choice(WHATS), v=f"11.{rng.randint(0, 3)}"
            )
            channel = rng.choice(["github", "forum"])
            examples.append(
                Example(f"{text}\n\n{text.lower()} ({rng.randint(1, 999)})", post_type, channel, "label")
            )
    return examples


def settings_with(**triage: Any) -> Any:
    section = SETTINGS.triage_model.model_copy(update={"cv_folds": 3, **triage})
    return SETTINGS.model_copy(update={"triage_model": section})


@pytest.fixture(scope="module")
def trained() -> tuple[TriageModel, ModelCard]:
    return train(generated_examples(), settings_with(), as_of=None)


def probe_posts() -> list[Any]:
    return [
        post("github", title="Is there a way to read the search with the API?"),
        post("forum", title="Our nginx proxy answers 502 for the plugin", body="x509 in the log"),
        post("github", title="Please add an option to hide the emoji picker"),
        post("github", title="Regression: the threads view crashes since 11.2"),
        post("stackoverflow", title="<p>How do I &amp; where?</p>"),
    ]


def test_training_gives_a_model_and_a_cross_validated_card(trained: tuple[TriageModel, ModelCard]) -> None:
    model, card = trained
    assert card.training_size == 120
    assert card.counts_by_type == {t: 30 for t in TYPES}
    assert sum(card.counts_by_channel.values()) == 120
    assert set(card.counts_by_source) <= {"github label", "forum label"}
    assert card.cv_folds == 3
    assert set(card.cv_scores) == set(TYPES)
    assert all(score.support == 30 for score in card.cv_scores.values())
    assert card.cv_accuracy > 0.8
    assert 0 < card.temperature < 50
    assert 0 <= card.cv_decided_share <= 1
    assert card.version == model.version
    assert card.sklearn_version == model.sklearn_version
    assert card.features == sum(len(v.vocabulary_) for v in model.vectorizers)
    assert sorted(model.classes) == sorted(TYPES)
    assert card.classes == model.classes
    assert card.meets(SMALL_MINIMUMS)
    decided = model.predict_many(probe_posts()[:4])
    assert [t for t, _ in decided] == ["question", "troubleshooting", "feature_proposal", "bug"]
    assert all(0 < p <= 1 for _, p in decided)


def test_the_card_names_every_minimum_it_misses(trained: tuple[TriageModel, ModelCard]) -> None:
    _, card = trained
    strict = TriageModelMinimums(examples=500, per_type=40, cv_accuracy=1.0, recall=1.0)
    missing = card.shortfalls(strict)
    assert missing[0] == "120 examples (minimum 500)"
    assert "bug: 30 examples (minimum 40)" in missing
    assert not card.meets(strict)
    weaker = replace(
        card,
        cv_accuracy=0.5,
        cv_scores={**card.cv_scores, "bug": replace(card.cv_scores["bug"], recall=0.25)},
    )
    # Exactly at a minimum meets it (accuracy 50%, minimum 50%).
    assert weaker.shortfalls(SMALL_MINIMUMS) == ["bug: cross-validated recall 25.0% (minimum 40%)"]
    lower = TriageModelMinimums(examples=40, per_type=10, cv_accuracy=0.6, recall=0.4)
    assert weaker.shortfalls(lower) == [
        "cross-validated accuracy 50.0% (minimum 60%)",
        "bug: cross-validated recall 25.0% (minimum 40%)",
    ]
    text = format_card(card, strict)
    assert "3-fold stratified cross-validation" in text
    assert "Minimums not met: 120 examples (minimum 500)" in text
    assert "Minimums: met" in format_card(card, SMALL_MINIMUMS)


def test_the_card_names_the_items_its_training_could_not_read(trained: tuple[TriageModel, ModelCard]) -> None:
    """A model trained while some items could not be read was promoted with nothing on its card
    to say so: only that run's alert named them."""
    _, card = trained
    assert card.items_not_read == ()
    assert "Not read" not in format_card(card)
    names = tuple(f"github mattermost/mattermost#{n}" for n in range(12))
    lacking = replace(card, items_not_read=names)
    again = ModelCard.from_json(lacking.to_json())
    assert again.items_not_read == names
    assert again == lacking
    text = format_card(again)
    assert "Not read, so not trained on: github mattermost/mattermost#0, " in text
    assert text.endswith("and 2 more")
    # A card written before the field existed still loads, lacking nothing.
    older = json.loads(card.to_json())
    del older["items_not_read"]
    assert ModelCard.from_dict(older).items_not_read == ()


def test_a_card_naming_a_years_worth_of_unread_items_still_loads(tmp_path: Any) -> None:
    """A channel whose every item fails its checks for a year (a configured Stack Exchange filter
    without the question tags) left tens of thousands of names on the card: past the 1 MiB a card
    is read up to, the model was passed over as unreadable and the rules decided every day. The
    card keeps the first names and the count."""
    from community_monitoring.pipeline.triage_model import promote, save_model, triage_decider

    settings = stored_settings(tmp_path / "models")
    model, card = train(generated_examples(per_type=12), settings, as_of=T)
    names = [
        f"stackoverflow https://stackoverflow.com/questions/{n}/a-title-as-long-as-many-are"
        for n in range(20_000)
    ]
    card = card.with_items_not_read(names)
    save_model(settings, model, card)
    assert promote(settings, card)
    classifier, problem = triage_decider(settings, T)
    assert problem == ""
    assert isinstance(classifier, ModelClassifier)
    assert card.items_not_read == tuple(names[: len(card.items_not_read)])
    assert format_card(card).endswith(f"and {20_000 - 10} more")


def test_the_same_history_gives_the_same_version() -> None:
    examples = generated_examples(per_type=12, seed=3)
    first, _ = train(examples, settings_with(), as_of=T)
    again, _ = train(list(reversed(examples)), settings_with(), as_of=T)
    other, _ = train(generated_examples(per_type=12, seed=4), settings_with(), as_of=T)
    assert first.version == again.version
    assert first.version.startswith("20261118T090000Z-")
    assert first.version != other.version


def test_the_same_decisions_in_another_order_give_the_same_model_and_card() -> None:
    """The channels may list the same history in another order (a forum topic with a new reply
    comes first): the version id says it is the same model, so the model and card must be too."""
    examples = generated_examples(per_type=12, seed=3)
    created = T + timedelta(hours=1)
    first, first_card = train(examples, settings_with(), as_of=T, created_at=created)
    shuffled = list(examples)
    random.Random(7).shuffle(shuffled)
    for other in (list(reversed(examples)), shuffled):
        again, again_card = train(other, settings_with(), as_of=T, created_at=created)
        assert again.version == first.version
        assert again_card == first_card
        assert again.to_json() == first.to_json()


def test_save_and_load_give_the_same_predictions(trained: tuple[TriageModel, ModelCard]) -> None:
    model, card = trained
    loaded = TriageModel.from_json(model.to_json())
    posts = probe_posts()
    assert loaded.predict_many(posts) == model.predict_many(posts)
    assert (loaded.version, loaded.classes, loaded.temperature) == (
        model.version,
        model.classes,
        model.temperature,
    )
    assert ModelCard.from_json(card.to_json()) == card


def test_the_stored_model_is_plain_json(trained: tuple[TriageModel, ModelCard]) -> None:
    data = json.loads(trained[0].to_json())
    assert data["format"] == "community-monitoring/triage-model"
    assert [v["analyzer"] for v in data["vectorizers"]] == ["word", "char_wb"]
    assert [v["ngram_range"] for v in data["vectorizers"]] == [[1, 2], [3, 5]]
    assert len(data["linear"]["coef"]) == 4
    assert data["calibration"]["method"] == "temperature"


def corrupt(model: TriageModel, change: Any) -> str:
    data = json.loads(model.to_json())
    change(data)
    return json.dumps(data)


def set_key(path: list[Any], value: Any) -> Any:
    def change(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return change


CORRUPTIONS = [
    ("truncated", lambda m: m.to_json()[: len(m.to_json()) // 2], "not valid JSON"),
    ("empty", lambda m: "", "not valid JSON"),
    ("not UTF-8", lambda m: b"\xff\xfe{", "not valid JSON"),
    ("a list", lambda m: "[1, 2]", "JSON object"),
    ("another format", lambda m: corrupt(m, set_key(["format"], "pickle")), "not a triage model file"),
    ("newer format", lambda m: corrupt(m, set_key(["format_version"], 99)), "format_version 99"),
    ("unknown class", lambda m: corrupt(m, set_key(["classes", 0], "rant")), "not post types"),
    ("bad version id", lambda m: corrupt(m, set_key(["version"], "../../etc")), "not a version id"),
    (
        "other analyzer",
        lambda m: corrupt(m, set_key(["vectorizers", 1, "analyzer"], "char")),
        "vectorizers[1]: settings",
    ),
    (
        "short idf",
        lambda m: corrupt(m, lambda d: d["vectorizers"][0]["idf"].pop()),
        "vectorizers[0].idf: shape",
    ),
    (
        "term twice",
        lambda m: corrupt(
            m,
            lambda d: d["vectorizers"][0]["vocabulary"].__setitem__(1, d["vectorizers"][0]["vocabulary"][0]),
        ),
        "holds a term twice",
    ),
    ("coef row missing", lambda m: corrupt(m, lambda d: d["linear"]["coef"].pop()), "linear.coef: shape"),
    ("coef column missing", lambda m: corrupt(m, lambda d: d["linear"]["coef"][0].pop()), "linear.coef"),
    ("text in coef", lambda m: corrupt(m, set_key(["linear", "coef", 0, 0], "1.0")), "linear.coef"),
    (
        "NaN in intercept",
        lambda m: corrupt(m, set_key(["linear", "intercept", 0], float("nan"))),
        "not finite",
    ),
    ("negative idf", lambda m: corrupt(m, set_key(["vectorizers", 0, "idf", 0], -1.0)), "positive"),
    (
        "no temperature",
        lambda m: corrupt(m, set_key(["calibration", "temperature"], 0)),
        "calibration.temperature",
    ),
    ("text settings", lambda m: corrupt(m, set_key(["text", "max_chars"], 10)), "text settings"),
]


@pytest.mark.parametrize(("name", "make", "message"), CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_a_corrupted_model_file_is_a_clear_error(
    trained: tuple[TriageModel, ModelCard], name: str, make: Any, message: str
) -> None:
    with pytest.raises(ModelFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        TriageModel.from_json(make(trained[0]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ('{"format": "community-monitoring/triage-model-card", "format_version": 1}', "fields"),
        ('{"format": "x"}', "not a triage model card"),
    ],
)
def test_a_corrupted_card_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        ModelCard.from_json(text)


def test_two_types_make_a_binary_model_that_stores_and_loads() -> None:
    model, card = train(generated_examples(types=["bug", "question"]), settings_with())
    assert model.classes == ("bug", "question")
    assert model.linear.coef_.shape[0] == 1
    posts = probe_posts()
    assert TriageModel.from_json(model.to_json()).predict_many(posts) == model.predict_many(posts)
    assert "troubleshooting: 0 examples (minimum 10)" in card.shortfalls(SMALL_MINIMUMS)
    assert "troubleshooting    not learned (no examples)" in format_card(card)


def test_a_type_seen_once_is_counted_but_not_learned() -> None:
    examples = [
        *generated_examples(per_type=15, types=["bug", "question", "feature_proposal"]),
        Example("Our proxy is broken", "troubleshooting", "forum", "category"),
    ]
    model, card = train(examples, settings_with())
    assert "troubleshooting" not in model.classes
    assert card.counts_by_type["troubleshooting"] == 1
    assert card.cv_folds == 3
    # The card says so, rather than show the type's scores as a measured 0%.
    text = format_card(card)
    assert "46 examples (45 of them learned from) by type" in text
    assert (
        "troubleshooting    not learned (1 example, two are needed): the model never gives this type" in text
    )
    assert "troubleshooting         0.0%" not in text


@pytest.mark.parametrize(
    "examples",
    [
        [],
        generated_examples(per_type=20, types=["bug"]),
        [Example("a", "bug", "github", "label"), Example("b", "question", "github", "label")],
    ],
)
def test_too_little_history_to_train(examples: list[Example]) -> None:
    with pytest.raises(NotEnoughHistory, match="at least two types"):
        train(examples, settings_with())


def test_model_input_reads_the_author_text_without_markup() -> None:
    assert (
        model_input("stackoverflow", "<p>How do I &amp; why</p>") == "channel_stackoverflow\n How do I & why "
    )
    assert model_input("github", "a < b") == "channel_github\na < b"
    assert len(model_input("forum", "x" * 20_000)) == 8000


class FixedModel:
    """A stand-in model that always answers the same."""

    def __init__(self, post_type: str, probability: float) -> None:
        self.answer = (post_type, probability)

    def predict(self, post: Any) -> tuple[str, float]:
        return self.answer

    def predict_many(self, posts: Any) -> list[tuple[str, float]]:
        return [self.answer for _ in posts]


class FixedRules:
    def classify(self, post: Any) -> Classification:
        return Classification("bug", "default for github")


@pytest.mark.parametrize(
    ("probability", "threshold", "expected"),
    [
        (0.86, 0.6, Classification("question", "model 0.86")),
        (0.6, 0.6, Classification("question", "model 0.60")),  # at the threshold: the model
        (0.599, 0.6, Classification("bug", "default for github")),  # below: the rules
        (0.999, 0.6, Classification("question", "model 0.99")),  # never shown rounded up
        (1.0, 0.6, Classification("question", "model 0.99")),  # nor as certain
        (0.2, 0.0, Classification("question", "model 0.20")),
        (0.97, 1.0, Classification("bug", "default for github")),
    ],
)
def test_the_model_decides_at_or_above_the_threshold(
    probability: float, threshold: float, expected: Classification
) -> None:
    classifier = ModelClassifier(FixedRules(), FixedModel("question", probability), threshold)  # type: ignore[arg-type]
    assert classifier.classify(post()) == expected
    assert classifier.classify_all([post(), post(number=2)]) == [expected, expected]


def test_model_classifier_with_a_real_model_and_rules(trained: tuple[TriageModel, ModelCard]) -> None:
    from community_monitoring.classify import PostClassifier

    rules = PostClassifier.from_settings(SETTINGS)
    classifier = ModelClassifier(rules, trained[0], 0.6)
    decided = classifier.classify(post("github", title="Please add an option to hide the emoji picker"))
    assert decided.post_type == "feature_proposal"
    assert decided.rule.startswith("model 0.")  # probabilities are shown below 1
    sure_never = ModelClassifier(rules, trained[0], 1.01)
    anything = post("github", title="Please add an option to hide the emoji picker")
    assert sure_never.classify(anything) == rules.classify(anything)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"threshold": "0.6"}, "triage_model.threshold"),
        ({"threshold": 1.5}, "triage_model.threshold"),
        ({"history_days": 3}, "triage_model.history_days"),
        ({"cv_folds": 1}, "triage_model.cv_folds"),
        ({"labels": {"rant": ["x"]}}, "triage_model.labels.rant"),
        ({"minimums": {"recall": 2}}, "triage_model.minimums.recall"),
        ({"enabled": "false"}, "triage_model.enabled"),
        ({"colour": "blue"}, "triage_model.colour"),
    ],
)
def test_the_triage_model_settings_are_strict(override: dict[str, Any], message: str) -> None:
    rules, source = default_rules()
    with pytest.raises(SettingsError, match=message):
        build_settings(rules, {"triage_model": override}, source)


def test_the_bundled_triage_model_settings() -> None:
    section = SETTINGS.triage_model
    assert section.enabled
    assert (section.history_days, section.settle_days, section.threshold, section.cv_folds) == (
        365,
        7,
        0.9,
        5,
    )
    assert "Type/Bug" in section.labels["bug"]
    assert "MM-{number}" in section.redirect_phrases["bug"]
    assert "nginx" in section.stackoverflow_tags["troubleshooting"]
    assert SETTINGS.paths.models == ""


# -- storage and promotion (the task layer's files, on a local folder) ------------------------------


def stored_settings(models: Any) -> Any:
    from community_monitoring.settings import load_settings

    small = {"examples": 40, "per_type": 10, "cv_accuracy": 0.5, "recall": 0.4}
    return load_settings(
        {"paths": {"models": str(models)}, "triage_model": {"minimums": small, "cv_folds": 3}}
    )


def test_promotion_keeps_the_model_of_the_newest_history_and_serves_backfills(tmp_path: Any) -> None:
    from datetime import timedelta

    from community_monitoring.pipeline.triage_model import load_latest_model, promote, save_model

    settings = stored_settings(tmp_path / "models")
    trained = {}
    for name, as_of in (
        ("now", T),
        ("backfill", T - timedelta(days=7)),
        ("next week", T + timedelta(days=7)),
    ):
        model, card = train(generated_examples(per_type=12, seed=len(trained)), settings, as_of=as_of)
        save_model(settings, model, card)
        trained[name] = (model.version, promote(settings, card))
    assert [in_use for _, in_use in trained.values()] == [True, False, True]
    pointer = json.loads((tmp_path / "models" / "triage" / "latest.json").read_text())
    assert pointer["version"] == trained["next week"][0]
    assert [p["version"] for p in pointer["previous"]] == [trained["now"][0], trained["backfill"][0]]
    assert load_latest_model(settings).version == trained["next week"][0]  # type: ignore[union-attr]
    assert load_latest_model(settings, as_of=T).version == trained["now"][0]  # type: ignore[union-attr]
    assert load_latest_model(settings, as_of=T - timedelta(days=3)).version == trained["backfill"][0]  # type: ignore[union-attr]
    assert load_latest_model(settings, as_of=T - timedelta(days=30)) is None


def test_a_pointer_to_a_strange_version_is_refused(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from community_monitoring.pipeline.triage_model import load_latest_model

    folder = tmp_path / "models" / "triage"
    folder.mkdir(parents=True)
    (folder / "latest.json").write_text(
        json.dumps({"version": "../../../etc/passwd", "as_of": "2026-11-18T09:00:00Z"})
    )
    caplog.set_level(logging.WARNING)
    assert load_latest_model(stored_settings(tmp_path / "models")) is None
    assert "not a version id" in caplog.text


def test_a_label_or_a_forum_category_the_team_set_stays_decisive() -> None:
    from builders import SETTINGS, post
    from community_monitoring.classify import Classification, PostClassifier
    from community_monitoring.triage_model import ModelClassifier

    class Sure:
        def predict(self, _: object) -> tuple[str, float]:
            return "bug", 0.99

    rules = PostClassifier.from_settings(SETTINGS)
    classifier = ModelClassifier(rules, Sure(), 0.6)  # type: ignore[arg-type]
    in_category = post(channel="forum", category="Troubleshooting", title="Blank window after start")
    assert classifier.classify(in_category).post_type == "troubleshooting"
    plain = post(channel="forum", title="Blank window after start")
    assert classifier.classify(plain) == Classification("bug", "model 0.99")


def test_a_training_not_promoted_names_what_the_daily_run_uses_instead(tmp_path: Any) -> None:
    """A weak or impossible training leaves an earlier promoted model in use: its log must say so,
    not that the rules decide."""
    from datetime import timedelta

    from community_monitoring.pipeline.triage_model import in_use_instead, promote, save_model
    from community_monitoring.settings import load_settings

    settings = stored_settings(tmp_path / "models")
    assert in_use_instead(settings, T) == "the rules decide (no model has been promoted yet)"
    model, card = train(generated_examples(per_type=12), settings, as_of=T - timedelta(days=7))
    save_model(settings, model, card)
    assert promote(settings, card)
    assert in_use_instead(settings, T) == (
        f"the daily run keeps using triage model {model.version}, promoted earlier"
    )
    assert in_use_instead(settings, T - timedelta(days=30)).startswith(
        "the rules decide (no promoted model was trained on history up to"
    )
    stricter = load_settings(
        {"paths": {"models": str(tmp_path / "models")}, "triage_model": {"minimums": {"examples": 10_000}}}
    )
    assert in_use_instead(stricter, T) == (
        "the rules decide (every model promoted earlier misses today's minimums)"
    )
    (tmp_path / "models" / "triage" / "latest.json").write_text("{not json")
    assert in_use_instead(settings, T).startswith("the rules decide (")
    # A file error names the file, never the folder the deployment keeps its models in.
    (tmp_path / "models" / "triage" / "latest.json").unlink()
    (tmp_path / "models" / "triage" / "latest.json").mkdir()
    unreadable = in_use_instead(settings, T)
    assert unreadable.startswith("the rules decide (the promoted model cannot be read: ")
    assert "latest.json" in unreadable
    assert str(tmp_path) not in unreadable


def test_the_daily_run_uses_the_newest_promoted_model_that_meets_todays_minimums(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """SPEC §12: "the latest one whose card meets configured minimums": minimums raised since the
    newest promotion leave an older model that meets them in use, not the rules."""
    import logging
    from datetime import timedelta

    from community_monitoring.pipeline.triage_model import (
        in_use_instead,
        load_latest_model,
        promote,
        save_model,
    )
    from community_monitoring.settings import load_settings

    settings = stored_settings(tmp_path / "models")
    older, older_card = train(generated_examples(per_type=30), settings, as_of=T - timedelta(days=14))
    newer, newer_card = train(generated_examples(per_type=12, seed=1), settings, as_of=T - timedelta(days=7))
    for model, card in ((older, older_card), (newer, newer_card)):
        save_model(settings, model, card)
        assert promote(settings, card)
    raised = load_settings(
        {
            "paths": {"models": str(tmp_path / "models")},
            "triage_model": {
                "minimums": {"examples": 100, "per_type": 10, "cv_accuracy": 0.5, "recall": 0.4}
            },
        }
    )
    caplog.set_level(logging.WARNING)
    assert load_latest_model(settings, T).version == newer.version  # type: ignore[union-attr]
    assert load_latest_model(raised, T).version == older.version  # type: ignore[union-attr]
    assert f"Triage model {newer.version} misses the minimums (48 examples (minimum 100))" in caplog.text
    assert (
        in_use_instead(raised, T)
        == f"the daily run keeps using triage model {older.version}, promoted earlier"
    )
    # Backfills still get only a model of their own past.
    assert load_latest_model(raised, T - timedelta(days=10)).version == older.version  # type: ignore[union-attr]
    assert load_latest_model(raised, T - timedelta(days=20)) is None


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda card: card.unlink(), id="card deleted"),
        pytest.param(
            lambda card: card.write_text(
                card.read_text().replace('"format_version": 1', '"format_version": 0')
            ),
            id="card of another format",
        ),
    ],
)
def test_a_promoted_version_whose_card_cannot_be_read_is_passed_over_for_an_older_one(
    tmp_path: Any, caplog: pytest.LogCaptureFixture, damage: Any
) -> None:
    """The newest promoted model that meets today's minimums is used (SPEC §12): a version between
    it and a newer one missing them, whose card is gone or written in another format, shows nothing
    that meets them, so it is passed over (named, with why) rather than leaving the rules to decide."""
    import logging
    from datetime import timedelta

    from community_monitoring.pipeline.triage_model import (
        in_use_instead,
        load_latest_model,
        promote,
        save_model,
        triage_decider,
    )
    from community_monitoring.settings import load_settings

    settings = stored_settings(tmp_path / "models")
    oldest, oldest_card = train(generated_examples(per_type=30), settings, as_of=T - timedelta(days=21))
    middle, middle_card = train(
        generated_examples(per_type=30, seed=2), settings, as_of=T - timedelta(days=14)
    )
    newest, newest_card = train(
        generated_examples(per_type=12, seed=1), settings, as_of=T - timedelta(days=7)
    )
    for model, card in ((oldest, oldest_card), (middle, middle_card), (newest, newest_card)):
        save_model(settings, model, card)
        assert promote(settings, card)
    damage(tmp_path / "models" / "triage" / middle.version / "card.json")
    raised = load_settings(
        {
            "paths": {"models": str(tmp_path / "models")},
            "triage_model": {
                "minimums": {"examples": 100, "per_type": 10, "cv_accuracy": 0.5, "recall": 0.4}
            },
        }
    )
    caplog.set_level(logging.WARNING)
    assert load_latest_model(raised, T).version == oldest.version  # type: ignore[union-attr]
    assert f"Triage model {newest.version} misses the minimums" in caplog.text
    assert f"Triage model {middle.version}'s card cannot be read" in caplog.text
    assert (
        in_use_instead(raised, T)
        == f"the daily run keeps using triage model {oldest.version}, promoted earlier"
    )
    # The daily [Triage] names the version passed over and the one that decided instead.
    _, problem = triage_decider(raised, T)
    assert problem.startswith(f"triage model {middle.version}'s card cannot be read (")
    assert f": triage model {oldest.version} decided instead. Retrain it" in problem


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        pytest.param(
            lambda folder, version: (folder / version / "model.json").write_text(
                (folder / version / "model.json").read_text()[:2000]
            ),
            "is not valid JSON",
            id="truncated model",
        ),
        pytest.param(
            lambda folder, version: (folder / version / "model.json").write_text(
                (folder / version / "model.json")
                .read_text()
                .replace('"format_version":1', '"format_version":7')
            ),
            "format_version 7 is not 1",
            id="model of an unknown format version",
        ),
        pytest.param(
            lambda folder, version: (folder / version / "card.json").unlink(),
            "card cannot be read",
            id="card gone",
        ),
        pytest.param(
            lambda folder, version: (folder / "latest.json").write_text('{"version": "'),
            "could not be loaded",
            id="pointer half written",
        ),
    ],
)
def test_a_promoted_model_storage_cannot_give_back_is_named_in_the_triage_list(
    tmp_path: Any, caplog: pytest.LogCaptureFixture, damage: Any, words: str
) -> None:
    """The rules decide, the daily run goes on, and the team is told in the [Triage] itself: a
    warning in a green task's log alone is a silent fallback."""
    import logging

    from community_monitoring.classify import PostClassifier
    from community_monitoring.messages import render_triage_items
    from community_monitoring.pipeline.triage_model import promote, save_model, triage_decider

    settings = stored_settings(tmp_path / "models")
    model, card = train(generated_examples(per_type=12), settings, as_of=T)
    save_model(settings, model, card)
    assert promote(settings, card)
    classifier, problem = triage_decider(settings, T)
    assert isinstance(classifier, ModelClassifier)
    assert problem == ""
    damage(tmp_path / "models" / "triage", model.version)
    caplog.set_level(logging.WARNING)
    classifier, problem = triage_decider(settings, T)
    assert type(classifier) is PostClassifier
    assert words in problem
    assert problem.endswith(
        "the rules decided every type. Retrain it (trigger community_triage_model) or restore the files."
    )
    assert "the rules decide" in caplog.text
    text = render_triage_items([], settings, T, model_problem=problem).text
    assert ":warning: Triage model not used: " in text
    assert "Retrain it \\(trigger community\\_triage\\_model\\)" in text
    assert ":warning: Triage model not used" not in render_triage_items([], settings, T).text


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda path: path.write_text(path.read_text()[:2000]), id="truncated"),
        pytest.param(lambda path: path.unlink(), id="gone"),
        pytest.param(
            lambda path: path.write_text(path.read_text().replace('"version":"', '"version":"0', 1)),
            id="another version's",
        ),
    ],
)
def test_a_newer_model_storage_cannot_give_back_leaves_the_older_promoted_one_deciding(
    tmp_path: Any, damage: Any
) -> None:
    """A promoted model whose model.json cannot be read is passed over as one whose card cannot be:
    the older promoted model that meets the minimums decides (not the rules), and the [Triage] names
    the broken version and the one that decided instead."""
    from community_monitoring.pipeline.triage_model import promote, save_model, triage_decider

    settings = stored_settings(tmp_path / "models")
    older, older_card = train(generated_examples(per_type=12), settings, as_of=T - timedelta(days=7))
    newer, newer_card = train(generated_examples(per_type=12, seed=1), settings, as_of=T)
    for model, card in ((older, older_card), (newer, newer_card)):
        save_model(settings, model, card)
        assert promote(settings, card)
    assert triage_decider(settings, T)[0].model.version == newer.version  # type: ignore[union-attr]
    damage(tmp_path / "models" / "triage" / newer.version / "model.json")
    classifier, problem = triage_decider(settings, T)
    assert isinstance(classifier, ModelClassifier)
    assert classifier.model.version == older.version
    assert problem.startswith(f"triage model {newer.version}'s model.json cannot be read (")
    assert f": triage model {older.version} decided instead. Retrain it" in problem
    assert str(tmp_path) not in problem


@pytest.mark.parametrize("gone", ["card.json", "model.json"])
def test_a_model_file_gone_is_named_in_the_triage_list_without_the_storage_path(
    tmp_path: Any, gone: str
) -> None:
    """The [Triage] goes to the team's channel: it names the version and what is wrong with it, not
    where the deployment keeps its models (a folder on the workers, a bucket); the log has the rest."""
    from community_monitoring.pipeline.triage_model import promote, save_model, triage_decider

    settings = stored_settings(tmp_path / "models")
    model, card = train(generated_examples(per_type=12), settings, as_of=T)
    save_model(settings, model, card)
    assert promote(settings, card)
    (tmp_path / "models" / "triage" / model.version / gone).unlink()
    problem = triage_decider(settings, T)[1]
    assert "No such file or directory" in problem
    assert str(tmp_path) not in problem
    assert f"No such file or directory: {gone}" in problem


class _Unpickled:
    """A pickle payload: loading it would create ``path`` (it must never be loaded)."""

    def __init__(self, path: Any) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


@pytest.mark.parametrize("name", ["model.json", "card.json"])
def test_a_pickle_in_the_model_folder_is_never_loaded_and_is_named_by_version_and_file(
    tmp_path: Any, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """SPEC §12: no pickle from storage. A binary file put in place of the promoted model or its card
    is refused unread, and the log and the [Triage] name the version and the file, not a bare
    UnicodeDecodeError (the brief's "clear errors name the bad input")."""
    import logging
    import pickle

    from community_monitoring.classify import PostClassifier
    from community_monitoring.pipeline.triage_model import promote, save_model, triage_decider

    settings = stored_settings(tmp_path / "models")
    model, card = train(generated_examples(per_type=12), settings, as_of=T)
    save_model(settings, model, card)
    assert promote(settings, card)
    marker = tmp_path / "unpickled"
    (tmp_path / "models" / "triage" / model.version / name).write_bytes(pickle.dumps(_Unpickled(marker)))
    caplog.set_level(logging.WARNING)
    classifier, problem = triage_decider(settings, T)
    assert type(classifier) is PostClassifier
    assert not marker.exists()
    assert f"triage model {model.version}" in problem
    assert f"{name} is not UTF-8 JSON text" in problem
    assert "UnicodeDecodeError" not in problem
    assert str(tmp_path) not in problem
    assert f"{name} is not UTF-8 JSON text" in caplog.text
    assert model.version in caplog.text


def test_a_model_file_too_large_is_named_without_the_storage_path(tmp_path: Any) -> None:
    """A card past the size a card is read up to is named by its file in the [Triage], not by
    where the deployment keeps its models."""
    from community_monitoring.pipeline.triage_model import promote, save_model, triage_decider

    settings = stored_settings(tmp_path / "models")
    model, card = train(generated_examples(per_type=12), settings, as_of=T)
    save_model(settings, model, card)
    assert promote(settings, card)
    (tmp_path / "models" / "triage" / model.version / "card.json").write_text(" " * (2 * 1024 * 1024))
    problem = triage_decider(settings, T)[1]
    assert "card.json is larger than 1048576 bytes" in problem
    assert str(tmp_path) not in problem


def test_no_model_yet_or_one_below_the_minimums_is_no_problem_to_report(tmp_path: Any) -> None:
    """What the model DAG left as it meant to (no promotion yet, a card below today's minimums, a
    backfill before the first training) is logged: the [Triage] says nothing of it."""
    from datetime import timedelta

    from community_monitoring.pipeline.triage_model import promote, save_model, triage_decider
    from community_monitoring.settings import load_settings

    settings = stored_settings(tmp_path / "models")
    assert triage_decider(settings, T)[1] == ""
    model, card = train(generated_examples(per_type=12), settings, as_of=T)
    save_model(settings, model, card)
    assert promote(settings, card)
    assert triage_decider(settings, T - timedelta(days=1))[1] == ""
    raised = load_settings(
        {"paths": {"models": str(tmp_path / "models")}, "triage_model": {"minimums": {"examples": 10_000}}}
    )
    assert triage_decider(raised, T)[1] == ""
