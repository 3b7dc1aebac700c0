"""Pick, per convolution gradient, the faster of TensorFlow 1.15's two CPU kernels for it.

TF 1.15 registers two CPU kernels for `Conv2DBackpropFilter` and for `Conv2DBackpropInput`: the
default one (im2col and a matrix product per shard of the batch) and Eigen's tensor contraction,
chosen by the kernel label `eigen_tensor`. Neither wins everywhere: in GeoNet's demo step (32x104,
one core, 2026-12-07) Eigen's filter gradient of a 7x7 layer, 16 to 16 channels at 16x52, took 12 ms
against 36 ms, while on the 3-channel input layer (stride 2) it took 56 ms against 10 ms. Taking
the faster kernel for each op cut that step's convolution gradients from 481 ms to 226 ms.

`tune_conv_gradients(graph)` times both kernels on every distinct shape of those ops in the graph,
with the session's intra-op thread count, and labels each op with the faster one. Both kernels
compute the same sums in another order, so only the speed and the rounding change; as the choice
follows timings, two runs may choose differently (and round differently) where the kernels are
close. It must run before the graph is handed to a session. It leaves the graph alone where the
labels do not apply: ops placed off the CPU, a machine with a GPU, Ascend (npu_bridge), and the
oneDNN build of TensorFlow, which replaces these ops by its own.
"""

from __future__ import annotations

from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

KINDS = ("Conv2DBackpropFilter", "Conv2DBackpropInput")
EIGEN = "eigen_tensor"
DEFAULT = ""  # no label: TensorFlow's default kernel
LABELS = (DEFAULT, EIGEN)
ATTRS = ("strides", "padding", "explicit_paddings", "data_format", "dilations")


class Choice(NamedTuple):
    """The kernel picked for the ops of one shape, and both kernels' best time per run."""

    kind: str
    shapes: Tuple[Tuple[int, ...], ...]  # the op's two tensor inputs, then its output
    n_ops: int
    label: str
    seconds: Dict[str, float]


class Tuning(NamedTuple):
    choices: List[Choice]
    skipped: str  # why nothing was tuned, or ""

    def summary(self) -> str:
        """One log line: ops switched, and their timed total with the defaults and as chosen."""
        if self.skipped:
            return f"conv gradient kernels: TensorFlow's defaults ({self.skipped})"
        n = sum(c.n_ops for c in self.choices)
        switched = sum(c.n_ops for c in self.choices if c.label == EIGEN)
        before = sum(c.n_ops * c.seconds[DEFAULT] for c in self.choices)
        after = sum(c.n_ops * c.seconds[c.label] for c in self.choices)
        return (
            f"conv gradient kernels: Eigen's for {switched} of {n} ops, the default for the rest; "
            f"one run of each timed {1e3 * before:.0f} -> {1e3 * after:.0f} ms in all"
        )


def _why_not() -> str:
    """Why the labels cannot apply on this machine and build, or ""."""
    import tensorflow as tf
    from tensorflow.python import pywrap_tensorflow

    from posekit import tfdevice

    if tfdevice.npu_available():
        return "Ascend"
    if tf.config.experimental.list_physical_devices("GPU"):
        return "GPU present"
    if pywrap_tensorflow.IsMklEnabled():
        return "oneDNN build"
    return ""


def _tunable(op) -> bool:
    """float32 NHWC on the CPU, no dilation, SAME or VALID padding (where both kernels exist),
    and every shape known."""
    if op.type not in KINDS or op.get_attr("T").name != "float32":
        return False
    if op.device and "CPU" not in op.device.upper():
        return False
    if op.get_attr("data_format") != b"NHWC" or op.get_attr("padding") not in (b"SAME", b"VALID"):
        return False
    if any(d != 1 for d in op.get_attr("dilations")):
        return False
    tensors = [op.inputs[0], op.inputs[1], op.inputs[2], op.outputs[0]]
    return all(t.shape.is_fully_defined() for t in tensors)


def _signature(op):
    """Ops with equal signatures run the same kernel on tensors of the same shapes."""
    tensor_inputs = (op.inputs[0], op.inputs[2]) if op.type == KINDS[0] else op.inputs[1:3]
    shapes = tuple(tuple(t.shape.as_list()) for t in (*tensor_inputs, op.outputs[0]))
    attrs = tuple((name, repr(op.get_attr(name))) for name in ATTRS)
    return op.type, shapes, attrs


def _probe(kind, shapes, op):
    """An op of the same kind, shapes and attributes on random variables (never constants:
    grappler would fold the whole op away before it runs)."""
    import tensorflow as tf

    a = tf.Variable(tf.random.uniform(shapes[0]), trainable=False)
    b = tf.Variable(tf.random.uniform(shapes[1]), trainable=False)
    sizes = tf.constant(shapes[2], tf.int32)
    attrs = {name: op.get_attr(name) for name in ATTRS}
    if kind == KINDS[0]:
        return tf.raw_ops.Conv2DBackpropFilter(input=a, filter_sizes=sizes, out_backprop=b, **attrs)
    return tf.raw_ops.Conv2DBackpropInput(input_sizes=sizes, filter=a, out_backprop=b, **attrs)


def _best_times(sess, probes, repeats: int) -> Dict[str, float]:
    """Each probe op's best time (s) over `repeats` traced runs of them all, one op at a time,
    after a warm-up run (the best is the least disturbed by other work on the machine)."""
    import tensorflow as tf

    sess.run(probes)
    options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
    names = {op.name for op in probes}
    best: Dict[str, float] = {}
    for _ in range(repeats):
        meta = tf.compat.v1.RunMetadata()
        sess.run(probes, options=options, run_metadata=meta)
        for dev in meta.step_stats.dev_stats:
            for node in dev.node_stats:
                if node.node_name in names:
                    t = 1e-6 * node.all_end_rel_micros
                    best[node.node_name] = min(best.get(node.node_name, t), t)
    return best


def tune_conv_gradients(
    graph,
    session_config=None,
    repeats: int = 3,
    why_not: Optional[Callable[[], str]] = None,
    times: Optional[Callable[[object, list, int], Dict[str, float]]] = None,
) -> Tuning:
    """Label every float32 CPU convolution-gradient op in `graph` with the faster kernel for its
    shapes, timed here with the intra-op threads of `session_config` (as training runs them).
    `why_not` and `times` stand in for the machine checks and the timing in tests."""
    import tensorflow as tf
    from tensorflow.core.framework import attr_value_pb2

    skipped = (why_not or _why_not)()
    if skipped:
        return Tuning([], skipped)
    groups: Dict[tuple, list] = {}
    for op in graph.get_operations():
        if _tunable(op):
            groups.setdefault(_signature(op), []).append(op)
    if not groups:
        return Tuning([], "no convolution gradients")

    config = tf.compat.v1.ConfigProto()
    if session_config is not None:
        config.CopyFrom(session_config)
    config.inter_op_parallelism_threads = 1  # one probe at a time, so each is timed alone
    with tf.Graph().as_default() as probe_graph:
        probes = {}
        for sig, ops in groups.items():
            kind, shapes, _ = sig
            for label in LABELS:
                with probe_graph._kernel_label_map({kind: label} if label else {}):
                    probes[sig, label] = _probe(kind, shapes, ops[0]).op
        with tf.compat.v1.Session(config=config) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            try:
                best = (times or _best_times)(sess, list(probes.values()), repeats)
            except tf.errors.OpError as exc:  # a kernel missing for some shape: keep defaults
                return Tuning([], f"timing failed: {exc.message.splitlines()[0]}")
    choices = []
    for sig, ops in groups.items():
        seconds = {label: best.get(probes[sig, label].name, float("inf")) for label in LABELS}
        label = min(LABELS, key=lambda k: seconds[k])
        choices.append(Choice(sig[0], sig[1], len(ops), label, seconds))
        if label == EIGEN:
            for op in ops:  # the attribute _kernel_label_map sets when it creates an op
                op._set_attr("_kernel", attr_value_pb2.AttrValue(s=label.encode()))
    return Tuning(choices, "")
