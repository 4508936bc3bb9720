"""The demo's key scheme and its generated photos: what the seed, its history and each results
feature's demo share (a module of their own, so none of them imports another's)."""

import io
import uuid

from PIL import Image, ImageDraw

NS = uuid.UUID("6f1c2b1e-0d7a-4c55-9a53-3c0e8e3b9a10")


def demo_id(key: str) -> str:
    return str(uuid.uuid5(NS, key))


def photo_bytes(label: str, hue: int) -> bytes:
    """A generated 'site photo' (a shelf/aisle scene) so the demo's evidence gallery is not empty."""
    img = Image.new("RGB", (1280, 960), (200 + hue % 40, 190, 170))
    d = ImageDraw.Draw(img)
    for i in range(6):  # shelving
        y = 120 + i * 130
        d.rectangle([80, y, 1200, y + 18], fill=(90, 80, 70))
        for j in range(9):
            x = 110 + j * 120 + (i * 17 % 40)
            d.rectangle([x, y - 90, x + 80, y], fill=((hue * 7 + j * 40) % 255, (i * 50) % 255, (j * 30 + hue) % 255))
    d.rectangle([0, 900, 1280, 960], fill=(30, 30, 30))
    d.text((20, 915), f"{label}", fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()
