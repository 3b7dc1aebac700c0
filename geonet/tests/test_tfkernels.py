"""posekit.tfkernels: each convolution gradient gets the kernel timed faster for its shapes, and
the gradients stay the same whichever kernel computes them."""

import numpy as np
import pytest
import tensorflow as tf

from posekit import tfkernels

NO_REASON = lambda: ""  # noqa: E731 (a machine where the labels apply)


def conv_grads(seed=0):
    """Gradients of a small conv stack (stride 1 and 2, SAME and VALID, a repeated shape)."""
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.standard_normal((2, 12, 20, 3)).astype(np.float32))
    h = x
    # kernel, channels in and out, stride, padding
    layers = [(5, 3, 8, 2, "SAME"), (3, 8, 8, 1, "SAME"), (3, 8, 8, 1, "SAME")]
    layers.append((3, 8, 4, 1, "VALID"))
    weights = []
    for k, cin, cout, stride, padding in layers:
        w = tf.Variable(rng.standard_normal((k, k, cin, cout)).astype(np.float32) * 0.2)
        weights.append(w)
        h = tf.nn.relu(tf.nn.conv2d(h, w, [1, stride, stride, 1], padding))
    return tf.gradients(tf.reduce_sum(h**2), [x] + weights)


def backprop_ops(graph):
    return [op for op in graph.get_operations() if op.type in tfkernels.KINDS]


def run(graph, fetches):
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        return sess.run(fetches)


def kernel_of(op):
    try:
        return op.get_attr("_kernel").decode()
    except ValueError:
        return tfkernels.DEFAULT


def faster(label):
    """A stand-in timing in which the kernel `label` always takes half the time."""
    return lambda sess, probes, repeats: {
        op.name: 1.0 if kernel_of(op) == label else 2.0 for op in probes
    }


def test_labelled_gradients_equal_the_default_ones():
    with tf.Graph().as_default() as plain:
        expected = run(plain, conv_grads())
    with tf.Graph().as_default() as tuned:
        grads = conv_grads()
        tuning = tfkernels.tune_conv_gradients(
            tuned, why_not=NO_REASON, times=faster(tfkernels.EIGEN)
        )
        got = run(tuned, grads)
    ops = backprop_ops(tuned)
    assert len(ops) == 8  # filter and input gradients of 4 layers
    assert {kernel_of(op) for op in ops} == {tfkernels.EIGEN}
    # the two 3x3 8->8 layers share their shapes: 6 for 8 ops
    assert sorted(c.n_ops for c in tuning.choices) == [1, 1, 1, 1, 2, 2]
    assert "Eigen's for 8 of 8 ops" in tuning.summary()
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4 * np.abs(e).max())


def test_default_kernel_kept_where_it_is_faster():
    with tf.Graph().as_default() as g:
        conv_grads()
        tuning = tfkernels.tune_conv_gradients(
            g, why_not=NO_REASON, times=faster(tfkernels.DEFAULT)
        )
    assert {kernel_of(op) for op in backprop_ops(g)} == {tfkernels.DEFAULT}
    assert "Eigen's for 0 of 8 ops" in tuning.summary()


def test_timing_both_kernels_for_real():
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1)
    with tf.Graph().as_default() as g:
        grads = conv_grads()
        tuning = tfkernels.tune_conv_gradients(g, config, repeats=2, why_not=NO_REASON)
        run(g, grads)  # runs with whatever kernels were picked
    assert len(tuning.choices) == 6
    for choice in tuning.choices:
        assert all(0 < s < 1 for s in choice.seconds.values()), choice
        assert choice.seconds[choice.label] == min(choice.seconds.values())


@pytest.mark.parametrize("reason", ["GPU present", "oneDNN build", "Ascend"])
def test_left_alone_where_labels_do_not_apply(reason):
    with tf.Graph().as_default() as g:
        conv_grads()
        tuning = tfkernels.tune_conv_gradients(g, why_not=lambda: reason)
    assert {kernel_of(op) for op in backprop_ops(g)} == {tfkernels.DEFAULT}
    assert tuning.summary() == f"conv gradient kernels: TensorFlow's defaults ({reason})"


def test_this_machine_is_tunable():
    """CI runs the plain CPU wheel without npu_bridge: the real checks must let tuning happen."""
    assert tfkernels._why_not() in ("", "oneDNN build")


def test_defaults_kept_when_a_kernel_fails():
    def no_kernel(sess, probes, repeats):
        raise tf.errors.NotFoundError(None, None, "No registered kernel\nmore detail")

    with tf.Graph().as_default() as g:
        conv_grads()
        tuning = tfkernels.tune_conv_gradients(g, why_not=NO_REASON, times=no_kernel)
    assert {kernel_of(op) for op in backprop_ops(g)} == {tfkernels.DEFAULT}
    assert tuning.summary().endswith("(timing failed: No registered kernel)")
