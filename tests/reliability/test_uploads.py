"""Hostile uploads against the real server (issue: reliability): a corpus the test builds —
wrong content behind an image name, SVG and HTML with script, a polyglot, truncated files,
decompression bombs, oversized bodies, EXIF with a GPS position. Each is refused with a clear
error naming the field, or stored only after re-encoding with all metadata gone; the server
stays up and its memory bounded."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image

from follicle.records.models import Consent, ConsentText, new_id
from tests.reliability.conftest import Site
from tests.support.api import photo_png
from tests.support.factories import make_patient

PEAK_MEMORY_LIMIT_MB = 1500  # a decoded bomb would need tens of GB


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A few kilobytes that claim 3.6 gigapixels (all-zero rows compress to nothing)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compressobj(9)
    data = rows.compress(b"\x00" * (width * 3 + 1) * 200) + rows.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (120, 90, 60))
    exif = Image.Exif()
    exif[0x010F] = "SyntheticCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 26.0)  # latitude of a synthetic place
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def _consenting_patient(site: Site) -> str:
    patient_id = make_patient(site.db, site.clinic_id, "Upload")
    now = datetime.now(UTC)
    with site.db.transaction() as session:
        text = ConsentText(
            id=new_id("cxt"),
            clinic_id=site.clinic_id,
            kind="photo_use",
            version_number=1,
            title="Photographs (synthetic)",
            body="Synthetic consent text for tests.",
            published_at=now,
        )
        session.add(text)
        session.flush()
        session.add(
            Consent(
                id=new_id("cns"),
                clinic_id=site.clinic_id,
                patient_id=patient_id,
                consent_text_id=text.id,
                signed_at=now,
                signed_name="Pat Upload",
            )
        )
    return patient_id


def _peak_memory_mb(site: Site) -> float:
    assert site.server.process is not None
    status = Path(f"/proc/{site.server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


REFUSED = {
    "html behind a .jpg name": (
        "scan.jpg",
        b"<html><script>alert(1)</script></html>",
        "image/jpeg",
    ),
    "svg with script": (
        "photo.png",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "image/svg+xml",
    ),
    "text file": ("notes.png", b"just some text, not an image\n" * 20, "image/png"),
    "truncated png": ("cut.png", photo_png(400, 300)[:700], "image/png"),
    "truncated jpeg": ("cut.jpg", jpeg_with_gps()[:400], "image/jpeg"),
    "png decompression bomb": ("bomb.png", png_bomb(), "image/png"),
    "empty file": ("empty.jpg", b"", "image/jpeg"),
}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_hostile_uploads_are_refused_or_cleaned(site: Site) -> None:
    patient_id = _consenting_patient(site)
    headers = {"Authorization": f"Bearer {site.token}"}
    url = f"{site.server.url}/api/v1/patients/{patient_id}/images"
    with httpx.Client(headers=headers, timeout=60) as client:
        for name, (filename, content, media_type) in REFUSED.items():
            answer = client.post(
                url,
                data={"kind": "photo", "view": "vertex"},
                files={"file": (filename, content, media_type)},
            )
            assert answer.status_code == 422, name
            assert answer.json()["errors"][0]["pointer"] == "/file", name

        # A polyglot: a real PNG with an HTML page after its end is stored as fresh pixels only.
        polyglot = photo_png(64, 48) + b"<html><script>alert(document.cookie)</script></html>"
        stored = client.post(
            url,
            data={"kind": "photo", "view": "vertex"},
            files={"file": ("poly.png", polyglot, "image/png")},
        )
        assert stored.status_code == 201, stored.text
        served = client.get(f"{url}/{stored.json()['id']}/content")
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert b"<script" not in served.content

        # EXIF with a GPS position: stored without any metadata.
        located = client.post(
            url,
            data={"kind": "photo", "view": "vertex"},
            files={"file": ("gps.jpg", jpeg_with_gps(), "image/jpeg")},
        )
        assert located.status_code == 201, located.text
        clean = client.get(f"{url}/{located.json()['id']}/content").content
        assert b"Exif" not in clean
        assert b"SyntheticCam" not in clean
        assert not Image.open(io.BytesIO(clean)).getexif()

        # Oversized bodies: refused by size before they are read, declared or streamed.
        too_big = b"\xff" * (33 * 1024 * 1024)
        declared = client.post(
            url,
            data={"kind": "photo", "view": "vertex"},
            files={"file": ("huge.jpg", too_big, "image/jpeg")},
        )
        assert declared.status_code == 413

        def chunks() -> object:
            yield (
                b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n'
                b"Content-Type: image/jpeg\r\n\r\n"
            )
            for _ in range(40):
                yield b"\xff" * (1024 * 1024)
            yield b"\r\n--b--\r\n"

        streamed = client.post(  # chunked: no Content-Length to refuse it by
            url, content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
        )
        assert streamed.status_code == 413
        big_json = client.post(
            f"{site.server.url}/api/v1/patients",
            content=b'{"given_name": "' + b"x" * (3 * 1024 * 1024) + b'"}',
            headers={"Content-Type": "application/json"},
        )
        assert big_json.status_code == 413

        assert client.get(site.server.url + "/healthz").status_code == 200
    assert _peak_memory_mb(site) < PEAK_MEMORY_LIMIT_MB
