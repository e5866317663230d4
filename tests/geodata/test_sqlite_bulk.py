"""SQLite bulk inserts: the SQL literals a batch's shared values are written as."""

from __future__ import annotations

import sqlite3

import pytest

from geodata.store.sqlite_bulk import sql_literal


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        -7,
        2**63 - 1,
        -(2**63),
        "",
        "O'Neil's \"house\"; DROP TABLE places; --",
        "dar \u062f\u0627\u0631, música, \U0001f3db\ufe0f",
        "two\nlines\ttab",
    ],
)
def test_a_literal_reads_back_as_the_same_value(value):
    conn = sqlite3.connect(":memory:")
    literal = sql_literal(value)
    assert literal is not None
    (got,) = conn.execute(f"SELECT {literal}").fetchone()
    assert got == value and type(got) is type(value)


def test_booleans_are_stored_as_integers_as_a_bound_bool_is():
    conn = sqlite3.connect(":memory:")
    assert conn.execute(f"SELECT {sql_literal(True)}, {sql_literal(False)}").fetchone() == (1, 0)


@pytest.mark.parametrize("value", [0.1, "a\x00b", 2**63, b"\x01\x02", [1]])
def test_values_a_literal_could_change_are_left_to_be_bound(value):
    """quote() would round a float's text and end a text at its NUL; an integer beyond 64
    bits would become a float; blobs and anything else are simply bound."""
    assert sql_literal(value) is None
