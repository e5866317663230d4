"""Text search over places: one folding of text, one reading of a query, one ranking.

Titles and narratives are stored a second time *folded* (:func:`search_text`): Unicode
compatibility forms decomposed (NFKD), case folded, accents and other combining marks
dropped, Arabic letter variants unified, punctuation and symbols turned into spaces. The
characters of scripts written without spaces between words (Chinese, Japanese, Korean,
Thai...) are set apart by spaces, and the text starts with a space, so every word start
is " " + its first letters. "Castelo de São Jorge" is stored as ``" castelo de sao
jorge"``; "圣乔治城堡" as ``" 圣 乔 治 城 堡"``.

A query is folded the same way (:func:`parse_query`) and split into words. A place
matches when every word is found in its folded title or narratives: a word of three or
more characters anywhere ("ajuda" in "calcada da ajuda", "城 堡" in "圣 乔 治 城 堡"),
a shorter one at the start of a word ("da" finds "da" and "damaia", not "saldanha").
Each pattern is then at least three characters long (a short word with its leading
space), what a trigram index needs: the SQLite FTS5 ``trigram`` tokenizer and
PostgreSQL's ``pg_trgm`` both find the candidates by index, and both backends give the
same answers because the folding is done here, once, in Python (PostgreSQL's
``unaccent`` knows neither Ukrainian й/ї nor Arabic vowel marks, and ``lower()`` folds
only ASCII in a database created with the C locale). A query of one-letter words only
matches nothing: it cannot use the index, and it would match nearly everything.

Ranking (:func:`rank`, :func:`sort_key`): titles starting with the whole query (the
title equal to it first, then the others in the order of their folded text, as an index
on it lists them), then other titles holding every word, then places matched through
their narratives, both oldest first. Each group is one query that an index answers in
order and stops at the limit (a B-tree on the folded title; the trigram index read in
row order), so that a word found in half the places costs no more than a rare one: no
ranking needs every match read and sorted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_QUERY_CHARS = 100  # longer queries are cut here
MAX_WORDS = 8  # words after these are ignored
MAX_RESULTS = 100  # the most any search returns
MIN_PATTERN = 3  # what a trigram index can look up

# Tiers of :func:`rank`, best first.
PREFIX, TITLE, NARRATIVE = 1, 2, 3


class _FoldTable(dict[int, str | None]):
    """What :func:`fold` turns each character into, for ``str.translate``: filled as
    characters are first met (a table of every code point took most of a second to
    build at import)."""

    def __missing__(self, cp: int) -> str | None:
        category = unicodedata.category(chr(cp))
        if category in ("Mn", "Me", "Cf"):  # accents, vowel marks; invisible format marks
            out = None
        elif category[0] in "PSZ" or category in ("Cc", "Cs"):  # punctuation, symbols,
            out = " "  # spaces, control characters, lone surrogates
        else:
            out = chr(cp)
        self[cp] = out
        return out


_FOLD = _FoldTable(
    # Arabic (and Persian) letter variants written interchangeably: tatweel, alef maksura,
    # teh marbuta, Farsi yeh and keheh (alef with hamza or madda decomposes under NFKD).
    {0x0640: None, 0x0649: "ي", 0x0629: "ه", 0x06CC: "ي", 0x06A9: "ك"}
)
# ASCII as a 128-character table, which str.translate applies fastest.
_FOLD_ASCII = "".join(_FOLD[cp] or "" for cp in range(128))
# Scripts written without spaces between words: each character is set apart, so a query
# of two characters (a pattern such as "城 堡") is long enough for a trigram index.
_UNSPACED = re.compile(
    "["
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u2e80-\u2fdf"  # CJK radicals
    "\u3040-\u312f"  # Hiragana, Katakana, Bopomofo
    "\u3190-\u31ff"  # Kanbun, Bopomofo extended, CJK strokes, Katakana extension
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B-G
    "]"
)


def fold(text: str) -> str:
    """Lower case without accents, marks or punctuation, words single-spaced.

    >>> fold("Castelo de São Jorge — Lisboa"), fold("مَسْجِد الإمام"), fold("Йорданська")
    ('castelo de sao jorge lisboa', 'مسجد الامام', 'иорданська')
    """
    if text.isascii():
        return " ".join(text.lower().translate(_FOLD_ASCII).split())
    bare = unicodedata.normalize("NFKD", text).casefold().translate(_FOLD)
    # Composed again: Hangul syllables, which NFKD splits into letters, stay syllables.
    return " ".join(unicodedata.normalize("NFC", bare).split())


def _spaced(folded: str) -> str:
    if folded.isascii():
        return folded
    return " ".join(_UNSPACED.sub(r" \g<0> ", folded).split())


def search_text(text: str) -> str:
    """How a title is stored for search: folded, unspaced scripts set apart, with a
    leading space ("" for an empty text).

    >>> search_text("Calçada da Ajuda"), search_text("圣乔治城堡")
    (' calcada da ajuda', ' 圣 乔 治 城 堡')
    """
    folded = _spaced(fold(text))
    return " " + folded if folded else ""


def narratives_search_text(texts: Iterable[str]) -> str:
    """How a place's narratives are stored for search: each as :func:`search_text`."""
    return "".join(search_text(t) for t in texts)


@dataclass(frozen=True)
class SearchQuery:
    """A query read by :func:`parse_query`: what the stored texts are compared with."""

    phrase: str  # the whole query as a title would be stored (exact and prefix ranks)
    patterns: tuple[str, ...]  # one per word; each must be in the title or narratives


def parse_query(text: str) -> SearchQuery | None:
    """The search a typed query asks for, or None when it holds nothing to look for
    (no word of two characters or more). Any text is safe here: every character that
    could mean something to a database (quotes, operators, wildcards) folds to a space.

    >>> parse_query("São  Jorge!")
    SearchQuery(phrase=' sao jorge', patterns=('sao', 'jorge'))
    >>> parse_query("城堡 da")
    SearchQuery(phrase=' 城 堡 da', patterns=('城 堡', ' da'))
    """
    words = [_spaced(w) for w in fold(text[:MAX_QUERY_CHARS]).split()[:MAX_WORDS]]
    patterns: list[str] = []
    for word in words:
        pattern = word if len(word) >= MIN_PATTERN else " " + word
        if pattern not in patterns:
            patterns.append(pattern)
    if not any(len(p) >= MIN_PATTERN for p in patterns):
        return None
    return SearchQuery(" " + " ".join(words), tuple(patterns))


def rank(query: SearchQuery, title: str, body: str | None) -> int | None:
    """The tier (:data:`PREFIX`, :data:`TITLE` or :data:`NARRATIVE`) of a place whose
    stored search texts are ``title`` and ``body``, or None if it does not match. The
    reference the backends' SQL follows (an exact title ranks as a :data:`PREFIX`, and
    :func:`sort_key` puts it first among them)."""
    if not all(p in title or (body and p in body) for p in query.patterns):
        return None
    if title.startswith(query.phrase):
        return PREFIX
    if all(p in title for p in query.patterns):
        return TITLE
    return NARRATIVE


def sort_key(tier: int, title: str, order: int) -> tuple[int, str, int]:
    """Order of results: by tier; titles starting with the query by their folded text
    (code point order, which is UTF-8 byte order: the order of a B-tree index with
    binary collation, where the query itself comes before anything longer); then the
    oldest first (``order``: the place's position in insertion order)."""
    return tier, title if tier == PREFIX else "", order


def prefix_range(query: SearchQuery) -> tuple[str, str]:
    """The stored titles that start with the query are those ``>=`` the first value and
    ``<`` the second (binary comparison of UTF-8, as in SQLite and the C collation)."""
    return query.phrase, query.phrase + "\U0010ffff"


def capped(limit: int) -> int:
    """``limit`` kept between 0 and :data:`MAX_RESULTS`."""
    return max(0, min(int(limit), MAX_RESULTS))


def search_columns(
    titles: Sequence[str], narratives: Sequence[Sequence[str]]
) -> tuple[list[str], list[str]]:
    """The stored search texts of many places: titles, then narratives."""
    return [search_text(t) for t in titles], [narratives_search_text(n) for n in narratives]
