"""Names as the patient search compares them: without case or accents, in either order.

A front desk types "muller" for Müller, "emile" for Émile and "анна" for Анна. SQLite's
``lower()`` and ``LIKE`` fold ASCII letters only, so such a search found nobody there; and few
people type the accents a patient's record carries. Each patient keeps a folded copy of their
name (``Patient.search_name``), and the search folds what was typed the same way, so both
backends find the same patients.
"""

from __future__ import annotations

import re
import unicodedata

#: Latin letters with a stroke or ligatures, which Unicode does not decompose into a letter
#: and an accent.
_UNDECOMPOSED = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe"}
)
#: The combining accents of Latin, Greek and Cyrillic letters (é, ü, ñ, ά, й). The marks of
#: other scripts (Devanagari's vowel signs, say) are part of the letter and are kept.
_ACCENTS = range(0x300, 0x370)


def folded(text: str) -> str:
    """``text`` without case, accents or repeated spaces; a comma is a space ("Müller, Anna"
    as the list shows it).

    >>> folded("  Émile  Zoë-MÜLLER, Łukasz ")
    'emile zoe-muller lukasz'
    >>> folded("Straße"), folded("АННА Йовић"), folded("王芳")
    ('strasse', 'анна иовић', '王芳')
    """
    decomposed = unicodedata.normalize("NFKD", text.replace(",", " "))
    bare = "".join(ch for ch in decomposed if ord(ch) not in _ACCENTS)
    letters = unicodedata.normalize("NFC", bare).casefold().translate(_UNDECOMPOSED)
    return " ".join(letters.split())


def search_name(given_name: str, family_name: str) -> str:
    """What a patient's name is searched in: family and given name in both orders, on two
    lines (a search never holds a line break, so it cannot match across them). Family name
    first, it also sorts the list as people read it: Ørsted among the O's, not after Z.

    >>> search_name("Anna", "Müller")
    'muller anna\\nanna muller'
    """
    given, family = folded(given_name), folded(family_name)
    return f"{family} {given}\n{given} {family}"


def signs_as(typed: str, given_name: str, family_name: str) -> bool:
    """Whether a typed signature names the patient: every word of their registered names,
    in any order, without case or accents; a middle name may be added. ("-1" or "nan" typed
    in the box signed a consent before: a signature of record must say who signed.)

    >>> signs_as("ana maria LIMA", "Ana", "Lima"), signs_as("Lima, Ana", "Ana", "Lima")
    (True, True)
    >>> signs_as("Ana", "Ana", "Lima-Sousa"), signs_as("Ana Lima", "Ana", "Lima-Sousa")
    (False, False)
    >>> signs_as("Ana Lima Sousa", "Ana", "Lima-Sousa"), signs_as("José Núñez", "Jose", "Nunez")
    (True, True)
    """
    words = set(re.findall(r"\w+", folded(typed)))
    needed = set(re.findall(r"\w+", folded(f"{given_name} {family_name}")))
    return bool(needed) and needed <= words


def names_someone(typed: str) -> bool:
    """Whether a typed signature could be a person's name: a word of two letters or more, and
    no digits (someone signing for the patient types their own name, which no record holds
    to compare it with).

    >>> names_someone("Clara Youngman"), names_someone("Ng"), names_someone("王芳")
    (True, True, True)
    >>> names_someone("-1"), names_someone("x"), names_someone("Clara 2")
    (False, False, False)
    """
    words = re.findall(r"\w+", folded(typed))
    if any(ch.isdigit() for word in words for ch in word):
        return False
    return any(sum(ch.isalpha() for ch in word) >= 2 for word in words)
