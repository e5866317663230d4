"""Parsing XML from people's files (KML, GPX) without its dangerous parts: any document
type declaration is refused, so no entity is ever defined or expanded (no billion
laughs) and no external entity is fetched (no XXE); the parse builds an ElementTree with
namespaces dropped from tag names."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.parsers import expat

from geodata.errors import SourceError


class _Refused(Exception):
    pass


def _refuse(*_args: object) -> None:
    raise _Refused


def parse(data: bytes, label: str) -> ET.Element:
    """The root element of ``data``; SourceError if it is not well-formed XML or
    declares a document type or entities."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.StartElementHandler = lambda tag, attrs: builder.start(
        _local(tag), {_local(k): v for k, v in attrs.items()}
    )
    parser.EndElementHandler = lambda tag: builder.end(_local(tag))
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except _Refused:
        raise SourceError(
            f"{label}: declares a document type or entities, which are refused "
            "(they can expand without end or read other files)"
        ) from None
    except expat.ExpatError as exc:
        raise SourceError(f"{label}: is not well-formed XML ({exc})") from None
    return builder.close()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def text_of(element: ET.Element | None, name: str) -> str | None:
    """The trimmed text of ``element``'s first child called ``name`` (None if absent)."""
    if element is None:
        return None
    child = element.find(name)
    if child is None:
        return None
    value = "".join(child.itertext()).strip()
    return value or None
