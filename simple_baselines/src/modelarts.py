"""ModelArts: copy data in from OBS and results out with `moxing`, only where it imports.

On ModelArts `--data_url obs://...` and `--train_url obs://...` are bucket paths: data is copied
to a local cache before the run and outputs copied back after it. Elsewhere moxing is absent and
the two flags are plain local paths, used in place.
"""

from __future__ import annotations

import os

CACHE_INPUT = "/cache/data"
CACHE_OUTPUT = "/cache/train_output"


def _moxing():
    try:
        import moxing
    except ImportError:
        return None
    return moxing


def prepare(enable, data_url, train_url, cache_input=CACHE_INPUT, cache_output=CACHE_OUTPUT):
    """-> (local data dir, local output dir); copies data in when on ModelArts."""
    mox = _moxing() if enable else None
    if mox is None:
        if enable:
            print("--enable_modelarts: moxing is not installed, using the urls as local paths")
        return data_url, train_url
    os.makedirs(cache_input, exist_ok=True)
    os.makedirs(cache_output, exist_ok=True)
    mox.file.copy_parallel(src_url=data_url, dst_url=cache_input)
    return cache_input, cache_output


def finish(enable, local_output, train_url):
    """Copies the local outputs back to train_url when on ModelArts."""
    mox = _moxing() if enable else None
    if mox is not None and local_output != train_url:
        mox.file.copy_parallel(src_url=local_output, dst_url=train_url)
