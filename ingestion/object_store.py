"""A landing zone on S3 or any S3-compatible server, read through fsspec's s3fs.

Endpoint and credentials: botocore's own chain (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_PROFILE,
an instance role, ...; touchline/settings.py lists them). Touchline passes only the endpoint it
was given (to name it in messages) and the retry policy.

Retries are the libraries' own, not a layer of ours (no tenacity): botocore's `standard` retry
mode retries each request (a ListObjectsV2 page, a GetObject) on throttling, 5xx answers,
timeouts and dropped connections, with exponential backoff and jitter (up to 20 s between
attempts), AWS_MAX_ATTEMPTS attempts in all (5 here). Retrying per request means a listing of
many pages resumes at the page that failed instead of starting over, and an outside retry around
it would multiply the attempts. s3fs adds one quick second try of a read whose response body was
cut mid-way (S3FS_ATTEMPTS), which botocore cannot retry: its request had succeeded. When they give
up, the error is a LandingZoneError naming the URL and the endpoint, and the Dagster step may then
be retried as a whole (orchestration/normalize.py).

The zone is listed once per `ObjectStoreZone` (one paginated recursive listing, 1,000 keys per
request, instead of a request per folder), and folders are answered from that listing: discovery
sees one consistent snapshot. Folder marker objects (`key/`, as consoles create for "new folder")
count as folders; an object and a folder of the same name both show up, as S3 allows both.
"""

from __future__ import annotations

import errno
from functools import cached_property
from typing import Any

from ingestion.landing_zone import Entry, LandingZone, LandingZoneError
from touchline.settings import ObjectStore

CONNECT_TIMEOUT_SECONDS = 10  # per attempt; botocore's default of 60 makes a wrong endpoint hang for minutes
READ_TIMEOUT_SECONDS = 60
# s3fs's own loop around botocore's (its default is 5): 2 = one more try of a read cut mid-body.
# It wraps each request too, so a server that keeps dropping connections sees 2 x 2 x AWS_MAX_ATTEMPTS
# requests per read, twice that as aiohttp re-sends once on a pooled connection (measured: 16 at
# AWS_MAX_ATTEMPTS=2; about a minute at 5). s3fs's default would make it 25 x: many minutes.
S3FS_ATTEMPTS = 2


def filesystem(store: ObjectStore) -> Any:
    """An s3fs file system for the store: no listing cache (a long-lived process, such as the
    Dagster UI, must see tonight's files) and no shared instance."""
    import s3fs

    fs = s3fs.S3FileSystem(
        endpoint_url=store.endpoint_url,
        skip_instance_cache=True,
        use_listings_cache=False,
        config_kwargs={
            "retries": {"mode": store.retry_mode, "total_max_attempts": store.max_attempts},  # AWS_MAX_ATTEMPTS counts the first try too
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "read_timeout": READ_TIMEOUT_SECONDS,
        },
    )
    fs.retries = S3FS_ATTEMPTS  # a class attribute in s3fs, not a constructor argument
    return fs


class ObjectStoreZone(LandingZone):
    def __init__(self, store: ObjectStore, fs: Any = None):
        self.store = store
        self.url = store.url
        self._fs = fs if fs is not None else filesystem(store)
        self._root = f"{store.bucket}/{store.prefix}".rstrip("/")  # s3fs path: bucket/prefix

    def exists(self) -> bool:
        prefix = f"{self.store.prefix}/" if self.store.prefix else ""
        try:
            listed = self._fs.call_s3("list_objects_v2", Bucket=self.store.bucket, Prefix=prefix, MaxKeys=1)
        except Exception as exc:
            raise self._zone_error("listing", exc) from exc
        return bool(listed.get("KeyCount") or listed.get("Contents"))

    def entries(self, folder: str = "") -> list[Entry]:
        return self._tree.get(folder, [])

    def read_bytes(self, relative: str) -> bytes:
        url = self.location(relative)
        try:
            return self._fs.cat_file(f"{self._root}/{relative}")
        except FileNotFoundError:
            raise FileNotFoundError(errno.ENOENT, "no such object (deleted after the landing zone was listed?)", url) from None
        except PermissionError as exc:
            raise PermissionError(errno.EACCES, f"access denied ({exc}): the credentials need s3:GetObject on it", url) from None
        except Exception as exc:
            raise self._zone_error(f"reading {url}", exc) from exc

    @cached_property
    def _tree(self) -> dict[str, list[Entry]]:
        """folder -> its entries, from one recursive listing of the prefix."""
        try:
            found = self._fs.find(self._root, detail=True, withdirs=False)
        except Exception as exc:
            raise self._zone_error("listing", exc) from exc
        return build_tree((name.removeprefix(f"{self._root}/"), int(info.get("size") or 0), _mtime_ns(info.get("LastModified")))
                          for name, info in found.items() if name.startswith(f"{self._root}/"))

    def _zone_error(self, doing: str, exc: BaseException) -> LandingZoneError:
        where = f"landing zone {self.url} (TOUCHLINE_LANDING) at {self._endpoint()}"
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, FileNotFoundError):
            return LandingZoneError(f"{where}: {doing} failed: bucket {self.store.bucket!r} does not exist ({detail}). "
                                    "Check the bucket name in TOUCHLINE_LANDING and the endpoint (AWS_ENDPOINT_URL).", retryable=False)
        if isinstance(exc, PermissionError):
            return LandingZoneError(f"{where}: {doing} failed: access denied ({detail}). Check the credentials "
                                    "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, or AWS_PROFILE) and that they may "
                                    f"s3:ListBucket on {self.store.bucket!r} and s3:GetObject under the prefix.", retryable=False)
        name = type(exc).__name__
        if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
            return LandingZoneError(f"{where}: {doing} failed: no usable credentials ({detail}). Set AWS_ACCESS_KEY_ID and "
                                    "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE).", retryable=False)
        if isinstance(exc, OSError) and exc.errno == errno.EREMCHG:
            return LandingZoneError(f"{where}: {doing} failed: the bucket answers from another region or endpoint ({detail}). "
                                    "Set AWS_REGION to the bucket's region.", retryable=False)
        if isinstance(exc, ValueError) or (isinstance(exc, OSError) and exc.errno == errno.EINVAL):
            return LandingZoneError(f"{where}: {doing} failed: the request was refused as invalid ({detail}). "
                                    "Check TOUCHLINE_LANDING (bucket name) and AWS_REGION.", retryable=False)
        return LandingZoneError(f"{where}: {doing} failed after retrying with backoff ({self.store.max_attempts} attempts per "
                                f"request, AWS_MAX_ATTEMPTS; retry mode {self.store.retry_mode}): {detail}. The storage is "
                                "unreachable, failing or throttling; check the endpoint and try again later.", retryable=True)

    def _endpoint(self) -> str:
        return self.store.endpoint_url or "AWS S3 (no AWS_ENDPOINT_URL set)"


def _mtime_ns(modified: Any) -> int | None:
    """An object's LastModified (a datetime from the listing) in ns since the epoch."""
    return int(modified.timestamp() * 1_000_000_000) if hasattr(modified, "timestamp") else None


def build_tree(objects: Any) -> dict[str, list[Entry]]:
    """Folder entries from (key relative to the root, size[, last modified ns]) tuples; `a/b/` is a folder marker."""
    children: dict[str, dict[tuple[str, str], Entry]] = {}

    def add(folder: str, entry: Entry) -> None:
        children.setdefault(folder, {})[(entry.name, entry.kind)] = entry

    for key, size, *modified in objects:
        parts = key.rstrip("/").split("/")
        if parts == [""]:
            continue  # a marker for the root itself
        for depth in range(1, len(parts)):  # every folder on the way holds the next one
            folder, name = "/".join(parts[: depth - 1]), parts[depth - 1]
            add(folder, Entry(name, "/".join(parts[:depth]), "folder"))
        folder, name = "/".join(parts[:-1]), parts[-1]
        if key.endswith("/"):
            add(folder, Entry(name, "/".join(parts), "folder"))
        else:
            add(folder, Entry(name, key, "file", size, modified[0] if modified else None))
    return {folder: sorted(entries.values(), key=lambda e: (e.name, e.kind)) for folder, entries in children.items()}
