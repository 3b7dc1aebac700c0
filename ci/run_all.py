"""Runs every model's demo or benchmark and gathers the results (`make demo`, `make bench`).

Contract with a model folder M (its env's bin/ is put first on PATH, so `python` is that env's):
- demo:  `bash M/scripts/run_demo.sh OUT_DIR` writes OUT_DIR/result.json with
         {"metrics": {...}, "baseline": {...}, "pictures": [paths relative to OUT_DIR]}.
- bench: `bash M/scripts/run_bench.sh OUT_JSON` writes a flat JSON object of measurements.
posekit's own benchmarks are `common/bench/bench_*.py --out OUT_JSON`.
Models not built yet are listed as such instead of failing the run.
The demos run two at a time (DEMO_WORKERS, default 2), each logging to OUT_DIR/M/demo.log: on two
cores a training process gains only about a third from its second thread (GeoNet: 0.45 s/step
alone, 0.6 s/step each for two one-thread runs side by side), so two at once finish sooner.
Each worker's demos are held to their own share of the cores (taskset), so that two frameworks
do not each start a thread per core and oversubscribe them: GeoNet and PoseNet training side by
side ran at 0.63 s/step and 40 images/s pinned, 0.64-0.72 s/step and 30-35 images/s unpinned.
Stdlib only: this runs before any model code is trusted.
"""

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# model folder -> (env, framework, issue that builds it)
MODELS = {
    "posenet": (".venv-ms", "MindSpore", 3),
    "simple_baselines": (".venv-ms", "MindSpore", 4),
    "pamtri_poseestnet": (".venv-ms", "MindSpore", 5),
    "geonet": (".venv-tf", "TensorFlow 1.15", 6),
    "pix2pose": (".venv-tf", "TensorFlow 1.15", 7),
}
# Demo start order, longest first, so that the two workers end close together (GeoNet's demo
# alone takes about as long as the other four). Lists every model of MODELS (tested).
DEMO_ORDER = ["geonet", "posenet", "pix2pose", "simple_baselines", "pamtri_poseestnet"]


def env_for(venv):
    env = dict(os.environ)
    env["PATH"] = str(ROOT / venv / "bin") + os.pathsep + env.get("PATH", "")
    env.setdefault("PYOPENGL_PLATFORM", "osmesa")
    # Log lines reach demo.log as they are printed (tail -f), not in 8 KB blocks.
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def cpu_shares(workers):
    """Disjoint CPU lists, one per worker (as taskset -c arguments), or None where cores cannot be
    shared out: one worker, fewer cores than workers, or no taskset/affinity (not Linux)."""
    if workers < 2 or not hasattr(os, "sched_getaffinity") or not shutil.which("taskset"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < workers:
        return None
    return [",".join(str(c) for c in cpus[i::workers]) for i in range(workers)]


def run(cmd, venv, log=None):
    """Runs cmd in venv's environment, its output to the console or, given log, to that file."""
    print("$ " + " ".join(str(c) for c in cmd) + (f"  > {log}" if log else ""), flush=True)
    start = time.time()
    with open(log, "w", encoding="utf-8") if log else contextlib.nullcontext() as f:
        code = subprocess.call(
            [str(c) for c in cmd], cwd=str(ROOT), env=env_for(venv), stdout=f, stderr=f
        )
    return code, time.time() - start


def fmt(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def run_demo(model, out_dir, cpus=None):
    """One model's demo, logged to OUT_DIR/M/demo.log, on the given CPUs (all if None); returns
    (exit code, seconds)."""
    model_out = out_dir / model
    model_out.mkdir(parents=True, exist_ok=True)
    log = model_out / "demo.log"
    pin = ["taskset", "-c", cpus] if cpus else []
    code, seconds = run(pin + ["bash", ROOT / model / "scripts" / "run_demo.sh", model_out],
                        MODELS[model][0], log)  # fmt: skip
    print(f"[demo] {model}: {'done' if code == 0 else f'FAILED (exit {code})'} in {seconds:.0f} s",
          flush=True)  # fmt: skip
    if code != 0:
        print("".join(log.read_text(errors="replace").splitlines(True)[-30:]), flush=True)
    return code, seconds


def demo(out_dir):
    built = [m for m in DEMO_ORDER if (ROOT / m / "scripts" / "run_demo.sh").exists()]
    workers = int(os.environ.get("DEMO_WORKERS", "2"))
    print(f"[demo] {len(built)} demos, {workers} at a time; follow one with "
          f"tail -f {out_dir.name}/MODEL/demo.log", flush=True)  # fmt: skip
    pinned = cpu_shares(workers)
    shares = queue.Queue()
    for cpus in pinned or [None] * workers:
        shares.put(cpus)

    def run_on_free_share(model):
        cpus = shares.get()
        try:
            return run_demo(model, out_dir, cpus)
        finally:
            shares.put(cpus)

    start = time.time()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = dict(zip(built, pool.map(run_on_free_share, built)))
    total = time.time() - start
    results, rows, failed = {}, [], []
    for model, (_, framework, issue) in MODELS.items():
        if model not in runs:
            rows.append(f"| {model} | {framework} | not built yet (issue {issue}) | | |")
            continue
        model_out = out_dir / model
        code, seconds = runs[model]
        result_file = model_out / "result.json"
        if code != 0 or not result_file.exists():
            failed.append(model)
            rows.append(f"| {model} | {framework} | FAILED (exit {code}) | | {seconds:.0f} |")
            continue
        result = json.loads(result_file.read_text())
        results[model] = {
            "metrics": result["metrics"],
            "baseline": result["baseline"],
            "seconds": round(seconds, 1),
        }
        metrics = ", ".join(f"{k} {fmt(v)}" for k, v in result["metrics"].items())
        baseline = ", ".join(f"{k} {fmt(v)}" for k, v in result["baseline"].items())
        rows.append(f"| {model} | {framework} | {metrics} | {baseline} | {seconds:.0f} |")
        for pic in result.get("pictures", []):
            rows.append(f"|  | | ![{pic}]({model}/{pic}) | | |")
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    report = [
        "# Pose Zoo demo report",
        "",
        "Each model trained briefly on a synthetic data set written in the real on-disk format,",
        "then evaluated with the real metric. Synthetic numbers show that the pipeline learns;",
        "they are not comparable with the published figures on real data (see README.md).",
        f"Whole run: {total:.0f} s, {workers} demos at a time"
        + (f" (on CPUs {' and '.join(pinned)})" if pinned else "")
        + "; the seconds column is each demo's",
        "wall time while sharing the machine. Logs: MODEL/demo.log.",
        "",
        "| model | framework | metrics | baseline | seconds |",
        "| --- | --- | --- | --- | --- |",
    ] + rows
    (out_dir / "REPORT.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return failed


def bench(out_dir):
    results, failed = {}, []
    jobs = [
        (path.stem, ".venv-ms", [sys.executable, path, "--out"])
        for path in sorted((ROOT / "common" / "bench").glob("bench_*.py"))
    ]
    for model, (venv, _, _) in MODELS.items():
        script = ROOT / model / "scripts" / "run_bench.sh"
        if script.exists():
            jobs.append((model, venv, ["bash", script]))
        else:
            print(f"{model}: no benchmark yet (not built)")
    for name, venv, cmd in jobs:
        out_file = out_dir / (name + ".json")
        code, _ = run(cmd + [out_file], venv)
        if code != 0 or not out_file.exists():
            failed.append(name)
            continue
        results[name] = json.loads(out_file.read_text())
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(json.dumps(results, indent=2, sort_keys=True))
    return failed


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("demo", "bench"):
        sys.exit("usage: run_all.py demo|bench")
    kind = sys.argv[1]
    out_dir = ROOT / (kind + "_out")
    out_dir.mkdir(exist_ok=True)
    failed = demo(out_dir) if kind == "demo" else bench(out_dir)
    if failed:
        sys.exit(f"{kind} failed for: {', '.join(failed)}")


if __name__ == "__main__":
    main()
