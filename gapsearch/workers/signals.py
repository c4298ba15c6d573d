"""SIGINT and SIGTERM as a clean stop: the running trial ends as FAIL (and is queued again), the worker exits."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_RETRY_SECONDS = 0.5


class WorkerInterrupted(BaseException):
    """Raised inside a running trial when the worker is told to stop.

    A BaseException, like KeyboardInterrupt, so that the objective's catch-all for
    failed trials does not swallow it.
    """

    def __init__(self, signal_name: str = "") -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class StopSignals:
    """Catches SIGINT and SIGTERM while installed.

    Outside a trial a signal only sets :attr:`requested`, and the worker loop stops before
    the next trial. Inside :meth:`interruptible` it also raises :class:`WorkerInterrupted`
    in the main thread, so a long trial does not delay the stop: at once from the handler,
    and again every half second while the trial is still running, because Python drops an
    exception raised while it runs a garbage-collection callback, and the handler can land
    in one. A second signal while stopping is ignored: the stop is already under way.
    """

    def __init__(self) -> None:
        self.requested: str | None = None
        self._in_trial = False
        self._lock = threading.Lock()
        self._previous: dict[int, Any] = {}
        self._previous_hook = sys.unraisablehook
        self._main_thread_id = threading.main_thread().ident

    def install(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
            self._previous_hook = sys.unraisablehook
            sys.unraisablehook = self._unraisable
        return self

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        if self._previous:
            sys.unraisablehook = self._previous_hook
        self._previous.clear()

    def _unraisable(self, unraisable: Any) -> None:
        """Drop a WorkerInterrupted that Python could not raise (it is raised again); report anything else."""
        if not isinstance(unraisable.exc_value, WorkerInterrupted):
            self._previous_hook(unraisable)

    def __enter__(self) -> StopSignals:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.restore()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested is not None:
            return
        self.requested = signal.Signals(signum).name
        if self._in_trial:
            threading.Thread(target=self._keep_interrupting, name="gapsearch-stop", daemon=True).start()
            raise WorkerInterrupted(self.requested)

    def _keep_interrupting(self) -> None:
        """Raise WorkerInterrupted in the main thread again until the trial has ended."""
        stopped = threading.Event()
        while not stopped.wait(_RETRY_SECONDS):
            with self._lock:  # interruptible() leaves the trial under the same lock: never raise after it
                if not self._in_trial:
                    return
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._main_thread_id or 0), ctypes.py_object(WorkerInterrupted)
                )

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """Run a trial; a stop signal raises :class:`WorkerInterrupted` inside it."""
        if self.requested is not None:
            raise WorkerInterrupted(self.requested)
        self._in_trial = True
        try:
            yield
        finally:
            with self._lock:
                self._in_trial = False
