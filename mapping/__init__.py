"""Folium map builders: data in, ``folium.Map`` / HTML out. Knows nothing of HTTP."""
