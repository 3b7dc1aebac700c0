"""ModelArts jobs: data in from `--data_url`, results out to `--train_url`, through `moxing`.

On ModelArts the two URLs are OBS buckets (obs://...) and `moxing`, which only exists there,
copies them to and from the job's local disk. Anywhere else moxing does not import and the URLs
are plain local folders: data is read in place and results are written straight to train_url.
Framework-free, so every model (MindSpore or TensorFlow) uses this one version.
"""

from __future__ import annotations

import os
import shutil


def moxing_file():
    """`moxing.file`, or None when moxing is not installed (i.e. not on ModelArts)."""
    try:
        import moxing
    except ImportError:
        return None
    return moxing.file


def on_modelarts() -> bool:
    return moxing_file() is not None


def fetch(url: str, local_dir: str) -> str:
    """Make `url` readable locally: copied into `local_dir` with moxing, else `url` itself."""
    mox = moxing_file()
    if mox is None:
        return url
    os.makedirs(local_dir, exist_ok=True)
    print(f"moxing: copying {url} -> {local_dir}", flush=True)
    mox.copy_parallel(src_url=url, dst_url=local_dir)
    return local_dir


def output_dir(train_url: str, local_dir: str) -> str:
    """Where a job writes its results: a local folder uploaded later on ModelArts, else
    train_url itself."""
    return local_dir if on_modelarts() else train_url


def job_dirs(enable: bool, data_url: str, train_url: str, cache: str = "/cache"):
    """-> (data dir, output dir) of a job run with --enable_modelarts=`enable`: on ModelArts the
    data is copied under `cache` and results go to a folder there; otherwise both URLs are used
    in place."""
    if not enable:
        return data_url, train_url
    if not on_modelarts():
        print("--enable_modelarts: moxing is not installed, using the urls as local paths")
    data_dir = fetch(data_url, os.path.join(cache, "data"))
    return data_dir, output_dir(train_url, os.path.join(cache, "train_output"))


def restore(train_url: str, local_dir: str) -> None:
    """Bring back what an earlier run left in train_url (checkpoints to resume from)."""
    mox = moxing_file()
    if mox is not None and mox.exists(train_url):
        print(f"moxing: copying {train_url} -> {local_dir}", flush=True)
        mox.copy_parallel(src_url=train_url, dst_url=local_dir)


def upload(local_dir: str, train_url: str) -> None:
    """Copy results from local_dir to train_url (with moxing on ModelArts, a plain folder copy
    elsewhere); nothing to do when they are the same folder."""
    if os.path.abspath(local_dir) == os.path.abspath(train_url):
        return
    mox = moxing_file()
    print(f"copying {local_dir} -> {train_url}", flush=True)
    if mox is not None:
        mox.copy_parallel(src_url=local_dir, dst_url=train_url)
    else:
        copy_tree(local_dir, train_url)


def copy_tree(src: str, dst: str) -> None:
    """Copy a folder into a possibly existing one (shutil's dirs_exist_ok needs Python 3.8)."""
    for root, _, files in os.walk(src):
        target = os.path.join(dst, os.path.relpath(root, src))
        os.makedirs(target, exist_ok=True)
        for name in files:
            shutil.copy2(os.path.join(root, name), os.path.join(target, name))
