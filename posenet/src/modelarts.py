"""ModelArts: copy data in from OBS and results out with `moxing` when it imports.

On ModelArts, --data_url / --train_url are obs:// locations and moxing copies them to and from
the job's local disk. Anywhere else (no moxing), they are plain local paths used in place.
"""

import logging
import os

LOG = logging.getLogger("posenet")


def moxing_file():
    """moxing.file, or None when moxing is not installed (i.e. not on ModelArts)."""
    try:
        import moxing
    except ImportError:
        return None
    return moxing.file


def fetch(url, local_dir):
    """Make `url` available locally: copied to `local_dir` with moxing, else used as is."""
    mox = moxing_file()
    if mox is None:
        return url
    os.makedirs(local_dir, exist_ok=True)
    LOG.info("moxing: copying %s -> %s", url, local_dir)
    mox.copy_parallel(src_url=url, dst_url=local_dir)
    return local_dir


def output_dir(train_url, local_dir):
    """Where to write results: a local folder to upload later with moxing, else train_url."""
    return local_dir if moxing_file() is not None else train_url


def upload(local_dir, train_url):
    """Copy results to train_url with moxing; without moxing they are already there."""
    mox = moxing_file()
    if mox is not None and os.path.abspath(local_dir) != os.path.abspath(train_url):
        LOG.info("moxing: copying %s -> %s", local_dir, train_url)
        mox.copy_parallel(src_url=local_dir, dst_url=train_url)
