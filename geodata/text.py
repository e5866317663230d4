"""Rules for text people type: titles, narratives, BCP 47 language tags."""

from __future__ import annotations

import functools
import re
import unicodedata
from html.parser import HTMLParser

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


class _PlainText(HTMLParser):
    """The text of an HTML fragment: tags dropped (a line break where a block ends),
    entities decoded, comments, scripts and styles left out; the text itself untouched."""

    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    _SKIPPED = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def html_to_text(value: str) -> str:
    """Plain text from a piece of HTML, without rewording it: tags removed (paragraphs and
    line breaks become line breaks), entities decoded, the outer blank space trimmed.

    >>> html_to_text("<p>Tower of Bel&eacute;m &ndash; 1519</p>")
    'Tower of Belém – 1519'

    Text without markup comes back as it is (a bare ``&`` too), so this is safe to apply
    to every text of a file in which only some are HTML.
    """
    if "<" not in value and "&" not in value:
        return value
    parser = _PlainText()
    parser.feed(value)
    parser.close()
    text = _BLANK_LINES.sub("\n\n", "".join(parser.parts))
    return text.strip() if text != value else value
