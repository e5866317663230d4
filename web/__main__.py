"""``python -m web`` runs the command line (same as ``heritage-atlas``)."""

from web.cli import app

app()
