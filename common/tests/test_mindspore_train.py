"""posekit.mindspore_train on a tiny network: checkpoint names and listing, refusing to overwrite,
atomic save, resume, strict weight loading, and the epoch loop (log lines, keep-last-K, max_steps,
NaN stop, weights digest). Runs in the MindSpore env, skipped in the TensorFlow one."""

import os
import re

import numpy as np
import pytest

ms = pytest.importorskip("mindspore")

import mindspore.dataset as ds  # noqa: E402
from mindspore import nn  # noqa: E402

from posekit import mindspore_train as mt  # noqa: E402

CKPTS = mt.Checkpoints("Tiny", step_key="steps_done", hint="is it a Tiny checkpoint?")
LOG = "e {epoch}/{epochs} s {step}/{steps} loss {loss:.4f} lr {lr:.1e} {speed:.1f} img/s {eta}"


class WithLoss(nn.Cell):
    def __init__(self, network):
        super().__init__()
        self.network = network

    def construct(self, x, y):
        return ((self.network(x) - y) ** 2).mean()


def tiny(seed=0, rate=0.01):
    """-> (bare network, training cell, per-step learning rates) for 2 steps per epoch."""
    mt.set_device("CPU")
    ms.set_seed(seed)
    net = nn.Dense(3, 2)
    lr = np.full(10, rate, np.float32)
    opt = nn.Adam(net.trainable_params(), learning_rate=ms.Tensor(lr))
    return net, mt.build_train_step(WithLoss(net), opt, None, "CPU"), lr


def batches(n=4, batch=2, nan=False):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = rng.standard_normal((n, 2)).astype(np.float32)
    if nan:
        x[:] = np.nan
    return ds.NumpySlicesDataset((x, y), column_names=["x", "y"], shuffle=False).batch(batch)


def train(net, step, lr, out, nan=False, **kw):
    args = dict(checkpoints=CKPTS, out_dir=str(out), rank=0, begin_epoch=0, end_epoch=3,
                steps_per_epoch=2, lr=lr, images_per_step=2, save_every=1, keep=5,
                log_format=LOG, log_interval=1)  # fmt: skip
    args.update(kw)
    mt.train_epochs(step, batches(nan=nan), net, **args)


def test_multistep_lr_drops_by_the_factor_at_each_epoch():
    lr = mt.multistep_lr(1e-3, 0.1, [170, 200], total_epochs=210, steps_per_epoch=3)
    assert lr.shape == (630,) and lr.dtype == np.float32
    assert lr[170 * 3 - 1] == pytest.approx(1e-3) and lr[170 * 3] == pytest.approx(1e-4)
    assert lr[200 * 3 - 1] == pytest.approx(1e-4) and lr[200 * 3] == pytest.approx(1e-5)
    assert lr[-1] == pytest.approx(1e-5)


def test_names_and_listing_oldest_first(tmp_path):
    assert CKPTS.name(3, 10) == "Tiny-3_10.ckpt"
    for name in ("Tiny-10_5.ckpt", "Tiny-2_5.ckpt", "Tiny-2_5.part.ckpt", "Other-1_5.ckpt",
                 "Tiny-x_5.ckpt", "Tiny-1_5.ckpt.bak"):  # fmt: skip
        (tmp_path / name).write_bytes(b"")
    assert [os.path.basename(p) for p in CKPTS.list(str(tmp_path))] == [
        "Tiny-2_5.ckpt",
        "Tiny-10_5.ckpt",
    ]


def test_prepare_refuses_to_overwrite_a_run(tmp_path):
    out = tmp_path / "run"
    assert CKPTS.prepare(str(out), None, "--out") == [] and out.is_dir()
    (out / "Tiny-1_2.ckpt").write_bytes(b"")
    with pytest.raises(SystemExit, match=r"Tiny-1_2.ckpt\); pass --resume auto .* another --out"):
        CKPTS.prepare(str(out), None, "--out")
    assert CKPTS.prepare(str(out), "auto", "--out") == [str(out / "Tiny-1_2.ckpt")]


def test_training_logs_saves_keeps_the_last_and_resumes(tmp_path, capsys):
    net, step, lr = tiny()
    train(net, step, lr, tmp_path, save_every=2, keep=1)
    log = capsys.readouterr().out
    lines = re.findall(r"^e (\d)/3 s (\d)/2 loss [0-9.]+ lr 1.0e-02 [0-9.]+ img/s \d:\d\d:\d\d$",
                       log, re.M)  # fmt: skip
    assert lines == [(e, s) for e in "123" for s in "12"]
    # saved at epoch 2 (every 2) and 3 (the last); only the last one kept
    assert "saved " + str(tmp_path / "Tiny-2_2.ckpt") in log
    assert os.listdir(tmp_path) == ["Tiny-3_2.ckpt"]
    digest = float(re.search(r"rank 0: final weights digest ([0-9.]+)", log).group(1))
    assert digest == pytest.approx(mt.weights_digest(net), abs=1e-6)
    assert mt.weights_digest(net) == pytest.approx(
        sum(np.abs(p.asnumpy()).sum() for p in net.trainable_params())
    )
    saved = ms.load_checkpoint(str(tmp_path / "Tiny-3_2.ckpt"))
    assert int(saved["epoch"].asnumpy()) == 3 and int(saved["steps_done"].asnumpy()) == 6

    net2, step2, _ = tiny(seed=1)
    existing = CKPTS.list(str(tmp_path))
    assert CKPTS.resume(step2, None, existing, 0) == 0
    assert CKPTS.resume(step2, "auto", [], 0) == 0
    assert CKPTS.resume(step2, "auto", existing, 0) == 3
    assert "resumed from " + existing[0] + " at epoch 3" in capsys.readouterr().out
    for a, b in zip(net.trainable_params(), net2.trainable_params()):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())


def test_max_steps_ends_the_run_with_a_checkpoint(tmp_path, capsys):
    net, step, lr = tiny()
    train(net, step, lr, tmp_path, max_steps=3, save_every=5)
    log = capsys.readouterr().out
    assert "e 2/3 s 1/2" in log and "e 2/3 s 2/2" not in log
    assert os.listdir(tmp_path) == ["Tiny-2_2.ckpt"]  # the last epoch reached, saved


def test_non_finite_loss_stops(tmp_path):
    net, step, lr = tiny()
    with pytest.raises(SystemExit, match="loss is nan at epoch 1 step 1: stopping"):
        train(net, step, lr, tmp_path, nan=True)


def test_per_step_checkpoints_are_named_saved_and_restored_by_step(tmp_path):
    steps = mt.Checkpoints("Tiny", step_key="step", hint="is it a Tiny checkpoint?", per_step=True)
    assert steps.name(30) == "Tiny-30.ckpt"
    with pytest.raises(ValueError, match="named by step alone"):
        steps.name(3, 10)
    with pytest.raises(ValueError, match="named by epoch and steps per epoch"):
        CKPTS.name(3)
    for name in ("Tiny-3_2.ckpt", "Tiny-7.part.ckpt", "Tiny-x.ckpt"):  # epoch-named, temporary
        (tmp_path / name).write_bytes(b"")
    net, step, lr = tiny()
    step(*next(batches().create_tuple_iterator()))
    for n in (10, 7):
        steps.save(step, str(tmp_path / steps.name(n)), n)
    assert [os.path.basename(p) for p in steps.list(str(tmp_path))] == [
        "Tiny-7.ckpt",
        "Tiny-10.ckpt",
    ]
    saved = ms.load_checkpoint(str(tmp_path / "Tiny-10.ckpt"))
    assert int(saved["step"].asnumpy()) == 10 and "epoch" not in saved
    np.testing.assert_array_equal(saved["learning_rate"].asnumpy(), lr)

    net2, step2, _ = tiny(seed=1, rate=0.5)
    assert steps.restore(step2, str(tmp_path / "Tiny-10.ckpt")) == 10
    for a, b in zip(net.trainable_params(), net2.trainable_params()):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    # the rate is this run's, not the saved one
    rate = {p.name: p for p in step2.get_parameters()}["learning_rate"]
    np.testing.assert_array_equal(rate.asnumpy(), 0.5)
    with pytest.raises(SystemExit, match=r"Tiny-3_2.ckpt is not a training .* \(no step recorded"):
        ms.save_checkpoint(net, str(tmp_path / "Tiny-3_2.ckpt"), append_dict={"epoch": 3})
        steps.restore(step2, str(tmp_path / "Tiny-3_2.ckpt"))


def test_resume_needs_a_training_checkpoint(tmp_path):
    net, step, _ = tiny()
    plain = str(tmp_path / "plain.ckpt")
    ms.save_checkpoint(net, plain)
    with pytest.raises(SystemExit, match="no epoch recorded"):
        CKPTS.resume(step, plain, [], 0)
    other = str(tmp_path / "other.ckpt")
    ms.save_checkpoint(nn.Dense(3, 2), other, append_dict={"epoch": 1})
    with pytest.raises(SystemExit, match="parameters not in this model"):
        CKPTS.resume(step, other, [], 0)


def test_load_weights_from_training_and_plain_checkpoints(tmp_path):
    net, step, lr = tiny()
    train(net, step, lr, tmp_path, end_epoch=1)  # training names: network.weight, ...
    plain = str(tmp_path / "plain.ckpt")
    values = [p.asnumpy() for p in net.trainable_params()]
    named = zip(("weight", "bias"), values)
    ms.save_checkpoint([{"name": n, "data": ms.Tensor(v)} for n, v in named], plain)
    for source in (str(tmp_path / "Tiny-1_2.ckpt"), plain):
        fresh = nn.Dense(3, 2)
        CKPTS.load_weights(fresh, source)
        for a, b in zip(values, fresh.trainable_params()):
            np.testing.assert_array_equal(a, b.asnumpy())
    with pytest.raises(ValueError, match=r"2 model parameters missing.*is it a Tiny checkpoint"):
        CKPTS.load_weights(nn.SequentialCell([nn.Dense(3, 2)]), plain)
    with pytest.raises(ValueError, match=r"weight has shape \(2, 3\), .* expects \(4, 3\)"):
        CKPTS.load_weights(nn.Dense(3, 4), plain)
    with pytest.raises(FileNotFoundError, match="checkpoint not found: .*nothing.ckpt"):
        CKPTS.load_weights(fresh, str(tmp_path / "nothing.ckpt"))
