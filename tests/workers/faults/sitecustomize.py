"""Faults injected into real gapsearch trials, for the tests alone: on PYTHONPATH only where a test puts it.

Python imports ``sitecustomize`` at start-up; this one patches gapsearch's objective once it is imported,
as ``$GAPSEARCH_TEST_FAULT`` says (nothing in the package knows of it):

- ``segfault-trial:N``: the trial whose first attempt is number N (and each of its retries) kills its own
  process by SIGSEGV before it trains, as TensorFlow does on an allocation it cannot make;
- ``stop-as-error``: a stop (WorkerInterrupted) raised while a model trains comes out of ``fit_run`` as a
  SystemError, as it did from inside TensorFlow's step;
- ``warn-in-trial``: every trial warns, before it trains, with :data:`WARNING` (long, on several lines,
  holding a URL with a password), as a library warns inside a trial.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import signal
import sys

FAULT = os.environ.get("GAPSEARCH_TEST_FAULT", "")
TARGET = "gapsearch.search.objective"
WARNING = (
    "this library's behaviour will change in its next release: the argument that used to default to\n"
    "    the old value now defaults to the new one, which changes the results of every model trained with it;\n"
    "    pass it explicitly to keep the old behaviour (seen connecting to postgresql://alice:hunter22@db/x),\n"
    "    and read the release notes for what else changes before you upgrade: the end."
)


def _patch(module) -> None:  # noqa: ANN001 - gapsearch.search.objective
    if FAULT.startswith("segfault-trial:"):
        number = int(FAULT.split(":", 1)[1])
        train = module.Objective._train

        def _train(self, trial, hp, resume):  # noqa: ANN001, ANN202
            from gapsearch.search.selection import first_attempt_number

            if first_attempt_number(trial) == number:
                os.kill(os.getpid(), signal.SIGSEGV)
            return train(self, trial, hp, resume)

        module.Objective._train = _train
    elif FAULT == "stop-as-error":
        fit_run = module.fit_run

        def stop_as_error(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            try:
                return fit_run(*args, **kwargs)
            except BaseException as error:
                if type(error).__name__ != "WorkerInterrupted":
                    raise
                raise SystemError("<built-in function TFE_Py_Execute> bad argument to internal function") from None

        module.fit_run = stop_as_error
    elif FAULT == "warn-in-trial":
        import warnings

        train = module.Objective._train

        def warn_then_train(self, trial, hp, resume):  # noqa: ANN001, ANN202
            warnings.warn(WARNING, FutureWarning, stacklevel=1)
            return train(self, trial, hp, resume)

        module.Objective._train = warn_then_train


class _PatchOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):  # noqa: ANN001, ANN201
        if name != TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.loader is not None
        execute = spec.loader.exec_module

        def exec_module(module) -> None:  # noqa: ANN001
            execute(module)
            _patch(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if FAULT:
    sys.meta_path.insert(0, _PatchOnImport())
