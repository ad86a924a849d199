"""Where the bytes of uploaded photos live.

Services and routes only ever see the `Storage` protocol and call `get_storage(app)`; they never build
paths or know which backend is configured. Only "local" (files under UPLOAD_DIR) exists today. An
object-storage backend (Aliyun OSS, Tencent COS, S3) is added here and nowhere else: write a class with
the same three methods (`open` may return the SDK's streaming body), add it to `BACKENDS`, and set
`WUYE_UPLOAD_BACKEND` -- services, routes, the table and the URLs stay as they are.
"""
from __future__ import annotations

import os
import tempfile
from typing import BinaryIO, Callable, Protocol

from flask import Flask

from ..config import PREFIX, ConfigError


class StorageError(RuntimeError):
    pass


class Storage(Protocol):
    def save(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key` completely or not at all (readers never see half a file)."""

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the stored object (the caller closes it, send_file does)."""

    def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""


class LocalStorage:
    """Files under `root`, key `2026/11/<hex>.jpg` -> `<root>/2026/11/<hex>.jpg`, written atomically
    (temporary file in the same directory, fsync, rename)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def path(self, key: str) -> str:
        path = os.path.abspath(os.path.join(self.root, key))
        if not key or os.path.isabs(key) or not path.startswith(self.root + os.sep):
            raise StorageError(f"bad storage key {key!r}")
        return path

    def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def delete(self, key: str) -> None:
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            pass


def _local(app: Flask) -> Storage:
    # Empty: <instance>/uploads; relative: under instance/ (like the SQLite path); absolute as given.
    return LocalStorage(os.path.join(app.instance_path, app.config.get("UPLOAD_DIR") or "uploads"))


# UPLOAD_BACKEND value -> factory(app). Add object-storage backends here.
BACKENDS: dict[str, Callable[[Flask], Storage]] = {"local": _local}


def get_storage(app: Flask) -> Storage:
    """The configured backend (cached per app while its settings stay the same). An unknown
    UPLOAD_BACKEND raises ConfigError; the uploads blueprint calls this at registration, so a typo stops
    the app at start rather than at the first upload."""
    backend = app.config.get("UPLOAD_BACKEND") or "local"
    factory = BACKENDS.get(backend)
    if factory is None:
        raise ConfigError(f"{PREFIX}UPLOAD_BACKEND: unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
    signature = (backend, app.config.get("UPLOAD_DIR"))
    cached = app.extensions.get("uploads.storage")
    if cached is None or cached[0] != signature:
        cached = (signature, factory(app))
        app.extensions["uploads.storage"] = cached
    return cached[1]
