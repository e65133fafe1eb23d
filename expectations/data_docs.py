"""Great Expectations Data Docs that open without a network.

GX writes pages that load Bootstrap, jQuery, Font Awesome, Vega, ... from public CDNs: offline
they show unstyled, their collapsible sections do not open and their charts do not draw.
`fetch_assets()` downloads exactly those files once from the npm registry (pinned versions,
verified against the registry's sha512) into a cache folder (`make setup` does it);
`publish_site()` copies them into the site's `static/vendor/` and points every page at the local
copies. A page that still names a remote script, stylesheet or image after that is an error (a
GX upgrade added one: add it to ASSETS), never a silently half-broken page.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"


class DataDocsError(RuntimeError):
    """The Data Docs site could not be made readable offline; the message says what to do."""


# npm package -> (version, dist.integrity of its tarball), pinned
PACKAGES = {
    "jquery": ("3.7.1", "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg=="),
    "bootstrap": ("4.3.1", "sha512-rXqOmH1VilAt2DyPzluTi2blhk17bO7ef+zLLPlWvG494pDxcM234pJ8wTc/6R40UWizAIIMgxjvxZg5kmsbag=="),
    "popper.js": ("1.12.9", "sha512-s0EEi9xiSCdqz9lV4IiVH5yIZnDX/U1t0tCjB+0jXx9jW8lrR7kOpVupiUg175ogqVoudpDXHF1p6dKATCHMeg=="),
    "bootstrap-table": ("1.19.1", "sha512-WvV+l1AI/C+zThaKmfHmi/IuayVNB0qdFyEhFx1jyZhO0oLtNJNANkCR3rvJf6Dkh72dsLElxpE/bzK9seEQLA=="),
    "bootstrap-datepicker": ("1.9.0", "sha512-9rYYbaVOheGYxjOr/+bJCmRPihfy+LkLSg4fIFMT9Od8WwWB/MB50w0JO1eBgKUMbb7PFHQD5uAfI3ArAxZRXA=="),
    "@fortawesome/fontawesome-free": ("6.6.0", "sha512-60G28ke/sXdtS9KZCpZSHHkCbdsOGEhIUGlwq6yhY74UpTiToIh8np7A8yphhM4BWsvNFtIvLpi4co+h9Mr9Ow=="),
    "@forevolve/bootstrap-dark": ("1.1.0", "sha512-A3ucpEpxPoTVO490lZZCfjPXxv832l7mm1IxX3bXyxvgwnPGXDLyh7dWrphXKO8YBAu3EswbBEu3VSW8NRMW3A=="),
    # the pages ask for the newest 5.x / 6.x; these are the newest at the time of pinning
    "vega": ("5.33.1", "sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw=="),
    "vega-lite": ("5.23.0", "sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA=="),
    "vega-embed": ("6.29.0", "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q=="),
}


@dataclass(frozen=True)
class Asset:
    """One file a GX page loads from a CDN, and where the same file is in an npm package."""

    urls: tuple[str, ...]  # as the GX templates write them
    package: str  # a key of PACKAGES
    member: str  # path inside the tarball, without the leading 'package/'
    siblings: str | None = None  # a folder of the tarball the file needs beside it (fonts of a stylesheet)

    @property
    def version(self) -> str:
        return PACKAGES[self.package][0]

    @property
    def integrity(self) -> str:
        return PACKAGES[self.package][1]

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}/{self.package}/-/{self.package.split('/')[-1]}-{self.version}.tgz"

    @property
    def folder(self) -> str:
        return f"{self.package.replace('/', '__')}@{self.version}"

    @property
    def local(self) -> str:
        """Path under the site's static/vendor/."""
        return f"{self.folder}/{self.member}"


ASSETS = (
    Asset(("https://code.jquery.com/jquery-3.7.1.min.js",), "jquery", "dist/jquery.min.js"),
    Asset(("https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css",), "bootstrap", "dist/css/bootstrap.min.css"),
    Asset(("https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js",), "bootstrap", "dist/js/bootstrap.min.js"),
    Asset(("https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js",), "popper.js", "dist/umd/popper.min.js"),
    Asset(("https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css",), "bootstrap-table", "dist/bootstrap-table.min.css"),
    Asset(("https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js",), "bootstrap-table", "dist/bootstrap-table.min.js"),
    Asset(("https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",),
          "bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"),
    # GX's pages ask for the 1.19.0 stylesheet of the filter extension beside the 1.19.1 script: serve the script's own version
    Asset(("https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
           "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
          "bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
    Asset(("https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css",),
          "bootstrap-datepicker", "dist/css/bootstrap-datepicker.min.css"),
    Asset(("https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js",),
          "bootstrap-datepicker", "dist/js/bootstrap-datepicker.min.js"),
    Asset(("https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css",), "@fortawesome/fontawesome-free",
          "css/all.min.css", siblings="webfonts"),
    Asset(("https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",),
          "@forevolve/bootstrap-dark", "dist/css/bootstrap-prefers-dark.css"),
    Asset(("https://cdn.jsdelivr.net/npm/vega@5",), "vega", "build/vega.min.js"),
    Asset(("https://cdn.jsdelivr.net/npm/vega-lite@5",), "vega-lite", "build/vega-lite.min.js"),
    Asset(("https://cdn.jsdelivr.net/npm/vega-embed@6",), "vega-embed", "build/vega-embed.min.js"),
)

# GX's logo comes from its S3 bucket (with a cache-busting query); the site has the same image.
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/logo-long\.png(\?[^\"']*)?")
_REMOTE_RESOURCE = re.compile(r"<(?:script|link|img)\b[^>]*?\b(?:src|href)=[\"'](https?://[^\"']+)", re.IGNORECASE)


def missing_assets(cache: Path) -> list[Asset]:
    return [a for a in ASSETS if not (cache / a.local).is_file()]


def fetch_assets(cache: Path, *, timeout: float = 60.0) -> list[str]:
    """Download the packages whose files are not in `cache` yet; returns the tarballs fetched."""
    fetched: list[str] = []
    wanted: dict[str, list[Asset]] = {}
    for asset in missing_assets(cache):
        wanted.setdefault(asset.package, []).append(asset)
    for assets in wanted.values():
        first = assets[0]
        try:
            with urllib.request.urlopen(first.tarball, timeout=timeout) as response:
                data = response.read()
        except OSError as exc:
            raise DataDocsError(f"could not download {first.tarball} for the offline Data Docs: {exc}") from exc
        algorithm, _, expected = first.integrity.partition("-")
        actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
        if actual != expected:
            raise DataDocsError(f"{first.tarball}: {algorithm} is {actual}, expected {expected} (pinned in expectations/data_docs.py)")
        _extract(data, assets, cache)
        fetched.append(first.tarball)
    return fetched


def _extract(tarball: bytes, assets: list[Asset], cache: Path) -> None:
    members = {f"package/{a.member}" for a in assets}
    folders = tuple(f"package/{a.siblings}/" for a in assets if a.siblings)
    target = cache / assets[0].folder
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=cache))
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            for member in tar.getmembers():
                if member.isfile() and (member.name in members or member.name.startswith(folders)):
                    out = staging / member.name.removeprefix("package/")
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(tar.extractfile(member).read())
        if target.exists():  # another asset of the same package was fetched before: merge
            shutil.copytree(staging, target, dirs_exist_ok=True)
        else:
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish_site(built: Path, target: Path, cache: Path) -> Path:
    """Make the site GX built in `built` readable offline and move it onto `target` whole.

    The previous site stays in place until the new one is complete (one rename swaps them)."""
    missing = missing_assets(cache)
    if missing:
        raise DataDocsError(f"{len(missing)} Data Docs assets are not in {cache} (e.g. {missing[0].local}): "
                            "run `make setup` (or `touchline data-docs-assets`) once with access to the npm registry")
    vendor = built / "static" / "vendor"
    for asset in ASSETS:
        for relative in [asset.member] + ([asset.siblings] if asset.siblings else []):
            source, dest = cache / asset.folder / relative, vendor / asset.folder / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree(source, dest, dirs_exist_ok=True) if source.is_dir() else shutil.copyfile(source, dest))
    remote: list[str] = []
    for page in built.rglob("*.html"):
        html = localize(page.read_text(encoding="utf-8"), os.path.relpath(built / "static", page.parent))
        remote += [f"{page.relative_to(built)}: {url}" for url in _REMOTE_RESOURCE.findall(html)]
        page.write_text(html, encoding="utf-8")
    if remote:
        raise DataDocsError(f"Data Docs pages still load {len(remote)} remote resources, e.g. {remote[:3]}: "
                            "add them to ASSETS in expectations/data_docs.py")
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    built.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target / "index.html"


def localize(html: str, static: str) -> str:
    """Point a page's CDN references at the site's own copies (`static` is the page's relative path to static/)."""
    for asset in ASSETS:
        for url in asset.urls:
            html = html.replace(f'"{url}"', f'"{static}/vendor/{asset.local}"')
    return _LOGO.sub(f"{static}/images/logo-long.png", html)
