"""Start-up time of ``toksmith list`` and ``toksmith count "hello" -t o200k_base``.

Each command runs in ``--runs`` fresh processes (default 10); the figure is the median wall time,
with the median CPU time (user + system of the child) beside it, which a busy machine inflates
less. ``count`` is measured with a warm vocabulary cache (one run first fills it), cold (an
empty cache folder for every run) and with no cache at all (a cache path that is a file: every
run parses the rank file, as toksmith did before the cache). The reference is a bare Python
process that loads the same rank file with tiktoken (``tiktoken.get_encoding("o200k_base")``
reading litellm's copy of OpenAI's file: parse and sha256 check) and encodes "hello".
Targets: list <= 0.3 s, count <= 0.5 s.

    .venv/bin/python benchmarks/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIST_TARGET_S = 0.3
COUNT_TARGET_S = 0.5

REFERENCE = """
import os, sys
os.environ["TIKTOKEN_CACHE_DIR"] = sys.argv[1]
import tiktoken
assert tiktoken.get_encoding("o200k_base").encode("hello") == [24912]
"""


def _toksmith() -> str:
    return str(Path(sys.executable).with_name("toksmith"))


def _run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one fresh process running ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall_s, cpu_s


def measure(
    command: list[str], runs: int, env: dict[str, str], fresh_cache: bool = False
) -> tuple[float, float]:
    """Median wall and CPU seconds of ``runs`` fresh processes."""
    walls, cpus = [], []
    for _ in range(runs):
        run_env = dict(env)
        if fresh_cache:
            run_env["TOKSMITH_CACHE_DIR"] = tempfile.mkdtemp(prefix="toksmith-cold-")
        wall_s, cpu_s = _run_once(command, run_env)
        walls.append(wall_s)
        cpus.append(cpu_s)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    from toksmith.tokenizers.registry import BUILTIN_BY_NAME

    rank_folder = str(BUILTIN_BY_NAME["o200k_base"].path().parent)
    warm_cache = tempfile.mkdtemp(prefix="toksmith-warm-")
    env = dict(os.environ, TOKSMITH_CACHE_DIR=warm_cache)
    toksmith = _toksmith()
    count = [toksmith, "count", "hello", "-t", "o200k_base"]
    _run_once(count, env)  # fills the warm cache
    no_cache = str(Path(tempfile.mkdtemp(prefix="toksmith-off-")) / "a-file")
    Path(no_cache).write_text("")

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"median of {args.runs} fresh processes (wall s, cpu s):")
    reference = measure([sys.executable, "-c", REFERENCE, rank_folder], args.runs, env)
    results = {
        "toksmith list": (measure([toksmith, "list"], args.runs, env), LIST_TARGET_S),
        "toksmith count (warm cache)": (measure(count, args.runs, env), COUNT_TARGET_S),
        "toksmith count (cold cache)": (
            measure(count, args.runs, env, fresh_cache=True),
            COUNT_TARGET_S,
        ),
        # a cache path that is a file: no cache, every run parses the rank file (as before)
        "toksmith count (no cache)": (
            measure(count, args.runs, dict(env, TOKSMITH_CACHE_DIR=no_cache)),
            COUNT_TARGET_S,
        ),
    }
    print(
        f"  {'reference: python + tiktoken o200k_base':40} {reference[0]:6.3f} {reference[1]:6.3f}"
    )
    for label, ((wall_s, cpu_s), target_s) in results.items():
        verdict = "meets" if wall_s <= target_s else "misses"
        print(
            f"  {label:40} {wall_s:6.3f} {cpu_s:6.3f}   {verdict} target {target_s} s; "
            f"{wall_s / reference[0]:.2f}x the reference's wall time"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
