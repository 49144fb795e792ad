"""Image format and size from a file's first bytes, without decoding it.

`read_image` names the format from the magic bytes (so a wrong extension does not matter) and
reads the pixel size from the header to refuse decompression bombs before OpenCV allocates
anything. Headers are parsed as the format specifications lay them out: PNG IHDR, GIF logical
screen, BMP BITMAPINFOHEADER / OS/2 BITMAPCOREHEADER, WebP VP8/VP8L/VP8X, JPEG start-of-frame
markers and the first TIFF image file directory.

It also reads what changes how the pixels must be decoded: the EXIF orientation of PNG (eXIf
chunk, PNG 1.5), WebP (EXIF chunk) and TIFF (IFD0 tag 274) files, the TIFF planar configuration
(tag 284), and the frame count of animated GIF (image descriptors), APNG (acTL chunk) and WebP
(ANMF chunks) files.
"""

from __future__ import annotations

import struct

__all__ = ["animation_frames", "exif_orientation", "probe_size", "sniff_format", "tiff_tags"]


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


def tiff_tags(data: bytes, wanted: tuple[int, ...] = (274, 284)) -> dict[int, int]:
    """The first value of each `wanted` SHORT/LONG tag of a TIFF's first IFD (absent tags left out)."""
    found: dict[int, int] = {}
    try:
        order = "<" if data[:2] == b"II" else ">"
        if struct.unpack_from(order + "H", data, 2)[0] != 42:
            return found
        offset = struct.unpack_from(order + "I", data, 4)[0]
        for index in range(struct.unpack_from(order + "H", data, offset)[0]):
            entry = offset + 2 + 12 * index
            tag, kind = struct.unpack_from(order + "HH", data, entry)
            if tag in wanted and kind in (3, 4):
                found[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), data, entry + 8)[0]
    except struct.error:
        pass
    return found


def exif_orientation(data: bytes, kind: str) -> int:
    """The EXIF Orientation (1 to 8) of a PNG, WebP or TIFF file; 1 when absent or invalid.

    JPEG is left to the decoder (OpenCV applies it); the TIFF value is the IFD0 tag itself.
    """
    blob = b""
    if kind == "TIFF":
        blob = data
    elif kind == "PNG":
        blob = _chunk(data, 8, ">", {b"eXIf"}, stop=b"IEND")
    elif kind == "WebP":
        blob = _chunk(data, 12, "<", {b"EXIF"}, riff=True)
        if blob.startswith(b"Exif\x00\x00"):
            blob = blob[6:]
    if blob[:4] not in (b"II*\x00", b"MM\x00*"):
        return 1
    value = tiff_tags(blob, (274,)).get(274, 1)
    return value if 1 <= value <= 8 else 1


def animation_frames(data: bytes, kind: str) -> int:
    """How many frames a GIF, PNG (APNG) or WebP file holds; 1 for still images and other formats."""
    try:
        if kind == "PNG":
            actl = _chunk(data, 8, ">", {b"acTL"}, stop=b"IDAT")
            return max(1, struct.unpack_from(">I", actl, 0)[0]) if len(actl) >= 8 else 1
        if kind == "WebP":
            if data[12:16] != b"VP8X" or not data[20] & 0x02:  # animation flag
                return 1
            return max(1, _count_riff_chunks(data, b"ANMF"))
        if kind == "GIF":
            return max(1, _count_gif_images(data))
    except (struct.error, IndexError):
        return 1
    return 1


def _chunk(
    data: bytes, position: int, order: str, names: set[bytes], *, stop: bytes = b"", riff: bool = False
) -> bytes:
    """The payload of the first PNG (length, type, data, CRC) or RIFF (type, length, data) chunk named in `names`."""
    while position + 8 <= len(data):
        if riff:
            name, length = data[position : position + 4], struct.unpack_from("<I", data, position + 4)[0]
        else:
            length, name = struct.unpack_from(order + "I", data, position)[0], data[position + 4 : position + 8]
        if name in names:
            return bytes(data[position + 8 : position + 8 + length])
        if name == stop:
            break
        position += 8 + length + ((length & 1) if riff else 4)
    return b""


def _count_riff_chunks(data: bytes, name: bytes) -> int:
    count, position = 0, 12
    while position + 8 <= len(data):
        length = struct.unpack_from("<I", data, position + 4)[0]
        if data[position : position + 4] == name:
            count += 1
        position += 8 + length + (length & 1)
    return count


def _count_gif_images(data: bytes) -> int:
    """Image descriptors of a GIF, walking its blocks (GIF89a specification, section 15 onwards)."""
    flags = data[10]
    position = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    count = 0
    while position < len(data):
        block = data[position]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then data sub-blocks
            position += 2
        elif block == 0x2C:  # image descriptor, optional local colour table, LZW code size, sub-blocks
            count += 1
            local = data[position + 9]
            position += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0) + 1
        else:
            break
        while position < len(data) and data[position] != 0:
            position += data[position] + 1
        position += 1
    return count
