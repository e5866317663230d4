"""A PostGIS database URL with a schema of its own, for tests that need a database no
other test (or test process) touches; the schema is dropped afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def _unavailable(what: str) -> None:
    # As tests/conftest.py does (imported by name, "conftest" may be another folder's).
    if os.environ.get("HERITAGE_REQUIRE_POSTGIS", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{what} is required here (HERITAGE_REQUIRE_POSTGIS=1) but not available")
    pytest.skip(f"{what} not available (set HERITAGE_REQUIRE_POSTGIS=1 to make this a failure)")


@contextmanager
def fresh_schema_url(prefix: str) -> Iterator[str]:
    """``HERITAGE_TEST_POSTGIS_URL`` with ``?schema=<prefix>_<random>``; skips (or fails
    under ``HERITAGE_REQUIRE_POSTGIS=1``) without a PostGIS server."""
    base = os.environ.get("HERITAGE_TEST_POSTGIS_URL")
    if not base:
        _unavailable("PostGIS (HERITAGE_TEST_POSTGIS_URL)")
    try:
        import psycopg
    except ImportError:
        _unavailable("psycopg")
    from geodata.store.postgis_connections import parse_url

    schema = f"{prefix}_{secrets.token_hex(4)}"
    try:
        yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
    finally:
        conninfo, _ = parse_url(base)
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
