"""A worker process killed in the middle of a run: Dask re-runs its tasks elsewhere and the
result is still exactly the single-process one."""

from __future__ import annotations

import os
import signal

from toksmith.cluster import compare_on_cluster
from toksmith.cluster.tasks import SLOW_ENV
from toksmith.metrics import compare_corpus
from toksmith.tokenizers import load_tokenizers


def test_a_worker_killed_mid_run_changes_no_number(monkeypatch, udhr_subset, tiny_bpe):
    # Every task (one per language here) sleeps 0.5 s first (the test-only hook, inherited by
    # the worker processes local:2 spawns): when the first is done, both workers are busy.
    monkeypatch.setenv(SLOW_ENV, "0.5")
    killed: list[int] = []
    survivors: list[int] = []

    def kill_a_worker(message: str, fraction: float) -> None:
        from distributed import default_client

        client = default_client()
        if not killed:
            pids = client.run(os.getpid)
            victim = pids[sorted(pids)[0]]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
        elif fraction >= 1.0:
            survivors.extend(client.run(os.getpid).values())

    specs = [str(tiny_bpe)]
    many = compare_on_cluster(
        specs,
        udhr_subset,
        cluster="local:2",
        reference="007",
        progress=kill_a_worker,
    )
    one = compare_corpus(load_tokenizers(specs), udhr_subset, reference="007")
    assert killed and survivors and killed[0] not in survivors  # it really died mid-run
    assert many.to_dict() == one.to_dict()
