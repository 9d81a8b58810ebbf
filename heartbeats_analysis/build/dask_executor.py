"""Agency builds as Dask tasks: a LocalCluster by default, or a running dask.distributed scheduler.

Each Dask worker process keeps its own pool of warm kernels for as long as it lives (a worker plugin
opens it on first use and closes it when the worker stops), so the kernels start and import the
analysis stack once per worker, not once per brief. The client cleans the data once before any build
is submitted; the workers read the cleaned tables from the shared processed folder, which for a
remote cluster must be on storage every worker sees (docs/scaling.md). Every task returns a
BatchResult: one agency's failure is that agency's result, exactly as with the default executor.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from distributed import WorkerPlugin

from heartbeats_analysis.build.kernel_pool import KernelPool
from heartbeats_analysis.build.pdf import PdfRenderer

PLUGIN_NAME = "heartbeats-kernels"
# The folders and settings a worker must share with the client that submitted the builds.
SHARED_ENV_PREFIX = "HEARTBEATS_"


class WarmKernelsPlugin(WorkerPlugin):
    """A worker plugin holding this worker's warm kernel pool and PDF browser."""

    name = PLUGIN_NAME

    def __init__(self, kernels_per_worker: int = 1):
        self.kernels_per_worker = kernels_per_worker
        self._pool: KernelPool | None = None
        self._pdfs: PdfRenderer | None = None
        self._lock: threading.Lock | None = None  # made on the worker: a lock does not travel by pickle

    def setup(self, worker) -> None:  # called by dask on each worker when the plugin is registered
        self._pool = None
        self._pdfs = None
        self._lock = threading.Lock()

    def pool(self) -> KernelPool:
        with self._lock:
            if self._pool is None or self._pool.closed:
                self._pool = KernelPool(self.kernels_per_worker)
            return self._pool

    def pdfs(self) -> PdfRenderer:
        with self._lock:
            if self._pdfs is None:
                self._pdfs = PdfRenderer()  # the browser starts with the worker's first PDF
            return self._pdfs

    def teardown(self, worker) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
            if self._pdfs is not None:
                self._pdfs.close()
                self._pdfs = None


def _build_on_worker(agency: str, with_pdf: bool, sets: list[str], env: dict[str, str]):
    """Runs on a Dask worker: one agency's build with this worker's warm kernels."""
    from distributed import get_worker

    from heartbeats_analysis.build.batch import build_one

    os.environ.update(env)  # the client's data, report and mirror folders
    plugin = get_worker().plugins[PLUGIN_NAME]
    return build_one(agency, with_pdf, sets, plugin.pool(), plugin.pdfs())


@contextmanager
def dask_client(scheduler: str | None, workers: int):
    """A client on the named scheduler, or on a LocalCluster of `workers` single-threaded processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_on_dask(
    names: Iterable[str],
    with_pdf: bool,
    sets: list[str],
    scheduler: str | None,
    workers: int,
    on_result: Callable[[object], None],
) -> list:
    """Submit one task per agency and hand each BatchResult to on_result as it arrives."""
    from distributed import as_completed

    env = {k: v for k, v in os.environ.items() if k.startswith(SHARED_ENV_PREFIX)}
    results = []
    with dask_client(scheduler, workers) as client:
        client.register_plugin(WarmKernelsPlugin(), name=PLUGIN_NAME)
        futures = [
            client.submit(_build_on_worker, name, with_pdf, list(sets), env, key=f"brief-{name}", pure=False)
            for name in names
        ]
        try:
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                on_result(result)
        except BaseException:  # Ctrl-C: cancel what has not run; the cluster closes with the context
            client.cancel(futures)
            raise
    return results
