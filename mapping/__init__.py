"""Maps built with folium: city overview, neighbourhood maps, the live workshop projection.

Pure functions from data to ``folium.Map`` or HTML; knows nothing of HTTP.
"""
