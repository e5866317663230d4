"""CSV cells that a spreadsheet shows as text, never runs as a formula.

Excel, LibreOffice Calc and Google Sheets evaluate a cell that starts with ``=``, ``+``,
``-`` or ``@`` (and, after they trim it, one that starts with a tab or carriage return),
so a title such as ``=HYPERLINK("http://x","click")`` in a download would become a live
link, or worse, on the planner's machine ("CSV injection"). As OWASP recommends, such a
text cell gets a leading single quote, which spreadsheets read as "this is text" and do
not display. Numbers are never touched: a longitude of -9.14 stays a number.

Example::

    >>> text_cell("=1+1"), text_cell("-2+3"), text_cell("Belém"), text_cell(-9.14)
    ("'=1+1", "'-2+3", 'Belém', -9.14)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

# Characters a spreadsheet starts a formula with (with their full-width forms, which
# some East Asian spreadsheet settings treat alike) ...
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# ... and what may stand before one and be trimmed away by the spreadsheet on import.
_CHECK_FIRST = FORMULA_START | frozenset(" \n\u00a0\u3000")


def text_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would read as a formula."""
    if not isinstance(value, str) or not value or value[0] not in _CHECK_FIRST:
        return value
    if value[0] in FORMULA_START or value.lstrip()[:1] in FORMULA_START:
        return "'" + value
    return value


class SpreadsheetWriter:
    """A ``csv.writer`` that makes text cells safe (:func:`text_cell`) before writing.

    ``text_columns`` names the positions that may hold text people wrote; by default
    every cell is checked. Naming them spares the check on the other columns of a
    large download (numbers, ids, dates, fixed vocabularies).
    """

    def __init__(self, fh: IO[str], text_columns: Sequence[int] | None = None, **fmt: Any) -> None:
        self._writer = csv.writer(fh, **fmt)
        self._columns = text_columns

    def _safe(self, row: Iterable[Any]) -> list[Any]:
        if self._columns is None:
            return [text_cell(v) for v in row]
        row = list(row)
        for i in self._columns:
            row[i] = text_cell(row[i])
        return row

    def _safe_rows(self, rows: Iterable[Iterable[Any]]) -> Iterator[list[Any]]:
        return map(self._safe, rows)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(self._safe(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows(self._safe_rows(rows))
