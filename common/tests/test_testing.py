"""posekit.testing helpers for data-parallel tests: a free port, and the checks on worker logs."""

import socket

import pytest

from posekit.testing import check_data_parallel, free_port


def log(rank, loss, digest):
    return (
        f"rank {rank}/2: shard {rank} of 2, 2 steps of 2 per epoch\n"
        f"epoch 1/1 step 1/2 loss {loss}\n"
        f"rank {rank}: final weights digest {digest}\n"
    )


PATTERN = r"step 1/2 loss ([0-9.]+)"


def test_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_check_data_parallel_accepts_sharded_runs_in_sync():
    check_data_parallel({0: log(0, "0.5", "12.25"), 1: log(1, "0.7", "12.25")}, PATTERN)


def test_check_data_parallel_takes_another_shard_line():
    logs = {r: log(r, loss, "3.0").replace(f"rank {r}/2: shard", f"rank {r}/2 reads shard")
            for r, loss in ((0, "0.5"), (1, "0.7"))}  # fmt: skip
    check_data_parallel(logs, PATTERN, shard="rank {rank}/{n} reads shard {rank} of {n}")
    with pytest.raises(AssertionError, match="rank 0: no 'rank 0/2: shard 0 of 2'"):
        check_data_parallel(logs, PATTERN)


@pytest.mark.parametrize(
    "logs, message",
    [
        ({0: log(0, "0.5", "1.0"), 1: log(1, "0.5", "1.0")}, "ranks saw the same data"),
        ({0: log(0, "0.5", "1.0"), 1: log(1, "0.7", "1.5")}, "replicas drifted apart"),
        ({0: log(0, "0.5", "1.0"), 1: log(0, "0.7", "1.0")}, "rank 1: no 'rank 1/2: shard 1 of 2'"),
        ({0: log(0, "0.5", "1.0"), 1: "rank 1/2: shard 1 of 2\n"}, "rank 1: no line matches"),
    ],
)
def test_check_data_parallel_names_what_went_wrong(logs, message):
    with pytest.raises(AssertionError, match=message):
        check_data_parallel(logs, PATTERN)
