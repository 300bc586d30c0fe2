"""One way to fan per-item work out: in this process, over local worker processes, or over a Ray cluster.

Every parallel job of the package (corpus alignment, ``eval``, teacher labelling) is written as

- ``setup()``: a picklable zero-argument callable that builds the expensive per-worker state
  (a model, a teacher) -- called **once per worker**, never per item;
- ``task(state, item) -> result``: a picklable top-level function applied to each item;

and handed to an :class:`Executor`. :class:`LocalExecutor` runs in this process (``jobs=1``)
or in ``jobs`` worker processes (:class:`concurrent.futures.ProcessPoolExecutor` with an
initializer that runs ``setup``); :class:`RayExecutor` runs one Ray actor per worker holding
the state (:class:`ray.util.ActorPool`). Both keep only a few items in flight (two per local
worker, one per actor), so items (which may carry audio bytes) are read lazily, and both
yield ``(index, result)`` in completion order; :func:`ordered` restores the input order.

Items and results travel by pickle, so a task that reads nothing from the local disk (the
corpus job ships audio bytes in the item) runs unchanged on any node of a cluster.
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable, Iterator, TypeVar

S = TypeVar("S")
I = TypeVar("I")
R = TypeVar("R")

#: the pip extra that installs Ray (``pip install 'microalign[ray]'``)
RAY_EXTRA = "ray"


class RayUnavailableError(ImportError):
    """``--ray`` was asked for but Ray is not installed (the message names the extra)."""


class Executor:
    """Runs ``task(state, item)`` over items, with ``state = setup()`` built once per worker."""

    workers: int = 1
    label: str = ""

    def map(self, setup: Callable[[], S], task: Callable[[S, I], R], items: Iterable[I]) -> Iterator[tuple[int, R]]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def ordered(pairs: Iterable[tuple[int, R]]) -> Iterator[R]:
    """Results of :meth:`Executor.map` in input order (buffers the ones that arrive early)."""
    pending: dict[int, R] = {}
    nxt = 0
    for i, r in pairs:
        pending[i] = r
        while nxt in pending:
            yield pending.pop(nxt)
            nxt += 1
    if pending:   # only if the executor skipped an index: a bug, never silently dropped
        raise RuntimeError(f"executor lost items before index(es) {sorted(pending)[:5]}")


# ------------------------------------------------------------------ local processes
_STATE: dict[str, Any] = {}


def _init_worker(setup: Callable[[], Any]) -> None:
    _STATE["state"] = setup()


def _run_in_worker(task: Callable[[Any, Any], Any], item: Any) -> Any:
    return task(_STATE["state"], item)


#: thread-pool sizes a spawned worker reads at start-up (numpy's OpenBLAS, MKL, OpenMP, Accelerate)
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


@contextmanager
def _one_thread_per_worker():
    """``N`` workers each using every core oversubscribe the machine (OpenBLAS threads spin): the
    spawned workers start with one thread each, unless the user set these variables (Ray does the
    same for its actors)."""
    unset = [v for v in _THREAD_VARS if v not in os.environ]
    os.environ.update({v: "1" for v in unset})
    try:
        yield
    finally:
        for v in unset:
            os.environ.pop(v, None)


class _QuietSpawnProcess(multiprocessing.get_context("spawn").Process):
    """A spawned process that starts with Ctrl-C ignored.

    A terminal's Ctrl-C sends SIGINT to the whole process group: workers that took it would
    print their own KeyboardInterrupt tracebacks (even while still starting up) and die in
    any state. A spawned Python keeps SIGINT ignored when it starts ignored, so the driver
    alone handles Ctrl-C and stops the workers (:meth:`LocalExecutor.map`)."""

    def start(self):
        if threading.current_thread() is not threading.main_thread():   # only the main thread sets handlers
            return super().start()
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return super().start()
        finally:
            signal.signal(signal.SIGINT, old)


class _QuietSpawnContext(type(multiprocessing.get_context("spawn"))):
    Process = _QuietSpawnProcess


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and end the workers without waiting for their current items (Ctrl-C)."""
    pool.shutdown(wait=False, cancel_futures=True)
    procs = list((getattr(pool, "_processes", None) or {}).values())   # no public handle on the workers
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(5)


class LocalExecutor(Executor):
    """``jobs == 1``: in this process; ``jobs > 1``: that many worker processes (spawned, so it
    behaves the same on Linux, macOS and Windows)."""

    def __init__(self, jobs: int = 1) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be >= 1, got {jobs}")
        self.workers = jobs
        self.label = "this process" if jobs == 1 else f"{jobs} local worker processes"

    def map(self, setup, task, items):
        if self.workers == 1:
            state = setup()
            try:
                for i, item in enumerate(items):
                    yield i, task(state, item)
            finally:
                if callable(getattr(state, "close", None)):   # a state holding a subprocess, say
                    state.close()
            return
        with _one_thread_per_worker(), \
                ProcessPoolExecutor(self.workers, mp_context=_QuietSpawnContext(), initializer=_init_worker,
                                    initargs=(setup,)) as pool:
            try:
                it = enumerate(items)
                running: dict = {}

                def fill() -> None:
                    for i, item in itertools.islice(it, 2 * self.workers - len(running)):
                        running[pool.submit(_run_in_worker, task, item)] = i

                fill()
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for f in sorted(done, key=running.get):
                        yield running.pop(f), f.result()
                    fill()
            except BaseException:      # Ctrl-C, a failed item, the caller stopped early: do not finish the queue
                _stop_now(pool)
                raise


# ------------------------------------------------------------------ Ray
def import_ray():
    """``ray``, or :class:`RayUnavailableError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(f"--ray needs Ray, which is not installed: pip install 'microalign[{RAY_EXTRA}]' "
                                  "(or pip install ray)") from None
    return ray


class _RayWorker:
    """The actor: holds ``setup()``'s state for the life of the job."""

    def __init__(self, setup: Callable[[], Any]) -> None:
        self.state = setup()

    def run(self, task: Callable[[Any, Any], Any], item: Any) -> Any:
        return task(self.state, item)


class RayExecutor(Executor):
    """One Ray actor per worker, each holding the state ``setup()`` builds, fed by :class:`ray.util.ActorPool`.

    ``address``: ``"auto"`` joins the running cluster (``ray start --head`` on this machine, or
    ``RAY_ADDRESS``); ``"local"`` starts a private one-machine cluster for this job; anything
    else (``ray://head:10001``, ``head:6379``) is passed to :func:`ray.init`. If Ray is already
    initialised in this process (a notebook, a test) that session is used. ``workers``: number
    of actors (default: the cluster's CPUs). Each actor asks for ``cpus_per_worker`` CPUs.
    """

    def __init__(self, address: str, workers: int | None = None, cpus_per_worker: float = 1.0) -> None:
        ray = import_ray()
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            kw: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
            if address == "local":
                if workers:
                    kw["num_cpus"] = workers
                ray.init(**kw)
            else:
                ray.init(address=address, **kw)
            self._owns = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers or max(1, int(cpus // cpus_per_worker))
        self.cpus_per_worker = cpus_per_worker
        self.label = f"{self.workers} Ray actors on a cluster of {cpus} CPUs"

    def map(self, setup, task, items):
        from ray.util import ActorPool

        ray = self._ray
        actor_cls = ray.remote(num_cpus=self.cpus_per_worker)(_RayWorker)
        actors = [actor_cls.remote(setup) for _ in range(self.workers)]
        pool = ActorPool(actors)
        itask = _IndexedTask(task)
        try:
            for i, item in enumerate(items):
                while not pool.has_free():       # at most one item per actor in flight: items read lazily
                    yield pool.get_next_unordered()
                pool.submit(lambda a, v: a.run.remote(itask, v), (i, item))
            while pool.has_next():
                yield pool.get_next_unordered()
        finally:
            for a in actors:
                ray.kill(a)

    def close(self) -> None:
        if self._owns:
            self._ray.shutdown()
            self._owns = False


class _IndexedTask:
    """``task`` applied to ``(index, item)``, returning ``(index, result)`` (picklable)."""

    def __init__(self, task) -> None:
        self.task = task

    def __call__(self, state, pair):
        i, item = pair
        return i, self.task(state, item)


def make_executor(jobs: int | None = None, ray: str | None = None) -> Executor:
    """The executor for ``-j/--jobs`` and ``--ray``: Ray actors when ``ray`` is an address, else
    ``jobs`` local processes (default 1: this process)."""
    if ray:
        return RayExecutor(ray, jobs)
    return LocalExecutor(jobs or 1)

