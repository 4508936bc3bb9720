"""Distance on the Earth (pure): the great-circle (haversine) distance between two points."""

import math

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def fence(site_lat, site_lng, radius_m, lat, lng) -> tuple[float | None, bool | None]:
    """(distance in metres, inside the fence) of a position against a site; (None, None) when the
    site or the position has no coordinates (distance unknown, shown as such)."""
    if None in (site_lat, site_lng, lat, lng):
        return None, None
    d = round(distance_m(site_lat, site_lng, lat, lng), 1)
    return d, d <= (radius_m if radius_m is not None else 200)
