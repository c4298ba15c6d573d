"""Where a trial runs: host, process, device and library versions, recorded on every trial."""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import platform
import socket
import sys
import warnings
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def _stderr_fd_silenced() -> Iterator[None]:
    """Silence file descriptor 2 (C++ logging), leaving Python's own exceptions untouched."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to silence
        yield
        return
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


#: Set to 1 (or run with ``--debug``) to see TensorFlow's and XLA's C++ log lines, which gapsearch hides.
TF_LOG_VARIABLE = "GAPSEARCH_TF_LOG"
#: The Keras backends gapsearch trains with, and the package each needs.
BACKEND_PACKAGES = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}


def tensorflow_log_wanted() -> bool:
    """Whether the user asked for TensorFlow's C++ log (``GAPSEARCH_TF_LOG=1``, or ``--debug``, which sets it)."""
    return os.environ.get(TF_LOG_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def quiet_tensorflow_logging(*, debug: bool = False) -> None:
    """Hide TensorFlow's and XLA's C++ log lines in this process and the processes it starts.

    On a machine without a GPU they read as errors (``failed call to cuInit``, ``oneDNN ...``) and say
    nothing a user can act on; failures still raise Python errors. ``TF_CPP_MIN_LOG_LEVEL`` is read once,
    when TensorFlow's C++ library loads, so this must run before anything imports TensorFlow (the CLI
    calls it first). ``debug`` or ``GAPSEARCH_TF_LOG=1`` keeps TensorFlow's own log level; a
    ``TF_CPP_MIN_LOG_LEVEL`` the user set is kept as well. TensorFlow's Python loggers (``tensorflow``,
    ``absl``) keep their errors only.
    """
    if debug:
        os.environ[TF_LOG_VARIABLE] = "1"  # worker processes and later imports see it too
    if tensorflow_log_wanted():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # TensorFlow's Python side logs too (retracing notes, absl warnings while saving): errors only.
    for name in ("tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)


def quiet_optuna_logging(*, debug: bool = False) -> None:
    """Optuna's own log (one INFO line per trial) only with ``--debug``: the commands print their own lines."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.INFO if debug else optuna.logging.ERROR)


def warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int) -> str:
    """A Python warning as gapsearch prints it: one line, whole, credentials masked, saying what and where:
    ``warning: UserWarning: MESSAGE (at FILE:LINE)``."""
    from gapsearch.masking import mask_secrets

    text = " ".join(str(message).split())
    return mask_secrets(f"warning: {category.__name__}: {text} (at {filename}:{lineno})")


def show_warnings_whole() -> None:
    """Print every Python warning that is shown at all as one :func:`warning_line` on stderr.

    Python's own form is two lines, the second the source line that warned, and unmasked; a worker's lines
    reach ``run`` one by one, prefixed with the worker, so a warning there must be one line to be read whole.
    Which warnings are shown stays Python's choice (``-W``, ``PYTHONWARNINGS``, each once per place).
    """

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001, ANN202, ARG001
        with contextlib.suppress(OSError, ValueError, AttributeError):  # no stderr to write to: as Python's own
            (file or sys.stderr).write(warning_line(message, category, filename, lineno) + "\n")

    warnings.showwarning = show


@contextlib.contextmanager
def optuna_log_level(*, verbose: bool = False) -> Iterator[None]:
    """Optuna's own log at WARNING for the duration (INFO with ``verbose``), then at the level it had.

    For the Python API's ``run``: in a notebook the INFO lines (the new study, each trial) are noise beside
    gapsearch's own output, and the level the user had set before is theirs to keep.
    """
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def check_backend() -> str:
    """The configured Keras backend, once it is known to be one gapsearch trains with and installed.

    Raises:
        UserError: an unknown backend name, or one whose package is missing, in one line.
    """
    from gapsearch.errors import UserError

    name = configured_backend()
    if "keras" in sys.modules:
        return name
    where = "KERAS_BACKEND" if os.environ.get("KERAS_BACKEND") else f"backend in {_keras_json()}"
    accepted = ", ".join(repr(b) for b in BACKEND_PACKAGES)
    if name not in BACKEND_PACKAGES:
        raise UserError(f"{where}: {name!r} is not a Keras backend gapsearch trains with; expected {accepted}")
    package = BACKEND_PACKAGES[name]
    if importlib.util.find_spec(package) is None:
        raise UserError(
            f"{where}: the {name!r} backend needs the {package} package, which is not installed; "
            f"pip install {package}, or use another backend ({accepted})"
        )
    return name


def import_keras() -> None:
    """Import Keras (and its backend) once, without the TensorFlow C++ start-up chatter.

    TensorFlow prints absl log lines while it loads, before any log level applies;
    they say nothing a gapsearch user can act on. Errors still raise normally.

    Raises:
        UserError: the configured backend is unknown or not installed (:func:`check_backend`).
    """
    if "keras" in sys.modules:
        return
    check_backend()
    quiet_tensorflow_logging()
    if tensorflow_log_wanted():
        import keras  # noqa: F401

        return
    with _stderr_fd_silenced():
        import keras  # noqa: F401


def set_random_seed(seed: int) -> None:
    """``keras.utils.set_random_seed``, quietly.

    Where TensorFlow is installed, Keras imports it to seed it too, whatever the backend: under torch and
    JAX that first import would print TensorFlow's start-up chatter in the middle of a run.
    """
    import keras

    if "tensorflow" in sys.modules or tensorflow_log_wanted():
        keras.utils.set_random_seed(seed)
        return
    with _stderr_fd_silenced():
        keras.utils.set_random_seed(seed)


def configured_backend() -> str:
    """The Keras backend this process will use, read the way Keras reads it, without importing Keras.

    ``KERAS_BACKEND`` first, then ``backend`` in ``$KERAS_HOME/keras.json`` (``~/.keras`` by default),
    then TensorFlow; an imported Keras answers for itself.
    """
    if "keras" in sys.modules:
        return str(sys.modules["keras"].backend.backend())
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    try:
        with open(_keras_json()) as file:
            return str(json.load(file).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def _keras_json() -> str:
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "keras.json")


def device_description() -> str:
    """The accelerator Keras computes on (for example ``gpu:0 NVIDIA H200``), or ``cpu``."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            with _stderr_fd_silenced():  # CUDA's probe logs an error on machines without a GPU
                gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                return f"gpu:0 {details.get('device_name', 'GPU')}"
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return f"gpu:0 {torch.cuda.get_device_name(0)}"
        elif backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform != "cpu":
                return f"{device.platform}:0 {device.device_kind}"
    except Exception as error:  # noqa: BLE001 - a device query must never fail a trial
        return f"unknown ({type(error).__name__})"
    return "cpu"


def backend_version() -> str:
    import keras

    backend = keras.backend.backend()
    module = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}.get(backend)
    if module is None:
        return "unknown"
    return str(__import__(module).__version__)


def host_attributes() -> dict[str, Any]:
    """The host, process and GPU this process runs on.

    On a trial the worker loop records them, once, before the trial starts
    (:meth:`gapsearch.workers.registry.WorkerIdentity.placement`); a comparison keeps them with its device.
    """
    return {
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", ""),
    }


def run_attributes() -> dict[str, Any]:
    """The device and versions a trial trains with, as its user attributes (where it runs: :func:`host_attributes`)."""
    import keras

    return {
        "device": device_description(),
        "python_version": platform.python_version(),
        "gapsearch_version": importlib.metadata.version("gapsearch"),
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "backend_version": backend_version(),
    }
