"""FastAPI dependencies: the store and settings come from the app, never from globals.

They are coroutines although they never wait: FastAPI runs a plain function dependency
in its thread pool, and three thread hops per request cost more than the lookups."""

from __future__ import annotations

from fastapi import Request

from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from web.language_choice import request_language
from web.settings import Settings


async def get_store(request: Request) -> PlaceStore:
    return request.app.state.store


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_vocabulary(request: Request) -> Vocabulary:
    return request.app.state.vocabulary


def get_language(request: Request) -> str:
    """The reader's language: ``?lang=``, the ``lang`` cookie, then Accept-Language."""
    return request_language(request)
