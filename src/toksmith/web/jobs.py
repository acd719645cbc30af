"""Background jobs for work that takes longer than a request should (compare runs).

Jobs run one at a time on a worker thread, report progress through the callback the feature
function takes, and keep their result in memory until they are among the oldest
``max_kept`` finished jobs. Every job ends, ``done`` or ``failed`` with a one-line error, even
when its work dies of a Rust panic (a ``BaseException``); a finished job no longer counts
against ``max_queued``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from toksmith.errors import UserError
from toksmith.progress import Progress
from toksmith.web.errors import describe_failure, is_stop_signal, one_line

Work = Callable[[Progress], dict[str, Any]]
FINISHED = ("done", "failed")


class QueueFull(UserError):
    """Too many jobs are queued or running (HTTP 429)."""

    status = 429


@dataclass
class Job:
    """State of one job; ``progress`` is 0..1, or -1 when the total is unknown."""

    id: str
    kind: str
    params: dict[str, Any]
    state: str = "queued"  # queued | running | done | failed
    progress: float = 0.0
    message: str = "waiting for the previous job"
    result: dict[str, Any] | None = None
    error: str | None = None
    created_s: float = field(default_factory=time.time)
    finished_s: float | None = None

    def summary(self, *, with_result: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "params": self.params,
            "state": self.state,
            "progress": self.progress,
            "message": self.message,
            "error": self.error,
            "elapsed_s": round((self.finished_s or time.time()) - self.created_s, 3),
        }
        if with_result:
            data["result"] = self.result
        return data


class JobManager:
    """Run jobs on one worker thread and remember the latest ones."""

    def __init__(self, max_kept: int = 20, max_queued: int = 4):
        self.max_kept = max_kept
        self.max_queued = max_queued
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toksmith-job")

    def submit(self, kind: str, params: dict[str, Any], work: Work) -> Job:
        """Queue ``work``; raise :class:`QueueFull` when ``max_queued`` jobs are pending."""
        with self._lock:
            pending = sum(job.state not in FINISHED for job in self._jobs.values())
            if pending >= self.max_queued:
                raise QueueFull(
                    f"{pending} jobs are already queued or running (the limit is "
                    f"{self.max_queued}); try again when one has finished"
                )
            job = Job(id=uuid.uuid4().hex[:12], kind=kind, params=params)
            self._jobs[job.id] = job
            self._forget_old()
        self._executor.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: job.created_s, reverse=True)

    def wait(self, job_id: str, timeout_s: float = 60.0) -> Job:
        """Block until the job has finished (for tests and scripts)."""
        deadline = time.time() + timeout_s
        while True:
            job = self.get(job_id)
            if job is None or job.state in FINISHED or time.time() > deadline:
                if job is None:
                    raise KeyError(job_id)
                return job
            time.sleep(0.02)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _forget_old(self) -> None:
        finished = [job for job in self._jobs.values() if job.state in FINISHED]
        finished.sort(key=lambda job: job.created_s)
        for job in finished[: max(0, len(self._jobs) - self.max_kept)]:
            del self._jobs[job.id]

    def _run(self, job: Job, work: Work) -> None:
        def progress(message: str, fraction: float) -> None:
            job.message = message
            job.progress = fraction

        job.state, job.message = "running", "starting"
        try:
            job.result = work(progress)
            job.state, job.progress, job.message = "done", 1.0, "done"
        except UserError as error:
            self._fail(job, str(error))
        except BaseException as error:  # a Rust panic is a BaseException: the job still ends
            if is_stop_signal(error):
                self._fail(job, "interrupted: the server is stopping")
                raise
            self._fail(job, f"internal error: {describe_failure(error)}")
        finally:
            if job.state not in FINISHED:  # cannot happen, but a job must never hang
                self._fail(job, "the job stopped without a result")
            job.finished_s = time.time()

    @staticmethod
    def _fail(job: Job, error: str) -> None:
        job.state, job.error = "failed", one_line(error)
        job.message = "failed"
