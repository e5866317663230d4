"""FastAPI dependencies: the store and settings come from the app, never from globals."""

from __future__ import annotations

from fastapi import Request

from geodata.store.base import PlaceStore
from geodata.vocabulary import Vocabulary
from web.i18n import request_language
from web.settings import Settings


def get_store(request: Request) -> PlaceStore:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_vocabulary(request: Request) -> Vocabulary:
    return request.app.state.vocabulary


def get_language(request: Request) -> str:
    """The reader's language: ``?lang=``, the ``lang`` cookie, then Accept-Language."""
    return request_language(request)
