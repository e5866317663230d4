"""The shared Jinja2 environment for every HTML page (autoescaping on for .html)."""

from __future__ import annotations

from pathlib import Path

from starlette.templating import Jinja2Templates

from web.page_language import language_context

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# select_autoescape: every .html template escapes what it prints unless told otherwise,
# so titles and stories typed by residents can never become markup.
# Every page speaks the reader's language: language_context gives each template its
# gettext, ngettext, number and date formats, <html lang dir> and the language picker.
templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[language_context])
