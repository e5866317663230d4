"""Rules for text people type: titles, narratives, BCP 47 language tags."""

from __future__ import annotations

import unicodedata

import langcodes

from geodata.errors import InvalidInput

# Bidirectional overrides and isolates can make text display in an order other than
# the one stored (the "Trojan Source" trick); legitimate right-to-left text needs none.
_BIDI_CONTROLS = {
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
}


def check_text(value: str, field: str, *, max_length: int, required: bool = True) -> str:
    """Normalise (NFC, trimmed) and check a piece of text; raise InvalidInput if unusable."""
    text = unicodedata.normalize("NFC", value).strip()
    if required and not text:
        raise InvalidInput(f"the {field} is empty; write a few words", code="empty_" + field)
    if len(text) > max_length:
        raise InvalidInput(
            f"the {field} is {len(text):,} characters long; the limit is {max_length:,}",
            code="too_long",
        )
    bad = next(
        (
            c
            for c in text
            if c in _BIDI_CONTROLS or (unicodedata.category(c) == "Cc" and c not in "\n\r\t")
        ),
        None,
    )
    if bad is not None:
        raise InvalidInput(
            f"the {field} contains an invisible control character (U+{ord(bad):04X}); remove it",
            code="control_character",
        )
    return text


def check_language(tag: str) -> str:
    """A well-formed, valid BCP 47 tag in canonical case (``pt-br`` -> ``pt-BR``)."""
    tag = tag.strip().replace("_", "-")
    if not tag or not langcodes.tag_is_valid(tag):
        raise InvalidInput(
            f"{tag!r} is not a language tag; use a BCP 47 tag such as 'en', 'pt', 'pt-BR' or 'ar'",
            code="bad_language",
        )
    return langcodes.standardize_tag(tag, macro=False)
