"""TF-IDF rows of ``similarity``: the terms read, and the cosines against a plain re-computation."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from community_monitoring.similarity import FEATURES, HashedRows, terms, tfidf_rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Login fails", ["login", "fails", "login fails"]),
        # Lower case, accents dropped, function words and one-letter words left out before pairing.
        ("The Café is a CLOSED one", ["cafe", "closed", "cafe closed"]),
        ("I can't log in to the server", ["log", "server", "log server"]),
        ("", []),
        ("a an the of", []),
        ("naïve über ñandú", ["naive", "uber", "nandu", "naive uber", "uber nandu"]),
        ("push_notifications v2 11.2", ["push_notifications", "v2", "11", "push_notifications v2", "v2 11"]),
    ],
)
def test_terms_are_the_words_that_count_then_their_neighbouring_pairs(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def _reference_cosines(texts: list[str]) -> np.ndarray:
    """The same weighting written out plainly over exact terms (no hashing), for comparison."""
    counted = [Counter(terms(text)) for text in texts]
    documents = Counter(term for counts in counted for term in counts)
    n = len(texts)
    vectors = []
    for counts in counted:
        weights = {
            t: (1 + math.log(c)) * (math.log((n + 1) / (documents[t] + 1)) + 1) for t, c in counts.items()
        }
        length = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors.append({t: w / length for t, w in weights.items()})
    return np.array([[sum(w * b.get(t, 0.0) for t, w in a.items()) for b in vectors] for a in vectors])


TEXTS = [
    "Login fails after upgrading to 11.2 with SSO",
    "SSO login fails after the upgrade to 11.2",
    "Feature request: dark mode for the mobile app",
    "Please add a dark mode to the mobile app",
    "Push notifications stopped on Android",
    "",
    "login login login fails",
]


def test_cosines_match_a_plain_computation_of_the_same_weights() -> None:
    matrix = tfidf_rows(TEXTS)
    assert matrix.shape[0] == len(TEXTS)
    assert np.allclose((matrix @ matrix.T).toarray(), _reference_cosines(TEXTS), atol=1e-6)


def test_rows_are_unit_length_and_an_empty_text_is_an_empty_row() -> None:
    matrix = tfidf_rows(TEXTS)
    lengths = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    assert np.allclose(lengths[[0, 1, 2, 3, 4, 6]], 1.0, atol=1e-6)
    assert lengths[5] == 0.0
    assert matrix.dtype == np.float32


def test_similar_texts_score_higher_than_unrelated_ones() -> None:
    cosines = (tfidf_rows(TEXTS) @ tfidf_rows(TEXTS).T).toarray()
    assert cosines[0, 1] > 0.3 > cosines[0, 2]
    assert cosines[2, 3] > cosines[2, 4] == 0.0


def test_rows_added_one_by_one_keep_their_numbers_and_the_full_width_without_compacting() -> None:
    rows = HashedRows()
    assert [rows.add(text) for text in TEXTS] == list(range(len(TEXTS)))
    assert len(rows) == len(TEXTS)
    full = rows.tfidf(compact=False)
    assert full.shape == (len(TEXTS), FEATURES)
    compact = tfidf_rows(TEXTS)
    assert compact.shape[1] == len(set(full.indices))
    assert np.allclose((full @ full.T).toarray(), (compact @ compact.T).toarray())


def test_the_hashing_is_the_same_in_every_process() -> None:
    # CRC-32, not Python's per-process salted hash(): a rerun or another worker scores alike.
    rows = HashedRows()
    rows.add("login fails")
    assert sorted(rows.tfidf(compact=False).indices.tolist()) == [528660, 576272, 813460]
