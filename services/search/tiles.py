"""Web-Mercator tiles, the grid the map clusters on: at zoom z the world is 2**z × 2**z tiles of 256 pixels.

A record's tile at every zoom is stored with it (embedded backend) so that clustering is a count per tile,
never a pass over coordinates in Python.
"""
import math

MAX_LEVEL = 18  # the finest grid stored: tiles of ~150 m; closer than that, records share a position
MAX_LATITUDE = 85.05112878  # the Mercator square's edge


def tile(latitude: float, longitude: float, level: int) -> tuple[int, int]:
    """(x, y) of the tile at `level` holding the point; y grows southwards."""
    size = 1 << level
    latitude = max(-MAX_LATITUDE, min(MAX_LATITUDE, latitude))
    x = (longitude + 180.0) / 360.0
    sine = math.sin(math.radians(latitude))
    y = 0.5 - math.log((1 + sine) / (1 - sine)) / (4 * math.pi)
    return min(size - 1, max(0, int(x * size))), min(size - 1, max(0, int(y * size)))


def tile_key(latitude: float, longitude: float, level: int) -> int:
    x, y = tile(latitude, longitude, level)
    return (x << level) | y


def position_key(latitude: float, longitude: float) -> int:
    """One number per position rounded to 1e-5 degrees (~1 m): records with the same key are co-located."""
    return round((latitude + 90) * 100_000) * 36_000_001 + round((longitude + 180) * 100_000)


def mercator_y(latitude: float) -> float:
    """The point's y in the world square, 0 at the top, 1 at the bottom."""
    latitude = max(-MAX_LATITUDE, min(MAX_LATITUDE, latitude))
    sine = math.sin(math.radians(latitude))
    return 0.5 - math.log((1 + sine) / (1 - sine)) / (4 * math.pi)
