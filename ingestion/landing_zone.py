"""Where exports land: a local folder or an object-store prefix, behind one small interface.

Discovery (ingestion/landing.py) walks folders through `entries()`, ingestion reads each file's
bytes through `read_bytes()`, and lineage records the path relative to the zone's root: the same
string for a local folder and for an `s3://bucket/prefix` holding the same files. Files are read
one at a time, into memory; nothing is copied to a temporary folder.

Errors, so that a run fails or goes on for the right reason:
- OSError from `read_bytes` (the file vanished, access denied to that one file): the file cannot be
  read; ingestion quarantines it as one rejected file with the message, like a local unreadable file.
- LandingZoneError: the zone itself cannot be listed or read (bucket missing, credentials refused,
  storage still failing after the retries). Ingestion stops; `retryable` says whether running the
  step again later can help (orchestration/normalize.py turns a permanent one into a Dagster
  failure that is not retried).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from touchline.settings import ObjectStore


class LandingZoneError(Exception):
    """The landing zone cannot be listed or read. The message names the URL and what to check."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Entry:
    name: str
    relative: str  # posix path from the zone's root
    kind: Literal["file", "folder", "other"]  # other: a socket, a broken link (local folders only)
    size: int = 0  # bytes, for files
    mtime_ns: int | None = None  # last modified, for files (a change hint: the checksum decides)


class LandingZone(ABC):
    url: str  # the folder or s3:// URL, for messages

    @abstractmethod
    def exists(self) -> bool:
        """The root folder exists (object storage: at least one object under the prefix)."""

    @abstractmethod
    def entries(self, folder: str = "") -> list[Entry]:
        """The direct children of `folder` (relative to the root; '' is the root), sorted by name."""

    @abstractmethod
    def read_bytes(self, relative: str) -> bytes:
        """A file's bytes. OSError: this file cannot be read; LandingZoneError: the zone cannot."""

    def location(self, relative: str) -> str:
        """The full path or URL of an entry, for people."""
        return f"{self.url.rstrip('/')}/{relative}" if relative else self.url

    def __str__(self) -> str:
        return self.url


class LocalZone(LandingZone):
    """A folder on a local (or mounted) file system. Links are followed, as a shell would."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.url = str(self.root)

    def exists(self) -> bool:
        return self.root.is_dir()

    def entries(self, folder: str = "") -> list[Entry]:
        base = self.root / folder if folder else self.root
        if not base.is_dir():
            return []
        out = []
        for child in sorted(base.iterdir(), key=lambda p: p.name):
            relative = f"{folder}/{child.name}" if folder else child.name
            if child.is_dir():
                out.append(Entry(child.name, relative, "folder"))
            elif child.is_file():
                st = child.stat()
                out.append(Entry(child.name, relative, "file", st.st_size, st.st_mtime_ns))
            else:
                out.append(Entry(child.name, relative, "other"))
        return out

    def read_bytes(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def location(self, relative: str) -> str:
        return os.path.join(self.url, relative) if relative else self.url


def open_zone(landing: Path | str | ObjectStore | LandingZone) -> LandingZone:
    """The landing zone a setting names: `settings.landing` (a Path or an ObjectStore)."""
    if isinstance(landing, LandingZone):
        return landing
    if isinstance(landing, ObjectStore):
        from ingestion.object_store import ObjectStoreZone  # s3fs and botocore load only when needed

        return ObjectStoreZone(landing)
    return LocalZone(Path(landing))
