"""The image store: files by content hash, outside the web root (DESIGN.md §4).

A file is written to a temporary name and renamed into place, so a crash never leaves a
half-written image under a real name; the same content is stored once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg"}


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str, media_type: str) -> Path:
        if not _DIGEST.match(sha256):
            raise ValueError("not a SHA-256 digest")
        return self.root / sha256[:2] / (sha256 + EXTENSIONS[media_type])

    def put(self, content: bytes, media_type: str) -> str:
        sha256 = hashlib.sha256(content).hexdigest()
        target = self._path(sha256, media_type)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return sha256

    def get(self, sha256: str, media_type: str) -> bytes:
        return self._path(sha256, media_type).read_bytes()
