"""Fuzzy column resolution: the words of a prompt ("survival", "surived", "ages") to a real column name."""

from __future__ import annotations

import difflib
import re

# Words that never name a column on their own.
STOPWORDS = frozenset("""a an the of for from with using use on in by to and or is are be it its this that these
those whether if who which what how many much my our your their passenger passengers row rows value values data
dataset table column columns feature features model models based given per each""".split())
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "als", "al", "ies", "es", "s", "e", "y")


def words(text: str) -> list[str]:
    """Lowercase word tokens; camelCase and snake_case names split into their words."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [w for w in re.split(r"[^0-9a-zA-Z]+", text.lower()) if w]


def stem(word: str) -> str:
    """A crude stem: "survival", "survived", "survive" -> "surviv"; "ages" -> "age"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _key(text: str) -> str:
    return " ".join(stem(w) for w in words(text))


def _squash(text: str) -> str:
    return "".join(words(text))


def resolve(phrase: str, columns: list[str]) -> str | None:
    """The one column ``phrase`` names (exactly, by stem, or misspelled), else None."""
    if not phrase.strip():
        return None
    for same in (lambda c: c == phrase, lambda c: c.lower() == phrase.lower(),
                 lambda c: _squash(c) == _squash(phrase), lambda c: _key(c) == _key(phrase)):
        hits = [c for c in columns if same(c)]
        if len(hits) == 1:
            return hits[0]
        if hits:  # "Age" and "age": the spelling as written wins, else the first
            return hits[0]
    squashed = _squash(phrase)
    if len(squashed) < 4:  # short words ("id", "sex") must match exactly: too many near neighbours
        return None
    by_squash = {_squash(c): c for c in columns}
    close = difflib.get_close_matches(squashed, list(by_squash), n=2, cutoff=0.8)
    if close and (len(close) == 1 or difflib.SequenceMatcher(None, squashed, close[0]).ratio()
                  > difflib.SequenceMatcher(None, squashed, close[1]).ratio()):
        return by_squash[close[0]]
    return None


def near_matches(phrase: str, columns: list[str], n: int = 5) -> list[str]:
    """Columns that look like ``phrase``: close spellings, or names sharing a word with it."""
    by_lower = {c.lower(): c for c in columns}
    found = [by_lower[c] for c in difflib.get_close_matches(phrase.lower(), list(by_lower), n=n, cutoff=0.55)]
    stems = {stem(w) for w in words(phrase) if w not in STOPWORDS}
    found += [c for c in columns if stems & {stem(w) for w in words(c)} and c not in found]
    return found[:n]


def find_column(phrase: str, columns: list[str]) -> str | None:
    """The column named by the whole phrase, or by its longest run of words that names one (earliest first).

    "whether a passenger survived" -> "survived"; "disease progression" -> None unless a column matches.
    """
    tokens = [w for w in re.split(r"\s+", phrase.strip()) if w]
    for size in range(len(tokens), 0, -1):
        for start in range(len(tokens) - size + 1):
            part = tokens[start:start + size]
            if all(w.lower().strip("'\"") in STOPWORDS for w in part):
                continue
            hit = resolve(" ".join(part).strip("'\"`"), columns)
            if hit is not None:
                return hit
    return None


def content_words(phrase: str) -> str:
    """The phrase without its stopwords, as said: what a refusal quotes back."""
    kept = [w for w in re.split(r"\s+", phrase.strip()) if w and w.lower().strip("'\"") not in STOPWORDS]
    return " ".join(kept).strip("'\"`") or phrase.strip()
