"""SIGINT and SIGTERM as a clean stop: the running trial ends as FAIL (and is queued again), the worker exits."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class WorkerInterrupted(BaseException):
    """Raised inside a running trial when the worker is told to stop.

    A BaseException, like KeyboardInterrupt, so that the objective's catch-all for
    failed trials does not swallow it.
    """

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class StopSignals:
    """Catches SIGINT and SIGTERM while installed.

    Outside a trial a signal only sets :attr:`requested`, and the worker loop stops before
    the next trial. Inside :meth:`interruptible` it also raises :class:`WorkerInterrupted`
    at once (between two training batches), so a long trial does not delay the stop.
    A second signal while stopping is ignored: the stop is already under way.
    """

    def __init__(self) -> None:
        self.requested: str | None = None
        self._in_trial = False
        self._previous: dict[int, Any] = {}

    def install(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def __enter__(self) -> StopSignals:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.restore()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested is not None:
            return
        self.requested = signal.Signals(signum).name
        if self._in_trial:
            self._in_trial = False
            raise WorkerInterrupted(self.requested)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """Run a trial; a stop signal raises :class:`WorkerInterrupted` inside it."""
        if self.requested is not None:
            raise WorkerInterrupted(self.requested)
        self._in_trial = True
        try:
            yield
        finally:
            self._in_trial = False
