"""Image format and size from a file's first bytes, without decoding it.

`read_image` names the format from the magic bytes (so a wrong extension does not matter) and
reads the pixel size from the header to refuse decompression bombs before OpenCV allocates
anything. Headers are parsed as the format specifications lay them out: PNG IHDR, GIF logical
screen, BMP BITMAPINFOHEADER / OS/2 BITMAPCOREHEADER, WebP VP8/VP8L/VP8X, JPEG start-of-frame
markers and the first TIFF image file directory.
"""

from __future__ import annotations

import struct

__all__ = ["probe_size", "sniff_format"]


def sniff_format(data: bytes) -> str | None:
    """Names the image format from the file's first bytes, or None when it is not an image."""
    head = bytes(data[:16])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if len(head) > 2 and head[0:1] == b"P" and head[1:2] in b"123456" and head[2:3] in b" \t\r\n":
        return "PNM"
    return None


def probe_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """(height, width) from the header, or None when it cannot be read without decoding."""
    try:
        if kind == "PNG" and data[12:16] == b"IHDR":
            width, height = struct.unpack_from(">II", data, 16)
            return height, width
        if kind == "GIF":
            width, height = struct.unpack_from("<HH", data, 6)
            return height, width
        if kind == "BMP":
            if struct.unpack_from("<I", data, 14)[0] == 12:  # OS/2 BITMAPCOREHEADER
                width, height = struct.unpack_from("<HH", data, 18)
            else:
                width, height = struct.unpack_from("<ii", data, 18)
            return abs(height), abs(width)
        if kind == "WebP":
            return _probe_webp(data)
        if kind == "JPEG":
            return _probe_jpeg(data)
        if kind == "TIFF":
            return _probe_tiff(data)
    except struct.error:  # header shorter than it claims: let the decoder report it
        return None
    return None


def _probe_webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(data[27:30], "little"), 1 + int.from_bytes(data[24:27], "little")
    if chunk == b"VP8 ":
        width, height = struct.unpack_from("<HH", data, 26)
        return height & 0x3FFF, width & 0x3FFF
    if chunk == b"VP8L":
        bits = struct.unpack_from("<I", data, 21)[0]
        return 1 + ((bits >> 14) & 0x3FFF), 1 + (bits & 0x3FFF)
    return None


def _probe_jpeg(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 9 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
            height, width = struct.unpack_from(">HH", data, position + 5)
            return height, width
        position += 2 + struct.unpack_from(">H", data, position + 2)[0]
    return None


def _probe_tiff(data: bytes) -> tuple[int, int] | None:
    order = "<" if data[:2] == b"II" else ">"
    if struct.unpack_from(order + "H", data, 2)[0] != 42:  # BigTIFF: left to the decoder
        return None
    offset = struct.unpack_from(order + "I", data, 4)[0]
    found: dict[int, int] = {}
    for index in range(struct.unpack_from(order + "H", data, offset)[0]):
        tag, kind = struct.unpack_from(order + "HH", data, offset + 2 + 12 * index)
        if tag in (256, 257) and kind in (3, 4):  # ImageWidth, ImageLength as SHORT or LONG
            found[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), data, offset + 10 + 12 * index)[0]
    return (found[257], found[256]) if len(found) == 2 else None
