"""Sample files for photo tests, made on the fly."""

import hashlib
import io
import struct
import zlib

from PIL import Image

from webapp.photos import ingest  # noqa: F401  (registers the HEIF opener)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def picture(size=(400, 300)) -> Image.Image:
    """A picture whose orientation can be told: red on the left half, blue on the right."""
    img = Image.new("RGB", size, (220, 30, 30))
    img.paste((30, 30, 220), (size[0] // 2, 0, size[0], size[1]))
    return img


def jpeg(size=(400, 300), orientation=None, gps=None, taken="2026:11:20 09:30:00", offset="+08:00",
         quality=90) -> bytes:
    img = picture(size)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0xA431] = "SERIAL-123456"  # BodySerialNumber (in the main IFD here, enough for a test)
    if orientation:
        exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = taken
    if offset:
        sub[0x9011] = offset
    if gps:
        lat, lng = gps
        g = exif.get_ifd(0x8825)
        g[1] = "N" if lat >= 0 else "S"
        g[2] = _dms(abs(lat))
        g[3] = "E" if lng >= 0 else "W"
        g[4] = _dms(abs(lng))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def _dms(value: float):
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round(((value - deg) * 60 - minutes) * 60, 4)
    return (float(deg), float(minutes), float(seconds))


def encode(fmt: str, size=(400, 300), mode="RGB") -> bytes:
    img = picture(size).convert(mode)
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares huge dimensions (a decompression bomb's header)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def swapped_primaries_icc() -> bytes:
    """A colour profile that is not sRGB: sRGB with its red and blue primaries swapped (and renamed),
    so converting to sRGB visibly turns red into blue."""
    from PIL import ImageCms

    b = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack(">I", b[128:132])
    tags = {bytes(b[132 + 12 * i:136 + 12 * i]): 132 + 12 * i for i in range(count)}
    r, bl = tags[b"rXYZ"], tags[b"bXYZ"]
    b[r + 4:r + 12], b[bl + 4:bl + 12] = b[bl + 4:bl + 12], b[r + 4:r + 12]
    return bytes(b).replace(b"s\x00R\x00G\x00B", b"X\x00Y\x00Z\x00W").replace(b"sRGB", b"XYZW")
