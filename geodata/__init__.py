"""Heritage Atlas domain: places, narratives, neighbourhoods, geometry rules and the store.

This package knows nothing of HTTP or HTML; ``mapping`` and ``web`` build on it.
"""
