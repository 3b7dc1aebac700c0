"""PoseNet losses.

`weighted` (default, the seed's): for each branch b (aux 1, aux 2, main)
    L = sum_b  wx_b * mean_i ||x_i - x_hat_i||  +  wq_b * mean_i ||q_i / |q_i| - q_hat_i||
with wx = (3, 3, 10) and wq = (150, 150, 500) as in the seed's port. Relative to the main
position term that is the paper's 0.3 weight on the auxiliary branches and beta = 50 between
orientation and position (Kendall et al. 2015 tune beta per scene; the paper's own Caffe setting
for KingsCollege is wx = (0.3, 0.3, 1), wq = (150, 150, 500), i.e. beta = 500: pass
`--loss_weights 0.3 0.3 1 150 150 500`). One deliberate difference: the port's distance takes the
norm over the whole batch matrix (so the loss grows with sqrt(batch)); here it is the per-image
Euclidean norm averaged over the batch, the paper's definition.

`uncertainty` (Kendall and Cipolla, CVPR 2017, eq. 9), per branch with the same 0.3/0.3/1 branch
weights: L_b = Lx_b exp(-s_x) + s_x + Lq_b exp(-s_q) + s_q with learned s_x (init 0) and
s_q (init -3, the paper's values) shared by the branches.
"""

import mindspore as ms
from mindspore import nn, ops

SEED_WEIGHTS = (3.0, 3.0, 10.0, 150.0, 150.0, 500.0)
BRANCH_WEIGHTS = (0.3, 0.3, 1.0)
# Keeps the norm differentiable when a prediction equals its target exactly.
EPS = 1e-12


def _distance(a, b):
    d = a - b
    return ops.sqrt((d * d).sum(axis=1) + EPS).mean()


def _unit(q):
    return q / ops.sqrt((q * q).sum(axis=1, keepdims=True) + EPS)


class PoseLoss(nn.Cell):
    """Seed loss: weighted position and orientation distances of the three branches."""

    def __init__(self, weights=SEED_WEIGHTS):
        super().__init__()
        if len(weights) != 6:
            raise ValueError(
                f"loss weights: expected 6 numbers (wx1 wx2 wx3 wq1 wq2 wq3), got {weights}"
            )
        self.wx = tuple(float(w) for w in weights[:3])
        self.wq = tuple(float(w) for w in weights[3:])

    def construct(self, xyz1, wpqr1, xyz2, wpqr2, xyz3, wpqr3, pose):
        x, q = pose[:, :3], _unit(pose[:, 3:])
        loss = self.wx[0] * _distance(xyz1, x) + self.wq[0] * _distance(wpqr1, q)
        loss += self.wx[1] * _distance(xyz2, x) + self.wq[1] * _distance(wpqr2, q)
        loss += self.wx[2] * _distance(xyz3, x) + self.wq[2] * _distance(wpqr3, q)
        return loss


class UncertaintyPoseLoss(nn.Cell):
    """Learned homoscedastic-uncertainty weighting (Kendall and Cipolla 2017)."""

    def __init__(self, s_x=0.0, s_q=-3.0, branch_weights=BRANCH_WEIGHTS):
        super().__init__()
        self.s_x = ms.Parameter(ms.Tensor(s_x, ms.float32), name="loss_s_x")
        self.s_q = ms.Parameter(ms.Tensor(s_q, ms.float32), name="loss_s_q")
        self.bw = tuple(float(w) for w in branch_weights)

    def _branch(self, xyz, wpqr, x, q):
        lx = _distance(xyz, x)
        lq = _distance(wpqr, q)
        return lx * ops.exp(-self.s_x) + self.s_x + lq * ops.exp(-self.s_q) + self.s_q

    def construct(self, xyz1, wpqr1, xyz2, wpqr2, xyz3, wpqr3, pose):
        x, q = pose[:, :3], _unit(pose[:, 3:])
        loss = self.bw[0] * self._branch(xyz1, wpqr1, x, q)
        loss += self.bw[1] * self._branch(xyz2, wpqr2, x, q)
        loss += self.bw[2] * self._branch(xyz3, wpqr3, x, q)
        return loss


def build_loss(kind="weighted", weights=SEED_WEIGHTS):
    if kind == "weighted":
        return PoseLoss(weights)
    if kind == "uncertainty":
        return UncertaintyPoseLoss()
    raise ValueError(f"loss: expected 'weighted' or 'uncertainty', got {kind!r}")


class PoseNetWithLoss(nn.Cell):
    """(image, pose) -> scalar loss; keeps the network's parameter names (no prefix)."""

    def __init__(self, network, loss):
        super().__init__(auto_prefix=False)
        self.network = network
        self.loss = loss

    def construct(self, image, pose):
        return self.loss(*self.network(image), pose)
