"""Helpers for the models' test suites (never imported at run time)."""

from __future__ import annotations

import importlib
import os
import sys

# Module text of a stand-in for ModelArts' `moxing`: obs:// URLs are folders under $FAKE_OBS and
# every copy is logged to $MOXING_LOG as "src -> dst", so a test sees what a job copied.
_MOXING = '''
"""Stand-in for ModelArts' moxing (tests only)."""
import os

from posekit.modelarts import copy_tree


def _local(url):
    if url.startswith("obs://"):
        return os.path.join(os.environ["FAKE_OBS"], url[len("obs://"):])
    return url


class file:
    @staticmethod
    def copy_parallel(src_url, dst_url):
        with open(os.environ["MOXING_LOG"], "a") as log:
            log.write(src_url + " -> " + dst_url + "\\n")
        copy_tree(_local(src_url), _local(dst_url))

    @staticmethod
    def exists(url):
        return os.path.exists(_local(url))
'''


class StandInMoxing:
    """Installs the stand-in `moxing` for this process (and, through `env`, subprocesses).

    `obs` is the folder obs://... URLs map to; `calls()` lists the (src, dst) copies made.
    """

    def __init__(self, tmp_path, monkeypatch):
        root = os.path.join(str(tmp_path), "moxing_stand_in")
        modules = os.path.join(root, "modules")
        os.makedirs(modules)
        with open(os.path.join(modules, "moxing.py"), "w") as f:
            f.write(_MOXING)
        self.obs = os.path.join(root, "obs")
        os.makedirs(self.obs)
        self.log = os.path.join(root, "moxing.log")
        self.env = {"FAKE_OBS": self.obs, "MOXING_LOG": self.log}
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)
        pythonpath = [modules] + [p for p in [os.environ.get("PYTHONPATH")] if p]
        self.env["PYTHONPATH"] = os.pathsep.join(pythonpath)
        monkeypatch.syspath_prepend(modules)
        monkeypatch.delitem(sys.modules, "moxing", raising=False)
        module = importlib.import_module("moxing")
        del sys.modules["moxing"]  # re-added by setitem, which removes it after the test
        monkeypatch.setitem(sys.modules, "moxing", module)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [tuple(line.rstrip("\n").split(" -> ")) for line in f]
