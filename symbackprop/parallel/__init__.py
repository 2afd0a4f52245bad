"""Data parallelism: K workers, each on its shard, gradients averaged by an all-reduce.

    averaging.py    the exact averaged gradient, the averaging identities, seed 003's layer-by-layer scheme
    walkthrough.py  the data-parallel story as a Walkthrough for the document printers
    distributed.py  a real torch.distributed run (gloo, loopback): K processes, faults contained, checkpoints;
                    rank_steps, the per-rank loop both launches run
    launched.py     a rank started by torchrun (env://): rank 0's checkpoint broadcast on a restart, its verdict
    worker.py       ``torchrun ... -m symbackprop.parallel.worker FILE``: that rank's command line
    rank_optimizer.py  a rank's torch.optim optimizer and scheduler at the averaged gradient, its state as the module's
    checked_run.py  that run checked step by step against the compiled averaged update
"""
