# Copyright (c) OpenMMLab. All rights reserved.
"""Run a function on several CPU processes with a deadline, for tests.

``torch.multiprocessing.spawn(join=True)`` waits forever when a rank hangs
(a gloo collective whose peer died, a forked child stuck on a lock its
parent's threads held). A test suite must fail instead, naming the ranks.
"""
import time
from typing import Any, Callable, Sequence

import torch.multiprocessing as mp


def run_processes(fn: Callable[..., Any],
                  nprocs: int,
                  args: Sequence[Any] = (),
                  timeout: float = 300.0) -> None:
    """Start ``fn(rank, *args)`` on ``nprocs`` spawned processes and join.

    Processes are spawned (fresh interpreters), never forked: a fork after
    torch has started its thread pools or compile workers can deadlock.

    Args:
        fn (Callable): A picklable module-level function.
        nprocs (int): Number of processes.
        args (Sequence): Extra positional arguments after the rank.
        timeout (float): Seconds to wait for all of them.

    Raises:
        TimeoutError: If a process is still running after ``timeout``
            seconds; all of them are killed first.
        torch.multiprocessing.ProcessRaisedException: If a process raised.
    """
    context = mp.start_processes(
        fn, args=tuple(args), nprocs=nprocs, join=False,
        start_method='spawn')
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            alive = [
                rank for rank, proc in enumerate(context.processes)
                if proc.is_alive()
            ]
            for proc in context.processes:
                if proc.is_alive():
                    proc.kill()
            for proc in context.processes:
                proc.join(5)
            raise TimeoutError(
                f'ranks {alive} of {nprocs} still ran after {timeout:.0f} s '
                'and were killed')
        if context.join(timeout=min(left, 1.0)):
            return
