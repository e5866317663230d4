"""Rules for text people type: titles, narratives, BCP 47 language tags."""

from __future__ import annotations

import functools
import re
import unicodedata

from geodata.errors import InvalidInput

# Bidirectional overrides and isolates can make text display in an order other than
# the one stored (the "Trojan Source" trick); legitimate right-to-left text needs none.
# Control characters (Unicode category Cc) other than tab and line breaks are refused too,
# and so are U+2028/U+2029, line breaks nothing types that end a script string in old
# JavaScript.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def check_text(value: str, field: str, *, max_length: int, required: bool = True) -> str:
    """Normalise (NFC, trimmed) and check a piece of text; raise InvalidInput if unusable."""
    if not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"the {field} is empty; write a few words", code="empty_" + field)
    if len(text) > max_length:
        raise InvalidInput(
            f"the {field} is {len(text):,} characters long; the limit is {max_length:,}",
            code="too_long",
        )
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        raise InvalidInput(
            f"the {field} contains an invisible control character "
            f"(U+{ord(bad.group()):04X}); remove it",
            code="control_character",
        )
    return text


@functools.lru_cache(maxsize=1024)
def check_language(tag: str) -> str:
    """A well-formed, valid BCP 47 tag in canonical case (``pt-br`` -> ``pt-BR``)."""
    if tag == "und":  # undetermined, every import's default: canonical as it is
        return tag
    import langcodes  # here: 70 ms of tables that a command without narratives never needs

    tag = tag.strip().replace("_", "-")
    if not tag or not langcodes.tag_is_valid(tag):
        raise InvalidInput(
            f"{tag!r} is not a language tag; use a BCP 47 tag such as 'en', 'pt', 'pt-BR' or 'ar'",
            code="bad_language",
        )
    return langcodes.standardize_tag(tag, macro=False)
