"""Running shard tasks on Dask: connecting, checking versions, progress, failures, Ctrl-C.

toksmith runs on an existing distributed engine rather than a home-made one: Dask's
``distributed`` scheduler (a ``LocalCluster`` of worker processes for ``local:N``, or a
scheduler at ``tcp://host:port`` with ``dask worker`` processes on many machines). Dask
places the tasks, re-runs the tasks of a worker that dies (up to
``distributed.scheduler.allowed-failures`` times, 3 by default) and moves results back; toksmith
only cuts the corpus into shards (:mod:`toksmith.cluster.shards`), sends each task the
tokenizer *specs* (never loaded objects), and merges the partial results in shard order.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from toksmith import __version__
from toksmith.errors import UserError
from toksmith.progress import Progress

DEFAULT_TIMEOUT_S = 10.0
MAX_LOCAL_WORKERS = 256
T = TypeVar("T")


def parse_cluster(text: str) -> str:
    """Check a ``--cluster`` value: ``local:N`` (N worker processes on this machine) or a
    scheduler address ``tcp://HOST:PORT`` (also ``tls://``); returns it unchanged."""
    if text.startswith("local:"):
        count = text.removeprefix("local:")
        if not count.isdigit() or not 1 <= int(count) <= MAX_LOCAL_WORKERS:
            raise UserError(
                f"--cluster {text!r}: expected local:N with N from 1 to {MAX_LOCAL_WORKERS}"
            )
        return text
    scheme, sep, rest = text.partition("://")
    host, colon, port = rest.rpartition(":")
    if scheme not in ("tcp", "tls") or not sep or not colon or not host or not port.isdigit():
        raise UserError(
            f"--cluster {text!r}: expected local:N or a scheduler address tcp://HOST:PORT"
        )
    return text


def _parse_cluster_option(text: str) -> str:
    try:
        return parse_cluster(text)
    except UserError as error:
        raise argparse.ArgumentTypeError(str(error).partition(": ")[2]) from None


def _parse_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: expected seconds from 0.1 to 3600")
    return value


def add_cluster_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--cluster local:N|tcp://HOST:PORT`` and ``--cluster-timeout SECONDS``."""
    parser.add_argument(
        "--cluster",
        metavar="local:N|tcp://HOST:PORT",
        type=_parse_cluster_option,
        help="run on Dask: N local worker processes, or the workers of a running "
        "'dask scheduler' (same toksmith version, corpus and tokenizer paths visible to "
        "every worker); the result is identical to a run in one process",
    )
    parser.add_argument(
        "--cluster-timeout",
        metavar="S",
        type=_parse_timeout,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds to wait for the scheduler and its workers (default {DEFAULT_TIMEOUT_S:g})",
    )


@contextmanager
def connect(cluster: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[Any]:
    """A Dask ``Client`` for ``cluster`` (see :func:`parse_cluster`) whose workers run this
    toksmith version; a local cluster is started (one thread per worker process) and shut
    down at the end. An unreachable scheduler fails after ``timeout_s`` naming it."""
    parse_cluster(cluster)
    from distributed import Client, LocalCluster

    local = None
    try:
        if cluster.startswith("local:"):
            local = LocalCluster(
                n_workers=int(cluster.removeprefix("local:")),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # Worker shutdown races (a heartbeat to a closed scheduler) log ERROR
                # tracebacks that are not the user's concern; real failures raise.
                silence_logs=logging.CRITICAL,
            )
            client = Client(local, timeout=timeout_s)
        else:
            try:
                client = Client(cluster, timeout=timeout_s)
            except (OSError, TimeoutError) as error:
                raise UserError(
                    f"cannot reach the Dask scheduler at {cluster} within {timeout_s:g} s "
                    f"({type(error).__name__}); is 'dask scheduler' running there?"
                ) from None
        try:
            wait_for_workers(client, cluster, timeout_s)
            check_versions(__version__, worker_versions(client))
            yield client
        finally:
            client.close()
    finally:
        if local is not None:
            local.close()


def wait_for_workers(client: Any, cluster: str, timeout_s: float) -> None:
    """Wait up to ``timeout_s`` for at least one worker."""
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except (OSError, TimeoutError):
        raise UserError(
            f"the Dask scheduler at {cluster} has no workers after {timeout_s:g} s; start some "
            f"with 'dask worker {cluster}'"
        ) from None


def worker_version() -> str:
    """The toksmith version of the process it runs in (sent to every worker)."""
    import toksmith

    return toksmith.__version__


def worker_versions(client: Any) -> dict[str, str]:
    """Worker address → its toksmith version."""
    try:
        return dict(client.run(worker_version))
    except Exception as error:  # a worker without toksmith cannot even unpickle the probe
        raise UserError(
            f"the Dask workers cannot run toksmith {__version__} ({type(error).__name__}: "
            f"{error}); install the same toksmith on every worker"
        ) from None


def check_versions(client_version: str, versions: dict[str, str]) -> None:
    """Refuse workers whose toksmith version differs from the client's, naming both."""
    for address, version in sorted(versions.items()):
        if version != client_version:
            raise UserError(
                f"worker {address} runs toksmith {version} but this client runs toksmith "
                f"{client_version}: install the same version on every worker"
            )


def worker_count(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def worker_name() -> str:
    """The address of the Dask worker running the current task (``this process`` outside
    one), for messages."""
    worker = current_worker()
    return str(worker.address) if worker is not None else "this process"


_run_worker: Any = None  # the worker of a ``client.run`` call, where get_worker() has none


def current_worker() -> Any:
    """The Dask worker this code runs in (a task, or a :func:`prepare_workers` call), or None."""
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return _run_worker


def worker_spec(spec: str) -> str:
    """``spec`` as a worker should read it: a path that exists here made absolute (a worker's
    working folder is not ours); built-in names, ``ws:`` and hub names unchanged."""
    from toksmith.tokenizers.load import PREFIXES, WHITESPACE_SPECS
    from toksmith.tokenizers.registry import is_builtin

    if spec in WHITESPACE_SPECS or is_builtin(spec):
        return spec
    prefix, colon, rest = spec.partition(":")
    if colon and prefix in PREFIXES:
        path = Path(rest).expanduser()
        return f"{prefix}:{os.path.abspath(path)}" if path.exists() else spec
    path = Path(spec).expanduser()
    return os.path.abspath(path) if path.exists() else spec


def prepare_workers(client: Any, prepare: Callable[..., Any], *args: Any) -> None:
    """Run ``prepare(*args)`` on every worker at once (loading tokenizers and starting their
    engines) before any task, so that no worker pays it inside the run; a failure is the
    worker's one-line error. Inside ``prepare``, :func:`current_worker` is the worker."""
    try:
        client.run(_as_worker, prepare, *args)
    except BaseException as error:
        raise _one_line(error) from None


def _as_worker(prepare: Callable[..., Any], *args: Any, dask_worker: Any = None) -> None:
    global _run_worker
    _run_worker = dask_worker  # Dask passes the worker to a ``client.run`` function asking for it
    try:
        prepare(*args)
    finally:
        _run_worker = None


def run_tasks(
    client: Any,
    function: Callable[..., T],
    tasks: Sequence[Any],
    *,
    progress: Progress | None = None,
    what: str = "shards",
) -> Iterator[tuple[int, T]]:
    """Run ``function(task)`` for every task on the cluster; yield ``(index, result)`` as
    each finishes (any order).

    A task that raises fails the run with the error of the *first* failing task in task
    order, so the message is the one a single process would give (it reads in that order);
    tasks after it are cancelled. Ctrl-C cancels every task before it propagates.
    """
    from distributed import as_completed

    futures = [
        client.submit(function, task, key=f"toksmith-{what}-{index}-{os.urandom(6).hex()}")
        for index, task in enumerate(tasks)
    ]
    index_of = {future.key: index for index, future in enumerate(futures)}
    failed: dict[int, BaseException] = {}
    done = 0
    try:
        for future in as_completed(futures):
            index = index_of[future.key]
            if future.cancelled():
                continue
            if future.status == "error":
                failed[index] = future.exception()
                client.cancel([f for f in futures[min(failed) + 1 :] if not f.done()])
            else:
                done += 1
                if progress:
                    progress(f"{done}/{len(futures)} {what}", done / len(futures))
                if not failed:
                    yield index, future.result()
            if failed and all(f.done() for f in futures[: min(failed)]):
                break
        if failed:
            raise _one_line(failed[min(failed)])
    except BaseException:
        client.cancel([f for f in futures if not f.done()], force=True)
        raise


def _one_line(error: BaseException) -> BaseException:
    """A task's error for the user: a UserError as it is, anything else named by the
    worker-side exception in one line (Dask would otherwise print a traceback)."""
    if isinstance(error, UserError):
        return error
    if isinstance(error, KeyboardInterrupt):
        return error
    from distributed.scheduler import KilledWorker

    if isinstance(error, KilledWorker):
        return UserError(
            f"a task failed on every worker that tried it (workers died: {error}); "
            "see the worker logs"
        )
    return UserError(f"a task failed on the cluster: {type(error).__name__}: {error}")
