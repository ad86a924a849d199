"""Images are recognised by their first bytes, never by name or declared type."""
import struct
import zlib

import pytest

from server.uploads.services import GIF, HEIC, HEIF, JPEG, PNG, WEBP, dimensions, sniff


def png(width=3, height=2) -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg(width=640, height=480) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def webp_vp8x(width=800, height=600) -> bytes:
    body = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def heif(brand: bytes) -> bytes:
    return struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 16


@pytest.mark.parametrize("data,kind", [
    (jpeg(), JPEG),
    (b"\xff\xd8\xff\xe1" + b"\x00" * 20, JPEG),  # EXIF first, as phone cameras write
    (png(), PNG),
    (b"GIF87a" + b"\x01\x00\x01\x00" + b"\x00" * 10, GIF),
    (b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 10, GIF),
    (webp_vp8x(), WEBP),
    (heif(b"heic"), HEIC),
    (heif(b"heix"), HEIC),
    (heif(b"mif1"), HEIF),
])
def test_each_accepted_format_is_recognised(data, kind):
    assert sniff(data) is kind
    assert kind.content_type.startswith("image/")


@pytest.mark.parametrize("data", [
    b"",
    b"hello, this is text pretending to be a photo",
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b'<?xml version="1.0"?><svg></svg>',
    b"\xff\xd8",  # truncated JPEG
    b"\x89PNG\r\n",  # truncated PNG
    b"RIFF\x10\x00\x00\x00WAVEfmt ",  # RIFF but audio
    struct.pack(">I", 24) + b"ftypisom" + b"\x00" * 12,  # MP4 video
    struct.pack(">I", 24) + b"ftypavif" + b"\x00" * 12,  # AVIF is not on the list
    b"PK\x03\x04" + b"\x00" * 20,  # zip / docx
    b"MZ\x90\x00" + b"\x00" * 20,  # Windows executable
])
def test_everything_else_is_refused(data):
    assert sniff(data) is None


def test_dimensions_when_the_header_tells_them():
    assert dimensions(png(3, 2), PNG) == (3, 2)
    assert dimensions(jpeg(640, 480), JPEG) == (640, 480)
    assert dimensions(b"GIF89a" + struct.pack("<HH", 16, 9) + b"\x00" * 10, GIF) == (16, 9)
    assert dimensions(webp_vp8x(800, 600), WEBP) == (800, 600)
    assert dimensions(heif(b"heic"), HEIC) is None  # not parsed: null is allowed


def test_truncated_headers_give_no_dimensions_instead_of_errors():
    assert dimensions(b"\xff\xd8\xff\xe0\x00", JPEG) is None
    assert dimensions(b"\x89PNG\r\n\x1a\n", PNG) is None
    assert dimensions(b"RIFF\x00\x00\x00\x00WEBPVP8 ", WEBP) is None
