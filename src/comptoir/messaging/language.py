"""Which language a message is written in (lingua), restricted to the languages sellers and customers of a
French marketplace actually write in: fewer candidates is faster and less often wrong on short texts.
The detector is built once per process, on first use; its models load lazily, language by language."""

from __future__ import annotations

import re
import threading
from typing import Any

# ISO 639-1 codes of the candidate languages.
CANDIDATES = ("fr", "en", "es", "de", "it", "pt", "nl")
# Below these, a text says too little to tell its language ("OK", "Merci", a reference number): undetermined.
MIN_WORDS = 3
MIN_LETTERS = 12
MIN_CONFIDENCE = 0.5

_WORD = re.compile(r"[^\W\d_]{2,}")
_lock = threading.Lock()
_detector: Any = None


def _build() -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in CANDIDATES]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def detector() -> Any:
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = _build()
    return _detector


def detect(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None when the text is too short or too ambiguous."""
    words = _WORD.findall(text or "")
    if len(words) < MIN_WORDS or sum(len(w) for w in words) < MIN_LETTERS:
        return None
    values = detector().compute_language_confidence_values(" ".join(words))
    if not values or values[0].value < MIN_CONFIDENCE:
        return None
    return str(values[0].language.iso_code_639_1.name.lower())
