"""Texts as TF-IDF rows, for comparing a new post with the related items' texts (``related``).

Each text becomes its words (lower case, accents dropped, two characters or more, common English
function words left out) and each pair of neighbouring words, hashed into ``FEATURES`` buckets with
CRC-32; a bucket's weight is ``1 + log(count)`` times its smoothed inverse document frequency over
the texts compared, and every row is scaled to length 1, so the product of two rows is their cosine.

Written here on NumPy and SciPy's sparse matrices rather than through scikit-learn: importing
scikit-learn alone takes about a hundred megabytes of memory in the task's process, which at
100,000 posts a day was the difference between the daily run fitting its 600 MB or not (SPEC §9).
Hashing keeps no vocabulary: a window of a hundred thousand texts has about a million distinct
word pairs, which as a dictionary would weigh more than the matrix; a collision in four million
buckets moves a score by a negligible amount.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from array import array
from collections.abc import Iterable
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

FEATURES = 2**22
_BUCKET = FEATURES - 1  # a power of two: the low bits of the hash are the bucket
_WORD = re.compile(r"\b\w\w+\b")
_CAST_SLICE = 2**18

# Words that say nothing about what a post is about: articles, pronouns, auxiliaries, conjunctions,
# prepositions and the commonest adverbs. Words of one character never count (see _WORD).
STOP_WORDS: frozenset[str] = frozenset(
    """
    about above after again against all almost also although am among an and another any anyone
    anything are around as at be became because been before being below between both but by can
    could did do does doing done down during each either else even ever every few for from further
    get gets getting got had has have having he her here hers herself him himself his how however
    if in into is it its itself just least less let like many may me might mine more most much must
    my myself neither no nor not now of off often on once one only or other others our ours
    ourselves out over own per perhaps please quite rather really same she should since so some
    something still such than that the their theirs them themselves then there these they this
    those though through thus to too under until up upon us very via was we were what whatever when
    where whether which while who whom whose why will with within without would yet you your yours
    yourself yourselves
    """.split()  # noqa: SIM905 (a list of words reads best as words)
)


def _folded(text: str) -> str:
    """Lower case without accents ("Café" reads "cafe"); ASCII text, most of it, as it is."""
    text = text.lower()
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """The words of ``text`` that count, then each pair of neighbours among them."""
    words = [w for w in _WORD.findall(_folded(text)) if w not in STOP_WORDS]
    return words + [f"{a} {b}" for a, b in pairwise(words)]


class HashedRows:
    """Texts added one at a time, kept only as their hashed terms (a few bytes a term), then weighed
    at once: a window's texts need not be held while it is read."""

    def __init__(self) -> None:
        self._buckets = array("i")
        self._ends = array("q", [0])

    def __len__(self) -> int:
        return len(self._ends) - 1

    def add(self, text: str) -> int:
        """Add a text; its row number."""
        crc32 = zlib.crc32
        self._buckets.extend([crc32(term.encode()) & _BUCKET for term in terms(text)])
        self._ends.append(len(self._buckets))
        return len(self._ends) - 2

    def tfidf(self, *, compact: bool = True) -> csr_matrix:
        """The rows, L2-normalised TF-IDF (inverse document frequency over these rows).

        ``compact``: keep only the buckets some text uses, so that a transpose costs its terms, not
        four million empty columns; a product that never transposes the matrix can skip that copy.
        """
        import numpy as np
        from scipy.sparse import csr_matrix

        rows = len(self)
        ends = np.frombuffer(self._ends, dtype=np.int64)
        index_type = np.int32 if len(self._buckets) < 2**31 else np.int64
        counts = csr_matrix(
            (
                np.ones(len(self._buckets), dtype=np.float32),
                np.frombuffer(self._buckets, dtype=np.int32).astype(index_type, copy=False),
                ends.astype(index_type, copy=False),
            ),
            shape=(rows, FEATURES),
        )
        counts.sum_duplicates()  # a term's occurrences in a row become one count; sorts each row
        # Sublinear term frequency, then the smoothed IDF (as if one more text held every term);
        # worked in place, in single precision: at 100,000 posts a day every temporary array of
        # the four million buckets or of the matrix's terms is tens of megabytes.
        np.log(counts.data, out=counts.data)
        counts.data += 1
        idf = _document_counts(counts.indices)
        idf += 1
        np.divide(np.float32(rows + 1), idf, out=idf)
        np.log(idf, out=idf)
        idf += 1
        counts.data *= idf[counts.indices]
        del idf
        # Each row to length 1, its squares summed in double precision.
        per_row = np.diff(counts.indptr)
        filled = per_row > 0
        squares = np.zeros(rows, dtype=np.float64)
        if filled.any():
            squares[filled] = np.add.reduceat(
                np.square(counts.data), counts.indptr[:-1][filled], dtype=np.float64
            )
        scale = np.ones(rows, dtype=np.float32)
        scale[filled] = (1.0 / np.sqrt(squares[filled])).astype(np.float32)
        counts.data *= np.repeat(scale, per_row)
        return counts[:, np.unique(counts.indices)] if compact else counts


def _document_counts(indices: Any) -> Any:
    """How many rows use each bucket (each row lists a bucket once), as float32, in one array of
    the four million buckets rather than the three a counting-then-casting would briefly hold."""
    import numpy as np

    counts = np.zeros(FEATURES, dtype=np.int32)
    np.add.at(counts, indices, 1)
    as_float = counts.view(np.float32)
    for start in range(0, FEATURES, _CAST_SLICE):  # each slice is read whole before it is written
        as_float[start : start + _CAST_SLICE] = counts[start : start + _CAST_SLICE].astype(np.float32)
    return as_float


def tfidf_rows(texts: Iterable[str]) -> csr_matrix:
    """``texts`` as L2-normalised TF-IDF rows, compacted (see ``HashedRows.tfidf``)."""
    rows = HashedRows()
    for text in texts:
        rows.add(text)
    return rows.tfidf()
