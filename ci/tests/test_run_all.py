"""make demo's runner on fake model folders: two demos at a time, logs, report and failures."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import run_all  # noqa: E402

# Each fake demo announces itself, then waits for its partner: it only succeeds if both run at once.
DEMO = """set -eu
out=$1; me={me}; partner={partner}
echo "demo $me starting"
grep Cpus_allowed_list /proc/self/status || true
touch "$out/../$me.started"
for _ in $(seq 100); do [ -e "$out/../$partner.started" ] && break; sleep 0.05; done
[ -e "$out/../$partner.started" ] || {{ echo "$partner never started" >&2; exit 3; }}
[ "$me" != broken ] || {{ echo "broken on purpose" >&2; exit 2; }}
echo '{{"metrics": {{"score": 0.9}}, "baseline": {{"score": 0.1}}, "pictures": ["p.png"]}}' \\
  > "$out/result.json"
"""


def fake_model(root, name, partner):
    scripts = root / name / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "run_demo.sh").write_text(DEMO.format(me=name, partner=partner))


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    fake_model(root, "good", "broken")
    fake_model(root, "broken", "good")
    monkeypatch.setattr(run_all, "ROOT", root)
    monkeypatch.setattr(run_all, "MODELS", {
        "good": (".venv-x", "FrameworkA", 1),
        "broken": (".venv-x", "FrameworkB", 2),
        "absent": (".venv-x", "FrameworkC", 3),
    })  # fmt: skip
    monkeypatch.setattr(run_all, "DEMO_ORDER", ["good", "broken", "absent"])
    return root


def test_two_demos_run_at_once_and_report(fake_root, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_WORKERS", "2")
    out = tmp_path / "demo_out"
    out.mkdir()
    assert run_all.demo(out) == ["broken"]
    report = (out / "REPORT.md").read_text()
    assert "| good | FrameworkA | score 0.9 | score 0.1 |" in report
    assert "![p.png](good/p.png)" in report
    assert "| broken | FrameworkB | FAILED (exit 2) |" in report
    assert "| absent | FrameworkC | not built yet (issue 3) |" in report
    assert "2 demos at a time" in report
    results = json.loads((out / "results.json").read_text())
    assert list(results) == ["good"]
    assert results["good"]["metrics"] == {"score": 0.9}
    assert "demo good starting" in (out / "good" / "demo.log").read_text()
    assert "broken on purpose" in (out / "broken" / "demo.log").read_text()
    shares = run_all.cpu_shares(2)
    if shares:  # each worker's demo ran on its own share of the cores
        assert {allowed_cpus(out / m / "demo.log") for m in ("good", "broken")} == set(shares)
        assert f"(on CPUs {shares[0]} and {shares[1]})" in report


def allowed_cpus(log):
    line = next(s for s in log.read_text().splitlines() if s.startswith("Cpus_allowed_list"))
    return line.split()[1]


def test_cpu_shares(monkeypatch):
    monkeypatch.setattr(run_all.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(run_all.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert run_all.cpu_shares(2) == ["0,2", "1,3"]
    assert run_all.cpu_shares(1) is None
    assert run_all.cpu_shares(5) is None
    monkeypatch.setattr(run_all.shutil, "which", lambda name: None)
    assert run_all.cpu_shares(2) is None


def test_one_at_a_time_when_asked(fake_root, tmp_path, monkeypatch):
    # with one worker each fake demo waits in vain for its partner
    monkeypatch.setenv("DEMO_WORKERS", "1")
    out = tmp_path / "demo_out"
    out.mkdir()
    assert run_all.demo(out) == ["good", "broken"]
    assert "never started" in (out / "good" / "demo.log").read_text()


def test_demo_order_lists_every_model():
    assert sorted(run_all.DEMO_ORDER) == sorted(run_all.MODELS)
