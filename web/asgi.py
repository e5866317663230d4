"""The ASGI entry point uvicorn imports (each worker builds its app from the settings)."""

from web.app import create_app

app = create_app()
