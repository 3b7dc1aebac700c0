"""Helpers for the models' test suites (never imported at run time)."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import socket
import subprocess
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


def free_port() -> int:
    """A TCP port of localhost that is free now (for a launcher's master process)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_msrun(args, cwd, log_dir, workers=2, timeout=900):
    """Runs `args` (a script and its arguments) in `cwd` as `workers` local workers under msrun,
    MindSpore's launcher (installed next to this interpreter) -> {rank: that worker's log}.

    Fails with the end of msrun's output and of each worker's log when a worker failed.
    """
    bin_dir = os.path.dirname(sys.executable)
    msrun = shutil.which("msrun", path=bin_dir)
    assert msrun, "msrun comes with mindspore and must sit next to the interpreter"
    env = dict(os.environ)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")  # workers run this interpreter
    cmd = [msrun, f"--worker_num={workers}", f"--local_worker_num={workers}"]
    cmd += [f"--master_port={free_port()}", f"--log_dir={log_dir}", "--join=True", *args]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    logs = {}
    for rank in range(workers):
        path = os.path.join(str(log_dir), f"worker_{rank}.log")
        if os.path.exists(path):
            with open(path) as f:
                logs[rank] = f.read()
        else:
            logs[rank] = f"(no {path})"
    if proc.returncode != 0:
        tails = [proc.stdout[-2000:] + proc.stderr[-2000:]] + [logs[r][-3000:] for r in logs]
        raise AssertionError(f"msrun exited with {proc.returncode}:\n" + "\n---\n".join(tails))
    return logs


def check_data_parallel(logs, first_loss, shard="rank {rank}/{n}: shard {rank} of {n}"):
    """Checks the worker logs {rank: text} of a data-parallel training run of n ranks: rank r
    logged `shard` (formatted with rank and n); the first losses (group 1 of the regex
    `first_loss`) all differ, as the same weights met different shards; the final weights digests
    (posekit.mindspore_train) are all equal, as averaged gradients keep the replicas identical.
    """
    n = len(logs)
    losses, digests = {}, {}
    for rank, text in logs.items():
        shard_line = shard.format(rank=rank, n=n)
        assert shard_line in text, f"rank {rank}: no {shard_line!r}:\n{text[-3000:]}"
        found = re.search(first_loss, text)
        assert found, f"rank {rank}: no line matches {first_loss!r}:\n{text[-3000:]}"
        losses[rank] = found.group(1)
        found = re.search(r"final weights digest ([0-9.]+)", text)
        assert found, f"rank {rank}: no final weights digest:\n{text[-3000:]}"
        digests[rank] = found.group(1)
    assert len(set(losses.values())) == n, f"ranks saw the same data: first losses {losses}"
    assert len(set(digests.values())) == 1, f"replicas drifted apart: digests {digests}"
