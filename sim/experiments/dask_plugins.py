"""Dask worker plugins (imported only with the Dask backend, which needs ``distributed``)."""

from __future__ import annotations

import os
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class ParentWatch(WorkerPlugin):
    """A worker process of a local cluster exits when the process that started the cluster dies
    (``sim.experiments.worker.watch_parent``); workers started by others are left alone."""

    idempotent = True

    def __init__(self, parent: int):
        self.parent = parent

    def setup(self, worker: Any) -> None:
        from sim.experiments.worker import watch_parent

        if os.getppid() == self.parent:
            watch_parent(self.parent)
