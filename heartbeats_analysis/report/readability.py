"""Flesch-Kincaid grade level of plain-language text.

Syllables come from Pyphen's hyphenation dictionary (shipped with the package, so nothing is
downloaded at run time; textstat now fetches NLTK's cmudict from the internet on first use).
"""

from __future__ import annotations

import re
from functools import lru_cache

import pyphen

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")


@lru_cache(maxsize=1)
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")


def syllables(word: str) -> int:
    return len(_dictionary().positions(word.lower())) + 1


def flesch_kincaid_grade(text: str) -> float:
    """0.39 (words / sentences) + 11.8 (syllables / words) - 15.59 (Kincaid et al., 1975)."""
    words = _WORD.findall(text)
    if not words:
        raise ValueError("no words to score")
    sentences = max(1, len(_SENTENCE_END.findall(text.strip() + " ")))
    total_syllables = sum(syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * total_syllables / len(words) - 15.59
