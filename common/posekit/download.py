"""Resumable, verified downloads and safe archive extraction for the Pose Zoo data sets.

- `fetch` writes to `<dest>.part`, resumes it with HTTP Range requests, retries transient failures
  with exponential backoff and renames atomically once the bytes are complete and verified.
- Every verified file is recorded in `<root>/MANIFEST.sha256` (`sha256sum` format), so a second
  run touches no network and `verify_manifest` (or `sha256sum -c`) can re-check the data.
- `extract` refuses archive members that would land outside the target directory.
- TLS certificates are always verified; there is no option to turn that off.

Standard library (urllib) plus tqdm only; runs on Python 3.7 and 3.11.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import shlex
import socket
import ssl
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from tqdm import tqdm

from . import __version__, sources

MANIFEST_NAME = "MANIFEST.sha256"

_CHUNK = 1 << 20
_USER_AGENT = f"posekit/{__version__} (Pose Zoo data downloader)"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")
# sha256sum writes "<hex>  <name>" (text mode) or "<hex> *<name>" (binary mode).
_MANIFEST_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")
# Rate limiting and request timeouts are transient although they are 4xx.
_RETRY_STATUS = frozenset([408, 429])

log = logging.getLogger(__name__)


class DownloadError(RuntimeError):
    """A URL could not be fetched (HTTP error, retries exhausted, TLS failure)."""


class ChecksumError(DownloadError):
    """A finished download does not have the expected SHA-256; the bytes were kept aside."""


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the extraction target."""


class TermsNotAcceptedError(DownloadError):
    """A licence-gated data set was requested without accepting its terms."""


class ManualStepRequired(DownloadError):
    """Part of the data set cannot be downloaded; the message says what the user must do."""


class _Transient(Exception):
    """A failure worth retrying (5xx, truncated body, unusable partial file)."""


# HTTPException covers IncompleteRead and RemoteDisconnected (a dropped keep-alive connection).
_RETRYABLE = (_Transient, http.client.HTTPException, ConnectionError, socket.timeout)


# ----------------------------------------------------------------------------- hashing, manifest


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_name(root: str, path: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def read_manifest(root: str) -> Dict[str, str]:
    """Relative name -> hex digest from `<root>/MANIFEST.sha256` (empty if there is none)."""
    path = os.path.join(root, MANIFEST_NAME)
    entries: Dict[str, str] = {}
    if not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            match = _MANIFEST_LINE.match(line)
            if match is None:
                raise ValueError(f"{path}:{lineno}: expected '<sha256 hex>  <name>', got {line!r}")
            entries[match.group(2)] = match.group(1).lower()
    return entries


def _write_manifest(root: str, entries: Dict[str, str]) -> None:
    fd, tmp = tempfile.mkstemp(prefix="." + MANIFEST_NAME + ".", suffix=".tmp", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for name in sorted(entries):
                f.write(f"{entries[name]}  {name}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(root, MANIFEST_NAME))
    except BaseException:
        os.unlink(tmp)
        raise


def _record(root: str, path: str, digest: str) -> None:
    entries = read_manifest(root)
    entries[_manifest_name(root, path)] = digest
    _write_manifest(root, entries)


def verify_manifest(root: str, progress: bool = True) -> Dict[str, str]:
    """Re-hash every file in the manifest: name -> "ok" | "missing" | "mismatch"."""
    entries = read_manifest(root)
    result: Dict[str, str] = {}
    for name in tqdm(
        sorted(entries), desc="verify", unit="file", disable=None if progress else True
    ):
        path = os.path.join(root, *name.split("/"))
        if not os.path.isfile(path):
            result[name] = "missing"
        elif sha256_file(path) != entries[name]:
            result[name] = "mismatch"
        else:
            result[name] = "ok"
    return result


# ------------------------------------------------------------------------------------- fetching


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _free_name(base: str) -> str:
    """`base`, or `base.1`, `base.2`, ... : the first that does not exist yet."""
    candidate, n = base, 0
    while os.path.lexists(candidate):
        n += 1
        candidate = f"{base}.{n}"
    return candidate


def _set_aside(path: str, dest: str) -> str:
    bad = _free_name(dest + ".bad-sha256")
    os.replace(path, bad)
    return bad


def _restart(part: str, reason: str) -> _Transient:
    """Empty the part file; the returned error asks for another attempt from byte 0."""
    open(part, "wb").close()
    return _Transient(reason + "; restarting from byte 0")


def _open(url: str, offset: int, timeout: float):
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            return exc
        if exc.code >= 500 or exc.code in _RETRY_STATUS:
            raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason} (not retried)") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.CertificateError):
            raise DownloadError(
                f"{url}: TLS certificate verification failed ({exc.reason}); "
                "posekit never downloads without a verified certificate"
            ) from None
        raise _Transient(f"cannot connect: {exc.reason}") from None


def _attempt(url: str, part: str, timeout: float, progress: bool) -> None:
    """One request: append to (or restart) `part`; raise _Transient if the body came up short."""
    have = _size(part)
    response = _open(url, have, timeout)
    if response.getcode() == 416:
        match = _UNSATISFIED_RANGE.search(response.headers.get("Content-Range", ""))
        if match is None or int(match.group(1)) == have:
            return  # the part file already holds every byte
        raise _restart(part, f"{part} has {have} bytes but the file has {match.group(1)}")
    with response:
        code = response.getcode()
        if code == 206:
            match = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) != have:
                raise _restart(
                    part,
                    "asked for bytes {}-, got Content-Range {!r}".format(
                        have, response.headers.get("Content-Range")
                    ),
                )
            total = None if match.group(3) == "*" else int(match.group(3))
            mode = "ab"
        elif code == 200:
            length = response.headers.get("Content-Length")
            total = int(length) if length is not None else None
            have, mode = 0, "wb"  # no Range sent, or the server ignored it: start over
        else:
            raise DownloadError(f"{url}: unexpected HTTP status {code}")
        with open(part, mode) as out, tqdm(
            total=total,
            initial=have,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=os.path.basename(part[: -len(".part")]),
            disable=None if progress else True,
        ) as bar:
            for block in iter(lambda: response.read(_CHUNK), b""):
                out.write(block)
                bar.update(len(block))
    # http.client returns a short body without raising when the peer closes early.
    got = _size(part)
    if total is not None and got < total:
        raise _Transient(f"connection closed after {got} of {total} bytes")
    if total is not None and got > total:
        raise _restart(part, f"{part} grew to {got} bytes, more than the {total} announced")


def fetch(
    url: str,
    dest: str,
    sha256: Optional[str] = None,
    retries: int = 5,
    backoff: float = 1.0,
    progress: bool = True,
    root: Optional[str] = None,
    timeout: float = 60.0,
) -> str:
    """Download `url` to `dest` and record it in `<root>/MANIFEST.sha256`; return `dest`.

    `root` (default: the directory of `dest`) is where the manifest lives. If `dest` already
    exists and is recorded in the manifest (with `sha256`, when given), nothing is fetched; a
    `dest` that exists unrecorded is hashed and kept if it matches `sha256`. `retries` counts
    consecutive failed attempts that brought no new bytes; the wait doubles from `backoff`
    seconds. 5xx, 408, 429, dropped connections and short bodies are retried, resuming from
    the bytes on disk; other HTTP errors raise DownloadError at once. A finished file whose
    digest differs from `sha256` is moved to `<dest>.bad-sha256[.N]` and ChecksumError raised.
    """
    root = os.path.dirname(os.path.abspath(dest)) if root is None else root
    expected = sha256.lower() if sha256 else None
    if os.path.exists(dest):
        recorded = read_manifest(root).get(_manifest_name(root, dest))
        # A recorded file is trusted without re-reading it (verify_manifest does the deep check).
        if recorded is not None and expected in (None, recorded):
            return dest
        if expected is not None:
            actual = sha256_file(dest)
            if actual == expected:
                _record(root, dest, actual)
                return dest
            bad = _set_aside(dest, dest)
            log.warning("%s: sha256 %s, expected %s; moved to %s", dest, actual, expected, bad)

    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    part = dest + ".part"
    failures = 0
    while True:
        before = _size(part)
        try:
            _attempt(url, part, timeout, progress)
            break
        except _RETRYABLE as exc:
            if _size(part) > before:
                failures = 0
            failures += 1
            if failures > retries:
                raise DownloadError(f"{url}: giving up after {retries} retries: {exc}") from exc
            delay = backoff * 2 ** (failures - 1)
            log.warning("%s: %s; retry %d/%d in %.2fs", url, exc, failures, retries, delay)
            time.sleep(delay)

    actual = sha256_file(part)
    if expected is not None and actual != expected:
        bad = _set_aside(part, dest)
        raise ChecksumError(
            f"{dest}: downloaded from {url} has sha256 {actual}, expected {expected}; "
            f"kept as {bad} (not installed)"
        )
    os.replace(part, dest)
    _record(root, dest, actual)
    return dest


# ----------------------------------------------------------------------------------- extracting


def _inside(root: str, path: str) -> bool:
    return os.path.commonpath([root, path]) == root


def _check_name(archive: str, name: str) -> None:
    parts = re.split(r"[/\\]", name)
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise UnsafeArchiveError(
            f"{archive}: member {name!r} has an absolute path or '..'; refusing to extract"
        )


def _check_member(archive: str, root: str, member) -> None:
    """Refuse a member whose path, or (tar) link target, resolves outside `root` right now.

    Called for every member before anything is written and again just before each member is
    written, so symlinks created by earlier members are taken into account.
    """
    name = member.filename if isinstance(member, zipfile.ZipInfo) else member.name
    _check_name(archive, name)
    path = os.path.realpath(os.path.join(root, name))
    if not _inside(root, path):
        raise UnsafeArchiveError(f"{archive}: member {name!r} resolves to {path}, outside {root}")
    if isinstance(member, zipfile.ZipInfo):
        return
    if member.issym() or member.islnk():
        link = member.linkname
        if os.path.isabs(link) or link.startswith("\\"):
            raise UnsafeArchiveError(
                f"{archive}: link {name!r} -> {link!r} is absolute; refusing to extract"
            )
        # Symlink targets are relative to the link's directory, hard links to the archive root.
        base = os.path.dirname(path) if member.issym() else root
        resolved = os.path.realpath(os.path.join(base, link))
        if not _inside(root, resolved):
            raise UnsafeArchiveError(f"{archive}: link {name!r} -> {link!r} points outside {root}")
    elif not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(
            f"{archive}: member {name!r} is a device or fifo; refusing to extract"
        )


def _stamp_path(archive: str, target: str) -> str:
    return os.path.join(target, f".{os.path.basename(archive)}.extracted")


def _stamp_text(archive: str) -> str:
    return f"{os.path.basename(archive)} {os.path.getsize(archive)}\n"


def is_extracted(archive: str, target: str) -> bool:
    """True if `archive` was fully unpacked into `target` (and has not changed size since)."""
    stamp = _stamp_path(archive, target)
    if not os.path.exists(stamp):
        return False
    if not os.path.exists(archive):
        return True  # the archive was deleted after unpacking, e.g. to free space
    with open(stamp, encoding="utf-8") as f:
        return f.read() == _stamp_text(archive)


def extract(archive: str, target: str, progress: bool = True) -> str:
    """Unpack a zip or tar(.gz/.bz2/.xz) archive into `target`; return `target`.

    Every member is checked before anything is written: absolute names, '..', and (tar) links
    or special files that would escape `target` raise UnsafeArchiveError naming the member.
    A stamp file in `target` marks the archive as done, so a second call does nothing.
    """
    os.makedirs(target, exist_ok=True)
    root = os.path.realpath(target)
    if is_extracted(archive, target):
        return target
    if zipfile.is_zipfile(archive):
        opened = zipfile.ZipFile(archive)
        members: List = opened.infolist()
    elif tarfile.is_tarfile(archive):
        opened = tarfile.open(archive, "r:*")
        members = opened.getmembers()
    else:
        raise ValueError(f"{archive}: not a zip or tar archive")
    with opened:
        for member in members:
            _check_member(archive, root, member)
        for member in tqdm(
            members,
            desc="extract " + os.path.basename(archive),
            unit="file",
            disable=None if progress else True,
        ):
            _check_member(archive, root, member)
            opened.extract(member, root)
    stamp = _stamp_path(archive, target)
    with open(stamp + ".tmp", "w", encoding="utf-8") as f:
        f.write(_stamp_text(archive))
    os.replace(stamp + ".tmp", stamp)
    return target


# ------------------------------------------------------------------------------------ data sets


def _rerun_command(name: str, root: str) -> str:
    parent, leaf = os.path.split(os.path.normpath(root))
    if leaf == name:  # the posekit CLI keeps each data set in <--root>/<name>
        return f"posekit download {name} --root {shlex.quote(parent or '.')} --accept-terms"
    call = "from posekit.download import download_dataset; download_dataset({}, {}, {})".format(
        json.dumps(name), json.dumps(root), "accept_terms=True"
    )
    return "python -c " + shlex.quote(call)


def _missing_paths(dataset: sources.Dataset, root: str) -> List[str]:
    return [p for p in dataset.expected_paths if not os.path.exists(os.path.join(root, p))]


def download_dataset(
    name: str,
    root: str,
    accept_terms: bool = False,
    progress: bool = True,
    retries: int = 5,
    backoff: float = 1.0,
) -> str:
    """Fetch, verify and unpack every file of a registered data set under `root`; return `root`.

    Gated data sets need `accept_terms=True` (TermsNotAcceptedError otherwise, with the terms
    and the command to re-run). Data sets with a request procedure raise ManualStepRequired
    with it while the parts obtained by hand are missing. Files already recorded in the
    manifest and archives already unpacked are skipped, so a second run touches no network;
    an archive may be deleted once unpacked (its stamp stays) without being fetched again.
    """
    dataset = sources.get_dataset(name)
    if dataset.gated and not accept_terms:
        raise TermsNotAcceptedError(
            f"{name} is distributed under terms you must read and accept first:\n\n"
            f"  {dataset.terms}\n\n"
            f"If you accept them, re-run:\n  {_rerun_command(name, root)}"
        )
    os.makedirs(root, exist_ok=True)
    for item in dataset.files:
        dest = os.path.join(root, *item.dest.split("/"))
        target = os.path.join(root, *item.extract_to.split("/"))
        if item.extract and not os.path.exists(dest) and is_extracted(dest, target):
            continue
        fetch(
            item.url,
            dest,
            item.sha256,
            retries=retries,
            backoff=backoff,
            progress=progress,
            root=root,
        )
        if item.extract:
            extract(dest, target, progress)
    if dataset.request_procedure and _missing_paths(dataset, root):
        raise ManualStepRequired(dataset.request_procedure.format(root=root))
    return root


@dataclass
class FileStatus:
    dest: str
    url: str
    # "verified" | "mismatch" | "unverified" | "partial" | "missing" | "removed" (recorded in
    # the manifest, then deleted, e.g. an archive deleted after unpacking)
    state: str
    size: int  # bytes on disk (of the .part file when partial)
    extracted: Optional[bool]  # None when the file is not an archive to unpack


@dataclass
class DatasetStatus:
    name: str
    root: str
    files: List[FileStatus]
    paths: List[Tuple[str, bool]]  # expected paths and whether they exist
    complete: bool
    manual: bool  # True: part of it is obtained by hand, see the data set's request_procedure


def dataset_status(name: str, root: str) -> DatasetStatus:
    """What of a data set is on disk under `root`, without touching the network or hashing.

    "verified" means recorded in the manifest (and equal to the registry's sha256, if any);
    "unverified" means present but not recorded. `complete` needs every file verified (or, for
    an archive, unpacked and then deleted), every archive unpacked and every expected path present.
    """
    dataset = sources.get_dataset(name)
    manifest = read_manifest(root) if os.path.isdir(root) else {}
    files = []
    for item in dataset.files:
        dest = os.path.join(root, *item.dest.split("/"))
        recorded = manifest.get(item.dest)
        if os.path.exists(dest):
            size = _size(dest)
            if recorded is None:
                state = "unverified"
            elif item.sha256 and recorded != item.sha256.lower():
                state = "mismatch"
            else:
                state = "verified"
        elif recorded is not None:
            state, size = "removed", 0
        elif os.path.exists(dest + ".part"):
            state, size = "partial", _size(dest + ".part")
        else:
            state, size = "missing", 0
        extracted = None
        if item.extract:
            extracted = is_extracted(dest, os.path.join(root, *item.extract_to.split("/")))
        files.append(FileStatus(item.dest, item.url, state, size, extracted))
    missing = _missing_paths(dataset, root)
    paths = [(p, p not in missing) for p in dataset.expected_paths]
    complete = all(
        (f.state == "verified" and f.extracted is not False)
        or (f.state == "removed" and f.extracted is True)
        for f in files
    ) and all(ok for _, ok in paths)
    return DatasetStatus(name, root, files, paths, complete, bool(dataset.request_procedure))
