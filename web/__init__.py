"""Heritage Atlas web layer: the FastAPI application, its pages and the command line."""
