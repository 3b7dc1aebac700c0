"""posekit.download end to end against a local HTTP server on 127.0.0.1 (no outside network)."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import re
import shutil
import ssl
import subprocess
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from posekit import download, sources
from posekit.download import (
    ChecksumError,
    DownloadError,
    ManualStepRequired,
    TermsNotAcceptedError,
    UnsafeArchiveError,
    dataset_status,
    download_dataset,
    extract,
    fetch,
    read_manifest,
    verify_manifest,
)

PAYLOAD = bytes(range(256)) * 1200  # 307200 bytes, several read chunks
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
FAST = dict(backoff=0.01, progress=False, timeout=5)


class _Handler(BaseHTTPRequestHandler):
    """Serves `server.files`; Range-aware; `server.faults[path]` holds one-shot faults:
    503, "ignore-range" (answer 200 with the whole body) or ("drop", n) (close after n bytes)."""

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", headers=(), declared=None):
        # Recorded before writing, so the test sees it as soon as the client has the bytes.
        self.server.log.append(
            {
                "path": self.path,
                "range": self.headers.get("Range"),
                "status": status,
                "sent": len(body),
            }
        )
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if declared is None else declared))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        srv = self.server
        pending = srv.faults.get(self.path)
        fault = pending.pop(0) if pending else None
        if fault == 503:
            return self._reply(503)
        body = srv.files.get(self.path)
        if body is None:
            return self._reply(404)
        match = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
        if match and fault != "ignore-range":
            start = int(match.group(1))
            if start >= len(body):
                return self._reply(416, headers=[("Content-Range", f"bytes */{len(body)}")])
            status = 206
            headers = [("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")]
        else:
            start, status, headers = 0, 200, []
        rest = body[start:]
        if isinstance(fault, tuple) and fault[0] == "drop":
            # Announce the full length, send part of it, then the connection closes (HTTP/1.0).
            return self._reply(status, rest[: fault[1]], headers, declared=len(rest))
        self._reply(status, rest, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0

    def get_request(self):
        self.connections += 1  # counted before any TLS handshake
        return super().get_request()


@contextlib.contextmanager
def _serve(tls=None):
    httpd = _Server(("127.0.0.1", 0), _Handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    httpd.files, httpd.faults, httpd.log = {}, {}, []
    scheme = "http" if tls is None else "https"
    httpd.url = lambda path: f"{scheme}://127.0.0.1:{httpd.server_address[1]}{path}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def server():
    with _serve() as httpd:
        yield httpd


# ------------------------------------------------------------------------------------- fetch


def test_full_download_writes_file_and_manifest(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    dest = tmp_path / "a.bin"
    assert fetch(server.url("/a.bin"), str(dest), PAYLOAD_SHA, **FAST) == str(dest)
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "a.bin.part").exists()
    assert (tmp_path / "MANIFEST.sha256").read_text() == f"{PAYLOAD_SHA}  a.bin\n"
    assert [(r["range"], r["status"]) for r in server.log] == [(None, 200)]
    if shutil.which("sha256sum"):  # the manifest is in sha256sum's own format
        subprocess.run(["sha256sum", "--quiet", "-c", "MANIFEST.sha256"], cwd=tmp_path, check=True)


def test_dropped_connection_resumes_with_range(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    server.faults["/a.bin"] = [("drop", 100000)]
    dest = tmp_path / "a.bin"
    fetch(server.url("/a.bin"), str(dest), PAYLOAD_SHA, **FAST)
    assert dest.read_bytes() == PAYLOAD
    first, second = server.log
    assert first["range"] is None and first["sent"] == 100000
    assert second["range"] == "bytes=100000-"
    assert second["status"] == 206 and second["sent"] == len(PAYLOAD) - 100000


def test_existing_part_file_is_resumed(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    (tmp_path / "a.bin.part").write_bytes(PAYLOAD[:1000])
    fetch(server.url("/a.bin"), str(tmp_path / "a.bin"), PAYLOAD_SHA, **FAST)
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD
    assert [(r["range"], r["sent"]) for r in server.log] == [("bytes=1000-", len(PAYLOAD) - 1000)]


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    server.faults["/a.bin"] = ["ignore-range"]
    (tmp_path / "a.bin.part").write_bytes(b"x" * 5000)  # would corrupt the file if appended to
    fetch(server.url("/a.bin"), str(tmp_path / "a.bin"), PAYLOAD_SHA, **FAST)
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD
    assert [r["status"] for r in server.log] == [200]


def test_416_means_the_part_file_is_complete(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    (tmp_path / "a.bin.part").write_bytes(PAYLOAD)
    fetch(server.url("/a.bin"), str(tmp_path / "a.bin"), PAYLOAD_SHA, **FAST)
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD
    assert [r["status"] for r in server.log] == [416]
    assert read_manifest(str(tmp_path)) == {"a.bin": PAYLOAD_SHA}


def test_503_is_retried(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    server.faults["/a.bin"] = [503]
    fetch(server.url("/a.bin"), str(tmp_path / "a.bin"), PAYLOAD_SHA, **FAST)
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD
    assert [r["status"] for r in server.log] == [503, 200]


def test_persistent_503_gives_up_after_retries(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    server.faults["/a.bin"] = [503] * 10
    url = server.url("/a.bin")
    with pytest.raises(DownloadError, match="503") as info:
        fetch(url, str(tmp_path / "a.bin"), retries=2, **FAST)
    assert url in str(info.value)
    assert len(server.log) == 3
    assert not (tmp_path / "a.bin").exists()


def test_404_raises_download_error_naming_url_without_retry(server, tmp_path):
    url = server.url("/missing.zip")
    with pytest.raises(DownloadError) as info:
        fetch(url, str(tmp_path / "missing.zip"), **FAST)
    assert url in str(info.value) and "404" in str(info.value)
    assert len(server.log) == 1
    assert not (tmp_path / "missing.zip").exists()


def test_bad_checksum_keeps_bytes_aside_and_installs_nothing(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    dest = tmp_path / "a.bin"
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as info:
        fetch(server.url("/a.bin"), str(dest), wrong, **FAST)
    message = str(info.value)
    assert str(dest) in message and wrong in message and PAYLOAD_SHA in message
    assert not dest.exists() and not (tmp_path / "a.bin.part").exists()
    assert (tmp_path / "a.bin.bad-sha256").read_bytes() == PAYLOAD
    assert read_manifest(str(tmp_path)) == {}
    # A second bad download does not overwrite the first one kept aside.
    server.files["/a.bin"] = b"other bytes"
    with pytest.raises(ChecksumError, match=r"a\.bin\.bad-sha256\.1"):
        fetch(server.url("/a.bin"), str(dest), wrong, **FAST)
    assert (tmp_path / "a.bin.bad-sha256").read_bytes() == PAYLOAD
    assert (tmp_path / "a.bin.bad-sha256.1").read_bytes() == b"other bytes"


@pytest.mark.parametrize("sha", [PAYLOAD_SHA, None])
def test_second_run_makes_no_request(server, tmp_path, sha):
    server.files["/a.bin"] = PAYLOAD
    fetch(server.url("/a.bin"), str(tmp_path / "a.bin"), sha, **FAST)
    del server.log[:]
    fetch(server.url("/a.bin"), str(tmp_path / "a.bin"), sha, **FAST)
    assert server.log == []


def test_unrecorded_file_matching_its_checksum_is_adopted(server, tmp_path):
    (tmp_path / "a.bin").write_bytes(PAYLOAD)
    fetch(server.url("/a.bin"), str(tmp_path / "a.bin"), PAYLOAD_SHA, **FAST)
    assert server.log == []
    assert read_manifest(str(tmp_path)) == {"a.bin": PAYLOAD_SHA}


def test_verify_manifest_finds_changed_and_missing_files(server, tmp_path):
    server.files["/a.bin"] = PAYLOAD
    server.files["/b.bin"] = b"b"
    root = tmp_path / "root"
    fetch(server.url("/a.bin"), str(root / "a.bin"), **FAST)
    fetch(server.url("/b.bin"), str(root / "sub" / "b.bin"), root=str(root), **FAST)
    assert verify_manifest(str(root), progress=False) == {"a.bin": "ok", "sub/b.bin": "ok"}
    (root / "a.bin").write_bytes(b"tampered")
    (root / "sub" / "b.bin").unlink()
    assert verify_manifest(str(root), progress=False) == {
        "a.bin": "mismatch",
        "sub/b.bin": "missing",
    }


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_untrusted_certificate_is_refused_without_retry(tmp_path):
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    with _serve(tls) as httpd:
        httpd.files["/a.bin"] = PAYLOAD
        with pytest.raises(DownloadError, match="TLS certificate verification failed"):
            fetch(httpd.url("/a.bin"), str(tmp_path / "a.bin"), **FAST)
        assert httpd.connections == 1 and httpd.log == []
    assert not (tmp_path / "a.bin").exists()


def test_tls_verification_is_never_disabled():
    with open(download.__file__, encoding="utf-8") as f:
        text = f.read()
    for needle in ("CERT_NONE", "_create_unverified_context", "check_hostname"):
        assert needle not in text


# ---------------------------------------------------------------------------------- extract


def _zip(path, members):
    with zipfile.ZipFile(str(path), "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def _tar(path, members, mode="w:gz"):
    """members: (name, bytes) for files, or (name, TarInfo type, linkname) for links/devices."""
    with tarfile.open(str(path), mode) as tf:
        for member in members:
            info = tarfile.TarInfo(member[0])
            if len(member) == 2:
                info.size = len(member[1])
                tf.addfile(info, io.BytesIO(member[1]))
            else:
                info.type, info.linkname = member[1], member[2]
                tf.addfile(info)
    return path


GOOD = [("top/a.txt", b"alpha"), ("top/sub/b.txt", b"beta")]


@pytest.mark.parametrize("kind", ["zip", "w:gz", "w:bz2", "w:xz", "w:"])
def test_extract_normal_archives_once(tmp_path, kind):
    if kind == "zip":
        archive = _zip(tmp_path / "a.zip", GOOD)
    else:
        archive = _tar(
            tmp_path / "a.tar", GOOD + [("top/link", tarfile.SYMTYPE, "sub/b.txt")], kind
        )
    target = tmp_path / "out"
    assert extract(str(archive), str(target), progress=False) == str(target)
    assert (target / "top" / "a.txt").read_bytes() == b"alpha"
    assert (target / "top" / "sub" / "b.txt").read_bytes() == b"beta"
    if kind != "zip":
        assert (target / "top" / "link").read_bytes() == b"beta"
    # The stamp marks it done: a second call does not unpack again.
    (target / "top" / "a.txt").unlink()
    extract(str(archive), str(target), progress=False)
    assert not (target / "top" / "a.txt").exists()


def _outside_snapshot(tmp_path, target):
    """Every path under tmp_path outside the target, with file contents."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(str(tmp_path)):
        if os.path.commonpath([dirpath, str(target)]) == str(target):
            dirnames[:] = []
            continue
        for name in filenames + dirnames:
            path = os.path.join(dirpath, name)
            if path == str(target):
                continue
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    seen[path] = f.read()
            else:
                seen[path] = None
    return seen


def _assert_refused(archive, target, tmp_path, member):
    before = _outside_snapshot(tmp_path, target)
    with pytest.raises(UnsafeArchiveError) as info:
        extract(str(archive), str(target), progress=False)
    assert repr(member) in str(info.value) and str(archive) in str(info.value)
    assert _outside_snapshot(tmp_path, target) == before
    assert not list(target.glob(".*.extracted"))


@pytest.mark.parametrize("name", ["../evil.txt", "top/../../evil.txt", "ABS"])
def test_zip_slip_is_refused(tmp_path, name):
    name = str(tmp_path / "evil.txt") if name == "ABS" else name
    archive = _zip(tmp_path / "a.zip", GOOD + [(name, b"pwned")])
    target = tmp_path / "out"
    _assert_refused(archive, target, tmp_path, name)
    assert not (tmp_path / "evil.txt").exists()
    assert list(target.iterdir()) == []  # checked before anything was written


TAR_ESCAPES = {
    "dotdot": ([("../evil.txt", b"pwned")], "../evil.txt"),
    "absolute": ([("ABS/evil.txt", b"pwned")], "ABS/evil.txt"),
    "symlink-out": (
        [("link", tarfile.SYMTYPE, "../"), ("link/evil.txt", b"pwned")],
        "link",
    ),
    "symlink-absolute": ([("link", tarfile.SYMTYPE, "ABS"), ("link/evil.txt", b"pwned")], "link"),
    "hardlink-out": ([("hl", tarfile.LNKTYPE, "../outside.txt")], "hl"),
    "device": ([("dev", tarfile.CHRTYPE, "")], "dev"),
    # Each link looks harmless on its own; only after "l1" exists does "l1/l2" point at "..".
    "symlink-chain": (
        [("l1", tarfile.SYMTYPE, "."), ("l1/l2", tarfile.SYMTYPE, ".."), ("l2/evil.txt", b"x")],
        "l1/l2",
    ),
}


@pytest.mark.parametrize("case", sorted(TAR_ESCAPES))
def test_tar_escapes_are_refused(tmp_path, case):
    (tmp_path / "outside.txt").write_bytes(b"untouched")
    members, culprit = TAR_ESCAPES[case]

    def place(value):  # "ABS" stands for tmp_path, an absolute path outside the target
        return value.replace("ABS", str(tmp_path)) if isinstance(value, str) else value

    members = [tuple(place(v) for v in member) for member in members]
    archive = _tar(tmp_path / "a.tar.gz", GOOD + members)
    _assert_refused(archive, tmp_path / "out", tmp_path, place(culprit))
    assert not (tmp_path / "evil.txt").exists()
    assert (tmp_path / "outside.txt").read_bytes() == b"untouched"


# -------------------------------------------------------------------------------- data sets


def _local(monkeypatch, server, name, bodies):
    """Point a registry entry's URLs at the local server, which serves `bodies` by dest."""
    entry = sources.get_dataset(name)
    files = []
    for item in entry.files:
        server.files["/" + item.dest] = bodies[item.dest]
        files.append(dataclasses.replace(item, url=server.url("/" + item.dest)))
    monkeypatch.setitem(sources.DATASETS, name, dataclasses.replace(entry, files=tuple(files)))


def _zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def test_gated_data_set_needs_accepted_terms(tmp_path):
    root = tmp_path / "kitti-odometry"
    with pytest.raises(TermsNotAcceptedError) as info:
        download_dataset("kitti-odometry", str(root), progress=False)
    message = str(info.value)
    assert "CC BY-NC-SA 3.0" in message and "cvlibs.net" in message
    assert f"posekit download kitti-odometry --root {tmp_path} --accept-terms" in message
    assert not root.exists()  # nothing fetched, nothing created


def test_gated_data_set_downloads_once_terms_are_accepted(monkeypatch, server, tmp_path):
    bodies = {
        "data_odometry_color.zip": _zip_bytes([("dataset/sequences/09/image_2/000000.png", b"p")]),
        "data_odometry_poses.zip": _zip_bytes([("dataset/poses/09.txt", b"1 0 0 0\n")]),
        "data_odometry_calib.zip": _zip_bytes([("dataset/sequences/09/calib.txt", b"P2: 1\n")]),
    }
    _local(monkeypatch, server, "kitti-odometry", bodies)
    root = tmp_path / "kitti-odometry"
    download_dataset("kitti-odometry", str(root), accept_terms=True, progress=False, backoff=0.01)
    assert (root / "dataset" / "poses" / "09.txt").read_bytes() == b"1 0 0 0\n"
    assert dataset_status("kitti-odometry", str(root)).complete


def test_registry_entry_end_to_end_and_idempotent(monkeypatch, server, tmp_path):
    scene = [("KingsCollege/dataset_train.txt", b"Visual Landmark Dataset V1\n")]
    scene.append(("KingsCollege/dataset_test.txt", b"Visual Landmark Dataset V1\n"))
    _local(monkeypatch, server, "cambridge-kingscollege", {"KingsCollege.zip": _zip_bytes(scene)})
    server.faults["/KingsCollege.zip"] = [("drop", 50)]
    root = str(tmp_path / "cambridge-kingscollege")
    assert download_dataset("cambridge-kingscollege", root, progress=False, backoff=0.01) == root
    with open(os.path.join(root, "KingsCollege", "dataset_test.txt"), "rb") as f:
        assert f.read() == scene[1][1]
    assert list(read_manifest(root)) == ["KingsCollege.zip"]
    status = dataset_status("cambridge-kingscollege", root)
    assert status.complete
    assert [(f.state, f.extracted) for f in status.files] == [("verified", True)]
    del server.log[:]
    download_dataset("cambridge-kingscollege", root, progress=False, backoff=0.01)
    assert server.log == []
    # Deleting the archive once unpacked (to free space) does not make it download again.
    os.remove(os.path.join(root, "KingsCollege.zip"))
    download_dataset("cambridge-kingscollege", root, progress=False, backoff=0.01)
    assert server.log == []
    status = dataset_status("cambridge-kingscollege", root)
    assert status.complete and status.files[0].state == "removed"


def test_veri_prints_the_request_procedure_until_images_exist(monkeypatch, server, tmp_path):
    labels = {"annot/label_train.csv": b"a.jpg,1,1\n", "annot/label_test.csv": b"b.jpg,1,1\n"}
    _local(monkeypatch, server, "veri", labels)
    root = tmp_path / "veri"
    with pytest.raises(ManualStepRequired) as info:
        download_dataset("veri", str(root), progress=False, backoff=0.01)
    procedure = str(info.value)
    print(procedure)
    for needle in ("https://vehiclereid.github.io/VeRi/", "create_dataset.py", str(root)):
        assert needle in procedure
    assert "images/image_train" in procedure and "images/image_test" in procedure
    assert (root / "annot" / "label_test.csv").read_bytes() == b"b.jpg,1,1\n"
    assert not dataset_status("veri", str(root)).complete

    (root / "images" / "image_train").mkdir(parents=True)
    (root / "images" / "image_test").mkdir()
    del server.log[:]
    assert download_dataset("veri", str(root), progress=False) == str(root)
    assert server.log == []
    assert dataset_status("veri", str(root)).complete


def test_status_of_an_empty_root(tmp_path):
    (tmp_path / "coco2017").mkdir()
    (tmp_path / "coco2017" / "val2017.zip.part").write_bytes(b"12345")
    status = dataset_status("coco2017", str(tmp_path / "coco2017"))
    states = {f.dest: (f.state, f.size, f.extracted) for f in status.files}
    assert states["val2017.zip"] == ("partial", 5, False)
    assert states["train2017.zip"] == ("missing", 0, False)
    assert not status.complete and not status.manual
    assert all(not ok for _, ok in status.paths)


def test_registry_is_well_formed():
    assert {"kitti-odometry", "coco2017", "veri", "tless"} <= set(sources.DATASETS)
    for scene in ("kingscollege", "stmaryschurch", "oldhospital", "shopfacade", "greatcourt"):
        assert "cambridge-" + scene in sources.DATASETS
    assert {n for n, d in sources.DATASETS.items() if d.gated} == {"kitti-odometry", "tless"}
    for name, entry in sources.DATASETS.items():
        assert entry.terms and (entry.files or entry.request_procedure), name
        entry.request_procedure.format(root="/data")
        for item in entry.files:
            assert item.url.startswith("https://") or item.url.startswith(
                "http://images.cocodataset.org/"  # HTTP only; its digests are pinned instead
            ), item.url
            assert item.url.startswith("https://") or item.sha256, item.url
            assert item.sha256 is None or re.match(r"^[0-9a-f]{64}$", item.sha256)
            assert not os.path.isabs(item.dest) and ".." not in item.dest.split("/")
