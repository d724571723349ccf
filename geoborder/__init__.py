"""geoborder: maps and data of Vietnam's land-border communes and crossing points.

The library has no web framework import; ``api/`` assembles the service on top of it.
"""

__version__ = "0.1.0"
