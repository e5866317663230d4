"""Finding interface text written straight into markup instead of through the catalogs.

Jinja templates are read with Jinja's own lexer: the literal data outside ``{% trans %}``
blocks, with every ``{{ … }}`` and ``{% … %}`` replaced by a stand-in, is read as HTML, and
each text node or wording attribute (``title``, ``alt``, ``placeholder``, ``aria-label``
…) holding letters is reported. The HTML the map builders write from Python (f-strings
and folium ``Template`` strings in ``mapping/``) is read the same way, from the source's
string literals.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

# What an expression or tag becomes: a private-use character (never a letter) between
# spaces, so that inside a tag it reads as an attribute of its own.
STAND_IN = " \ue000 "
# Attributes whose value a person reads or hears.
WORDING_ATTRIBUTES = {
    "title",
    "alt",
    "placeholder",
    "aria-label",
    "aria-description",
    "aria-roledescription",
    "aria-valuetext",
    "label",
}
# Text that carries no language: names of formats, standards and products, and symbols.
# Each entry is matched as a whole text node (after trimming), never as part of one.
NOT_LANGUAGE = {
    "Heritage Atlas",
    "GeoJSON",
    "GeoPackage",
    "CSV",
    "JSON",
    "HTML",
    "QGIS",
    "OpenAPI",
    "OGC API",
    "OGC API – Features",
    "CC BY 4.0",
    "©",
    "OpenStreetMap",
    "Leaflet",
    "API",
    "UTC",
    "CRS84",
    # GeoJSON's own member names, shown as they are in the data
    "id",
    "geometry",
}
# Elements whose content is code or machine text, not language.
CODE_ELEMENTS = {"script", "style", "code", "kbd", "samp", "pre"}
_URL = re.compile(r"^(?:https?://|/)\S*$")
_ATTRIBUTE = re.compile(r"[\w:-]+=\"[^\"]*\"")
# What separates the parts of a text node that are judged one by one.
_SEPARATORS = re.compile(r"[\ue000·|–—:/()\[\],;←→›…]+")


@dataclass(frozen=True)
class Finding:
    where: str  # file, with the line where known
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text!r}"


def _is_language(text: str) -> bool:
    """Whether ``text`` holds words: some part of it has letters and is neither a name
    from :data:`NOT_LANGUAGE` nor a URL."""
    # A macro may print attributes outside a tag (aria-describedby="…"): markup, not words.
    text = " ".join(_ATTRIBUTE.sub(" ", text).split())
    bare = " ".join(text.replace("\ue000", " ").split())
    if bare in NOT_LANGUAGE or _URL.match(bare):
        return False
    parts = (" ".join(part.split()) for part in _SEPARATORS.split(text))
    return any(_has_words(part) for part in parts)


def _has_words(part: str) -> bool:
    if part in NOT_LANGUAGE or _URL.match(part):
        return False
    # "OpenAPI 3.0 JSON": each word a name or a number
    return any(
        any(ch.isalpha() for ch in word) and word not in NOT_LANGUAGE for word in part.split()
    )


class _TextCollector(HTMLParser):
    """Text nodes and wording attributes of an HTML document, with their lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0  # inside <script>, <style>, <code>…: code, not language

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in CODE_ELEMENTS:
            self._skip += 1
        wording = {name for name in WORDING_ATTRIBUTES}
        is_button = tag == "input" and dict(attrs).get("type") in ("submit", "button", "reset")
        for name, value in attrs:
            if value and (name in wording or (is_button and name == "value")):
                self.found.append((self.getpos()[0], value))
        if tag == "meta" and dict(attrs).get("name") == "description":
            self.found.append((self.getpos()[0], dict(attrs).get("content") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in CODE_ELEMENTS and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.found.append((self.getpos()[0], data))


def _shown(text: str) -> str:
    """A finding as the report shows it: each expression as "…", none at either end."""
    words = text.replace("\ue000", "…").split()
    while words and words[0] == "…":
        words.pop(0)
    while words and words[-1] == "…":
        words.pop()
    return " ".join(words)


def _findings(where: str, document: str, line_of=lambda line: line) -> list[Finding]:
    collector = _TextCollector()
    collector.feed(document)
    collector.close()
    return [
        Finding(f"{where}:{line_of(line)}", _shown(text))
        for line, text in collector.found
        if _is_language(text)
    ]


def template_text(path: Path, environment: Environment | None = None) -> list[Finding]:
    """Interface text of a Jinja template that does not go through gettext."""
    environment = environment or Environment(extensions=["jinja2.ext.i18n"])
    source = path.read_text(encoding="utf-8")
    document: list[str] = []
    # Words set apart: {% trans %} text is the catalog's, and a block named like
    # ``body_class`` fills an attribute of the layout (a CSS class, not words).
    set_apart: str | None = None
    tag: list[str] = []  # the first names of the {% … %} being read
    for _, token_type, value in environment.lex(source):
        if token_type == "block_begin":
            tag = []
            document.append(STAND_IN)
        elif token_type == "name" and len(tag) < 2:
            tag.append(value)
            if tag == ["trans"]:
                set_apart = "endtrans"
            elif len(tag) == 2 and tag[0] == "block" and tag[1].endswith("class"):
                set_apart = "endblock"
            elif set_apart and tag == [set_apart]:
                set_apart = None
        elif token_type == "data" and not set_apart:
            document.append(value)
            continue
        elif token_type in ("variable_begin", "data"):
            document.append(STAND_IN)
        if token_type == "data":
            # text set apart keeps its line count, so reported lines stay true
            document.append("\n" * value.count("\n"))
    return _findings(path.name, "".join(document))


def python_markup_text(path: Path) -> list[Finding]:
    """Interface text in the HTML a Python module writes (string literals and f-strings
    holding markup), such as the map builders' legends, headings and folium templates."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Not markup a page shows: docstrings, regular expressions, and the pieces of an
    # f-string (read whole, below).
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skipped.add(id(node.value))
        elif isinstance(node, ast.JoinedStr):
            skipped.update(id(v) for v in node.values)
        elif isinstance(node, ast.Call) and _is_re_call(node.func):
            skipped.update(id(a) for a in node.args)
    findings: list[Finding] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.JoinedStr):
            literal = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else STAND_IN
                for v in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            literal = node.value
        else:
            continue
        if not re.search(r"<[a-zA-Z][\w-]*[\s>/]", literal):
            continue  # not markup
        # A folium Template: its {{ … }} and {% … %} are Jinja, not text.
        literal = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", STAND_IN, literal, flags=re.S)
        findings += _findings(path.name, literal, lambda line, base=node.lineno: base + line - 1)
    return findings


def _is_re_call(func: ast.expr) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and (func.value.id == "re")
    )
