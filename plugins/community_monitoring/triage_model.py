"""The triage model (SPEC §12): a text classifier learned from the team's own past decisions.

``train(examples, settings)`` fits TF-IDF word n-grams (1–2) and character n-grams (``char_wb``
3–5) with a multinomial logistic regression (class weights balanced), measures it by stratified
k-fold cross-validation and calibrates its probabilities by temperature scaling on the
cross-validated scores. It returns the :class:`TriageModel` and its :class:`ModelCard` (counts,
cross-validated precision/recall/F1 per type, accuracy, what the threshold lets the model decide).

**Storage is safe.** A model is stored as plain parameters in JSON (vocabulary, idf, coefficients,
intercepts, classes, the calibration temperature) and rebuilt by setting those attributes on fresh
scikit-learn objects: nothing from storage is ever unpickled or executed. Every field is checked
(type, shape, finite numbers, the vectorizer settings this code supports), so a corrupted,
truncated or foreign file is a :class:`ModelFileError` that says what is wrong.

``ModelClassifier`` puts the model in front of the rules: the model decides when its probability
for the best type reaches the threshold (``rule="model 0.86"``), otherwise the rules do. This module
reads and writes nothing; the task layer (``pipeline/triage_model.py``) stores and loads the files.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from community_monitoring.classify import Classification
from community_monitoring.history import Example, example_text
from community_monitoring.records import Post
from community_monitoring.settings import POST_TYPES, Settings, TriageModelMinimums

if TYPE_CHECKING:
    from community_monitoring.classify import PostClassifier

MODEL_FORMAT = "community-monitoring/triage-model"
CARD_FORMAT = "community-monitoring/triage-model-card"
FORMAT_VERSION = 1
VERSION_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,79}$")
# The most items not read a card names (it counts the rest): a card is read up to 1 MiB.
CARD_NOT_READ_NAMES = 200

# How a post becomes the model's input (stored in the file and checked when it is loaded).
TEXT_SETTINGS: dict[str, Any] = {"channel_token": True, "max_chars": 8000}
# The vectorizers' settings: fixed by this code; a file made with others is refused.
VECTORIZER_COMMON: dict[str, Any] = {
    "lowercase": True,
    "strip_accents": "unicode",
    "sublinear_tf": True,
    "norm": "l2",
    "use_idf": True,
    "smooth_idf": True,
}
VECTORIZERS: tuple[dict[str, Any], ...] = (
    {"analyzer": "word", "ngram_range": [1, 2]},
    {"analyzer": "char_wb", "ngram_range": [3, 5]},
)
# Training only: rare terms are dropped, each vectorizer keeps its most frequent terms.
MAX_FEATURES = 20_000
REGULARISATION_C = 10.0
# Calibration may sharpen the linear model's probabilities at most this much (scores × 1/0.25).
MIN_TEMPERATURE = 0.25
RANDOM_STATE = 0
# Bounds a stored model must respect before anything is built from it.
MAX_VOCABULARY = 500_000

_TAG = re.compile(r"</?[A-Za-z][^<>\n]{0,200}>")


class ModelFileError(ValueError):
    """A stored model or card is not one this code can use; the message says what is wrong."""


class NotEnoughHistory(ValueError):
    """Too few decided posts to train on at all (the card's minimums are a separate, later check)."""


def model_input(channel: str, text: str) -> str:
    """What the vectorizers read: a channel token, then the author's text without HTML markup."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    prefix = f"channel_{channel}\n" if TEXT_SETTINGS["channel_token"] else ""
    return (prefix + text)[: TEXT_SETTINGS["max_chars"]]


def post_input(post: Post) -> str:
    return model_input(post.channel, example_text(post))


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    scaled = scores / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def _two_columns(scores: np.ndarray) -> np.ndarray:
    """A binary model's one score column as two, so the softmax of the pair is its sigmoid."""
    if scores.ndim == 1:
        return np.column_stack([-scores / 2.0, scores / 2.0])
    return scores


def _new_vectorizer(
    spec: Mapping[str, Any], vocabulary: Mapping[str, int] | None = None, **training: Any
) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer=spec["analyzer"],
        ngram_range=tuple(spec["ngram_range"]),
        vocabulary=vocabulary,
        dtype=np.float64,
        **VECTORIZER_COMMON,
        **training,
    )


class TriageModel:
    """A trained model: two TF-IDF vectorizers, a linear model and a calibration temperature."""

    def __init__(
        self,
        vectorizers: Sequence[Any],
        linear: Any,
        temperature: float,
        version: str,
        created_at: str = "",
        sklearn_version: str = "",
    ) -> None:
        self.vectorizers = tuple(vectorizers)
        self.linear = linear
        self.classes: tuple[str, ...] = tuple(str(c) for c in linear.classes_)
        self.temperature = float(temperature)
        self.version = version
        self.created_at = created_at
        self.sklearn_version = sklearn_version

    # -- deciding ------------------------------------------------------------------------------

    def features(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        return hstack([v.transform(texts) for v in self.vectorizers], format="csr")

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in ``classes`` order."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        scores = _two_columns(np.asarray(self.linear.decision_function(self.features(texts))))
        return _softmax(scores, self.temperature)

    def predict_many(self, posts: Iterable[Post]) -> list[tuple[str, float]]:
        probabilities = self.probabilities([post_input(p) for p in posts])
        best = probabilities.argmax(axis=1) if len(probabilities) else []
        return [(self.classes[i], float(probabilities[row, i])) for row, i in enumerate(best)]

    def predict(self, post: Post) -> tuple[str, float]:
        """The most probable type of ``post`` and its calibrated probability."""
        [decided] = self.predict_many([post])
        return decided

    # -- storage -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        vectorizers = []
        for spec, vectorizer in zip(VECTORIZERS, self.vectorizers, strict=True):
            terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
            vectorizers.append(
                {**spec, **VECTORIZER_COMMON, "vocabulary": terms, "idf": vectorizer.idf_.tolist()}
            )
        return {
            "format": MODEL_FORMAT,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "created_at": self.created_at,
            "sklearn_version": self.sklearn_version,
            "classes": list(self.classes),
            "text": dict(TEXT_SETTINGS),
            "vectorizers": vectorizers,
            "linear": {"coef": self.linear.coef_.tolist(), "intercept": self.linear.intercept_.tolist()},
            "calibration": {"method": "temperature", "temperature": self.temperature},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> TriageModel:
        """Rebuild a stored model; anything but a valid model file is a :class:`ModelFileError`."""
        return cls.from_dict(_parse_json(text, "model"))

    @classmethod
    def from_dict(cls, data: Any) -> TriageModel:
        _check(isinstance(data, dict), "the model file must hold a JSON object")
        _check(data.get("format") == MODEL_FORMAT, f"not a triage model file (format {data.get('format')!r})")
        _check(
            data.get("format_version") == FORMAT_VERSION,
            f"format_version {data.get('format_version')!r} is not {FORMAT_VERSION}: retrain the model",
        )
        version = _version(data.get("version"))
        classes = _classes(data.get("classes"))
        _check(
            data.get("text") == TEXT_SETTINGS, f"text settings {data.get('text')!r} are not {TEXT_SETTINGS}"
        )
        raw = data.get("vectorizers")
        _check(isinstance(raw, list) and len(raw) == len(VECTORIZERS), "vectorizers: expected two")
        vectorizers = [
            _load_vectorizer(index, spec, item)
            for index, (spec, item) in enumerate(zip(VECTORIZERS, raw, strict=True))
        ]
        width = sum(len(v.vocabulary_) for v in vectorizers)
        linear = _load_linear(data.get("linear"), classes, width)
        temperature = _load_temperature(data.get("calibration"))
        return cls(
            vectorizers,
            linear,
            temperature,
            version,
            created_at=str(data.get("created_at") or ""),
            sklearn_version=str(data.get("sklearn_version") or ""),
        )


# -- checking a stored file ---------------------------------------------------------------------


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise ModelFileError(problem)


def _parse_json(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError too
        raise ModelFileError(f"the {what} file is not valid JSON (truncated or corrupted?): {exc}") from None


def _version(value: Any) -> str:
    _check(
        isinstance(value, str) and bool(VERSION_PATTERN.match(value)),
        f"version {value!r} is not a version id",
    )
    return str(value)


def _classes(value: Any) -> tuple[str, ...]:
    _check(
        isinstance(value, list)
        and 2 <= len(value) <= len(POST_TYPES)
        and len(set(map(str, value))) == len(value),
        "classes: expected 2 to 4 different post types",
    )
    unknown = [c for c in value if c not in POST_TYPES]
    _check(not unknown, f"classes: {unknown!r} are not post types ({', '.join(POST_TYPES)})")
    return tuple(value)


def _numbers(value: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A JSON array of finite numbers of exactly ``shape`` (booleans and strings refused)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{what}: not a rectangular array of numbers ({exc})") from None
    _check(array.dtype.kind in "fi", f"{what}: expected numbers, found {array.dtype.name} values")
    _check(array.shape == shape, f"{what}: shape {array.shape} where {shape} was expected")
    array = array.astype(np.float64)
    _check(bool(np.isfinite(array).all()), f"{what}: holds a number that is not finite")
    return array


def _load_vectorizer(index: int, spec: Mapping[str, Any], item: Any) -> Any:
    what = f"vectorizers[{index}]"
    _check(isinstance(item, dict), f"{what}: expected an object")
    settings = {k: v for k, v in item.items() if k not in ("vocabulary", "idf")}
    expected = {**spec, **VECTORIZER_COMMON}
    _check(settings == expected, f"{what}: settings {settings!r} are not the supported {expected!r}")
    terms = item.get("vocabulary")
    _check(
        isinstance(terms, list)
        and 0 < len(terms) <= MAX_VOCABULARY
        and all(isinstance(t, str) for t in terms),
        f"{what}.vocabulary: expected a list of 1 to {MAX_VOCABULARY} terms",
    )
    _check(len(set(terms)) == len(terms), f"{what}.vocabulary: holds a term twice")
    idf = _numbers(item.get("idf"), (len(terms),), f"{what}.idf")
    _check(bool((idf > 0).all()), f"{what}.idf: every weight must be positive")
    vectorizer = _new_vectorizer(spec, vocabulary={t: i for i, t in enumerate(terms)})
    vectorizer.idf_ = idf
    return vectorizer


def _load_linear(value: Any, classes: tuple[str, ...], width: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    _check(isinstance(value, dict), "linear: expected an object with coef and intercept")
    rows = 1 if len(classes) == 2 else len(classes)
    linear = LogisticRegression()
    linear.classes_ = np.asarray(classes)
    linear.coef_ = _numbers(value.get("coef"), (rows, width), "linear.coef")
    linear.intercept_ = _numbers(value.get("intercept"), (rows,), "linear.intercept")
    linear.n_features_in_ = width
    return linear


def _load_temperature(value: Any) -> float:
    _check(
        isinstance(value, dict) and value.get("method") == "temperature", "calibration: expected temperature"
    )
    temperature = value.get("temperature")
    _check(
        isinstance(temperature, int | float) and not isinstance(temperature, bool) and 0 < temperature < 1e6,
        f"calibration.temperature {temperature!r} is not a positive number",
    )
    return float(temperature)


# -- the card -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ModelCard:
    """What a trained model was trained on and how well it did, cross-validated."""

    version: str
    created_at: str
    as_of: str
    sklearn_version: str
    training_size: int
    counts_by_type: dict[str, int]
    counts_by_source: dict[str, int]
    counts_by_channel: dict[str, int]
    cv_folds: int
    cv_accuracy: float
    cv_scores: dict[str, TypeScore]
    threshold: float
    temperature: float
    # Cross-validated: the share of posts the model decides at the threshold, and how many right.
    cv_decided_share: float = 0.0
    cv_decided_accuracy: float = 0.0
    features: int = 0
    classes: tuple[str, ...] = field(default=())
    # The items the run could not read ("github mattermost/mattermost#12"): their decisions, if
    # any, are not in the training set (an older card has none).
    items_not_read: tuple[str, ...] = field(default=())
    # How many items were not read, when more than the card names (0: as many as it names).
    items_not_read_total: int = 0

    def with_items_not_read(self, names: Sequence[str]) -> ModelCard:
        """This card naming the items its training could not read: the first ``CARD_NOT_READ_NAMES``
        of them and how many in all. A channel that fails every item for the year of history would
        otherwise grow the card past the size a card is read up to, and the model would go unused."""
        return replace(
            self,
            items_not_read=tuple(names[:CARD_NOT_READ_NAMES]),
            items_not_read_total=len(names) if len(names) > CARD_NOT_READ_NAMES else 0,
        )

    def shortfalls(self, minimums: TriageModelMinimums) -> list[str]:
        """Every minimum the card misses, in words (empty: the model may be used)."""
        missing = []
        if self.training_size < minimums.examples:
            missing.append(f"{self.training_size} examples (minimum {minimums.examples})")
        for post_type in POST_TYPES:
            count = self.counts_by_type.get(post_type, 0)
            if count < minimums.per_type:
                missing.append(f"{post_type}: {count} examples (minimum {minimums.per_type})")
        if self.cv_accuracy < minimums.cv_accuracy:
            missing.append(
                f"cross-validated accuracy {self.cv_accuracy:.1%} (minimum {minimums.cv_accuracy:.0%})"
            )
        for post_type in POST_TYPES:
            score = self.cv_scores.get(post_type)
            recall = score.recall if score else 0.0
            if recall < minimums.recall:
                missing.append(
                    f"{post_type}: cross-validated recall {recall:.1%} (minimum {minimums.recall:.0%})"
                )
        return missing

    def meets(self, minimums: TriageModelMinimums) -> bool:
        return not self.shortfalls(minimums)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": CARD_FORMAT,
            "format_version": FORMAT_VERSION,
            **asdict(self),
            "classes": list(self.classes),
            "items_not_read": list(self.items_not_read),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelCard:
        return cls.from_dict(_parse_json(text, "card"))

    @classmethod
    def from_dict(cls, data: Any) -> ModelCard:
        _check(isinstance(data, dict) and data.get("format") == CARD_FORMAT, "not a triage model card")
        _check(
            data.get("format_version") == FORMAT_VERSION,
            f"card format_version {data.get('format_version')!r}",
        )
        body = {k: v for k, v in data.items() if k not in ("format", "format_version")}
        try:
            scores = {str(t): TypeScore(**s) for t, s in dict(body.pop("cv_scores")).items()}
            card = cls(
                **{
                    **body,
                    "classes": tuple(body.get("classes") or ()),
                    "items_not_read": tuple(str(i) for i in body.get("items_not_read") or ()),
                },
                cv_scores=scores,
            )
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ModelFileError(f"the card's fields are not a model card's: {exc}") from None
        _version(card.version)
        numbers = (card.training_size, card.cv_accuracy, card.threshold, card.temperature, card.cv_folds)
        _check(
            all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers), "card: bad numbers"
        )
        _check(
            all(
                isinstance(getattr(s, k), int | float)
                for s in scores.values()
                for k in ("precision", "recall")
            ),
            "card: cv_scores must hold numbers",
        )
        return card


def format_card(card: ModelCard, minimums: TriageModelMinimums | None = None) -> str:
    """The card as a few lines of text, for logs and ``make demo``."""

    def counts(values: Mapping[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))

    # A type with fewer than two examples is counted but not learned (``_trainable``): the model never
    # gives it, and its row says so rather than show scores of 0% as if it had been measured.
    learned = card.classes or tuple(card.cv_scores)
    learned_from = sum(card.counts_by_type.get(t, 0) for t in learned)
    left_out = "" if learned_from == card.training_size else f" ({learned_from} of them learned from)"
    lines = [
        f"Triage model {card.version} (trained {card.created_at} on the history up to {card.as_of}; "
        f"scikit-learn {card.sklearn_version}; {card.features} features)",
        f"{card.training_size} examples{left_out} by type: {counts(card.counts_by_type)}",
        f"  by source: {counts(card.counts_by_source)}",
        f"{card.cv_folds}-fold stratified cross-validation: accuracy {card.cv_accuracy:.1%}",
        f"  {'type':18s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'support':>7s}",
    ]
    for post_type in POST_TYPES:
        score = card.cv_scores.get(post_type)
        if post_type not in learned or score is None:
            count = card.counts_by_type.get(post_type, 0)
            why = "no examples" if not count else f"{count} example, two are needed"
            lines.append(f"  {post_type:18s} not learned ({why}): the model never gives this type")
            continue
        lines.append(
            f"  {post_type:18s} {score.precision:9.1%} {score.recall:7.1%} {score.f1:6.1%} {score.support:7d}"
        )
    lines.append(
        f"At threshold {card.threshold:.2f} the model decides {card.cv_decided_share:.0%} of posts "
        f"({card.cv_decided_accuracy:.1%} of them right); the rules decide the rest."
    )
    if card.items_not_read:
        shown = ", ".join(card.items_not_read[:10])
        total = max(card.items_not_read_total, len(card.items_not_read))
        more = f" and {total - 10} more" if total > 10 else ""
        lines.append(f"Not read, so not trained on: {shown}{more}")
    if minimums is not None:
        missing = card.shortfalls(minimums)
        lines.append("Minimums: met" if not missing else "Minimums not met: " + "; ".join(missing))
    return "\n".join(lines)


# -- training -----------------------------------------------------------------------------------


def _fit(texts: Sequence[str], labels: Sequence[str]) -> TriageModel:
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    min_df = 2 if len(texts) >= 100 else 1
    vectorizers = [_new_vectorizer(spec, min_df=min_df, max_features=MAX_FEATURES) for spec in VECTORIZERS]
    matrix = hstack([v.fit_transform(texts) for v in vectorizers], format="csr")
    linear = LogisticRegression(
        C=REGULARISATION_C, class_weight="balanced", max_iter=5000, random_state=RANDOM_STATE
    )
    linear.fit(matrix, np.asarray(labels))
    return TriageModel(vectorizers, linear, 1.0, version="unversioned")


def _cross_validated_scores(
    texts: list[str], labels: list[str], classes: list[str], folds: int
) -> np.ndarray:
    """Each example's class scores from a model trained on the other folds (columns: ``classes``)."""
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros((len(texts), len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    for train_rows, test_rows in splitter.split(texts, labels):
        fold = _fit([texts[i] for i in train_rows], [labels[i] for i in train_rows])
        raw = _two_columns(
            np.asarray(fold.linear.decision_function(fold.features([texts[i] for i in test_rows])))
        )
        # A fold may lack a class: its column stays very unlikely.
        placed = np.full((len(test_rows), len(classes)), -1e3)
        for column, name in enumerate(fold.classes):
            placed[:, classes.index(name)] = raw[:, column]
        scores[test_rows] = placed
    return scores


def _fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The temperature that makes the cross-validated probabilities honest (least log loss)."""
    from scipy.optimize import minimize_scalar

    def loss(log_t: float) -> float:
        probabilities = _softmax(scores, math.exp(log_t))
        return float(-np.log(np.clip(probabilities[np.arange(len(truth)), truth], 1e-12, 1.0)).mean())

    # Bounded: cross-validated scores that separate perfectly would otherwise sharpen without end.
    found = minimize_scalar(loss, bounds=(math.log(MIN_TEMPERATURE), math.log(50.0)), method="bounded")
    return float(math.exp(found.x))


def _example_order(example: Example) -> tuple[str, str, str]:
    return (example.post_type, example.channel, example.text)


def _version_id(examples: Sequence[Example], stamp: datetime) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT_VERSION, REGULARISATION_C, MAX_FEATURES, VECTORIZERS]).encode())
    for example in sorted(examples, key=_example_order):
        digest.update(json.dumps([example.post_type, example.channel, example.text]).encode())
    return f"{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:10]}"


def _trainable(examples: Sequence[Example]) -> list[Example]:
    """The examples of the types with at least two (a type seen once cannot be learned or scored)."""
    counts = Counter(e.post_type for e in examples)
    usable = [e for e in examples if counts[e.post_type] >= 2]
    if len({e.post_type for e in usable}) < 2:
        raise NotEnoughHistory(
            f"{len(examples)} decided posts ({dict(counts) or 'none'}): at least two types with two posts "
            "each are needed to train"
        )
    return usable


def _cv_card_figures(
    scores: np.ndarray, truth: np.ndarray, classes: list[str], threshold: float
) -> tuple[float, dict[str, TypeScore], float, float, float]:
    """Accuracy, per-type scores, temperature and what the threshold decides, all cross-validated."""
    from sklearn.metrics import precision_recall_fscore_support

    predicted = scores.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(range(len(classes))), zero_division=0
    )
    per_type = {
        name: TypeScore(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
        for i, name in enumerate(classes)
    }
    temperature = _fit_temperature(scores, truth)
    confident = _softmax(scores, temperature).max(axis=1) >= threshold
    decided_share = float(confident.mean()) if len(confident) else 0.0
    decided_accuracy = float((predicted[confident] == truth[confident]).mean()) if confident.any() else 0.0
    return float((predicted == truth).mean()), per_type, temperature, decided_share, decided_accuracy


def train(
    examples: Sequence[Example],
    settings: Settings,
    *,
    as_of: datetime | None = None,
    created_at: datetime | None = None,
) -> tuple[TriageModel, ModelCard]:
    """Train on the team's decisions; the card holds the cross-validated figures of this training.

    Raises :class:`NotEnoughHistory` when fewer than two types have two examples each.
    """
    import sklearn

    # In one fixed order, whatever order the channels listed them in (an old topic's new reply moves
    # it up the forum's list): the cross-validation folds follow the order, and the same decisions
    # must give the same model and card, as they give the same version id.
    usable = sorted(_trainable(examples), key=_example_order)
    texts = [model_input(e.channel, e.text) for e in usable]
    labels = [e.post_type for e in usable]
    classes = sorted(set(labels), key=POST_TYPES.index)
    truth = np.asarray([classes.index(label) for label in labels])
    folds = max(2, min(settings.triage_model.cv_folds, min(Counter(labels).values())))
    scores = _cross_validated_scores(texts, labels, classes, folds)
    threshold = settings.triage_model.threshold
    accuracy, per_type, temperature, decided_share, decided_accuracy = _cv_card_figures(
        scores, truth, classes, threshold
    )
    model = _fit(texts, labels)
    created = (created_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    model.temperature = temperature
    model.version = _version_id(usable, as_of or created)
    model.created_at = created.isoformat().replace("+00:00", "Z")
    model.sklearn_version = sklearn.__version__
    card = ModelCard(
        version=model.version,
        created_at=model.created_at,
        as_of=(as_of or created).astimezone(UTC).isoformat().replace("+00:00", "Z"),
        sklearn_version=sklearn.__version__,
        training_size=len(examples),
        counts_by_type=dict(Counter(e.post_type for e in examples)),
        counts_by_source=dict(Counter(f"{e.channel} {e.source}" for e in examples)),
        counts_by_channel=dict(Counter(e.channel for e in examples)),
        cv_folds=folds,
        cv_accuracy=accuracy,
        cv_scores=per_type,
        threshold=threshold,
        temperature=temperature,
        cv_decided_share=decided_share,
        cv_decided_accuracy=decided_accuracy,
        features=sum(len(v.vocabulary_) for v in model.vectorizers),
        classes=model.classes,
    )
    return model, card


# -- deciding with the rules --------------------------------------------------------------------


class ModelClassifier:
    """The model where it is sure enough, else the rules: same ``classify`` as ``PostClassifier``."""

    def __init__(self, rules: PostClassifier, model: TriageModel, threshold: float) -> None:
        self.rules = rules
        self.model = model
        self.threshold = threshold

    # What the team set itself (a label, a forum category) stays decisive: the model weighs text.
    DECISIVE_RULES = ("label ", "category ")

    def _decide(self, post: Post, post_type: str, probability: float) -> Classification:
        by_rules = self.rules.classify(post)
        if by_rules.rule.startswith(self.DECISIVE_RULES):
            return by_rules
        if probability >= self.threshold:
            # Rounded down, so the shown figure never exceeds what the model said; never "1.00".
            shown = min(math.floor(probability * 100) / 100, 0.99)
            return Classification(post_type, f"model {shown:.2f}")
        return by_rules

    def classify(self, post: Post) -> Classification:
        post_type, probability = self.model.predict(post)
        return self._decide(post, post_type, probability)

    def classify_all(self, posts: Sequence[Post]) -> list[Classification]:
        """``classify`` for many posts at once (one pass of the vectorizers: much faster)."""
        decided = self.model.predict_many(posts)
        return [self._decide(post, t, p) for post, (t, p) in zip(posts, decided, strict=True)]
