"""PNG figures of an evaluation: error CDFs and a top-down map of true vs predicted positions."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def error_cdf(path, pos_err, rot_err, title, baseline=None):
    """Cumulative distributions of position and rotation error, medians marked."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, err, unit, key in (
        (axes[0], pos_err, "m", "median_position_m"),
        (axes[1], rot_err, "deg", "median_rotation_deg"),
    ):
        err = np.sort(np.asarray(err))
        frac = np.arange(1, len(err) + 1) / len(err)
        ax.plot(err, frac, lw=2, label="PoseNet")
        med = float(np.median(err))
        ax.axvline(med, color="C0", ls="--", lw=1, label=f"median {med:.2f} {unit}")
        if baseline is not None:
            ax.axvline(
                baseline[key],
                color="C3",
                ls=":",
                lw=1.5,
                label=f"mean-pose baseline {baseline[key]:.2f} {unit}",
            )
        ax.set_xlabel(f"error ({unit})")
        ax.set_ylabel("fraction of test images")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    axes[0].set_title("position")
    axes[1].set_title("rotation")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def topdown(path, true_pos, pred_pos, sequences, title, train_pos=None):
    """x-y plane: each test camera's true position joined to its prediction, per sequence."""
    true_pos, pred_pos = np.asarray(true_pos), np.asarray(pred_pos)
    seqs = np.asarray(sequences)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    if train_pos is not None:
        train_pos = np.asarray(train_pos)
        ax.scatter(train_pos[:, 0], train_pos[:, 1], s=4, c="0.75", label="train cameras")
    for k, seq in enumerate(sorted(set(seqs.tolist()))):
        m = seqs == seq
        color = f"C{k % 10}"
        ax.plot(true_pos[m, 0], true_pos[m, 1], "-", color=color, lw=1.5, label=f"{seq} true")
        ax.scatter(
            pred_pos[m, 0], pred_pos[m, 1], s=10, marker="x", color=color, label=f"{seq} predicted"
        )
        for a, b in zip(true_pos[m], pred_pos[m]):
            ax.plot([a[0], b[0]], [a[1], b[1]], color=color, lw=0.4, alpha=0.5)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
