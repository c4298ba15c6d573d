"""The command line: thin adapters that parse options, call one library function, print what it returns.

The commands are grouped by what they work on, one module per group:

- :mod:`gapsearch.cli.study`: the study itself (``init``, ``run``, ``worker``, ``create``, ``status``,
  ``validate``, ``data``, ``schema``);
- :mod:`gapsearch.cli.results`: its results (``trials``, ``best``, ``compare``, ``evaluate``,
  ``report``, ``dashboard``);
- :mod:`gapsearch.cli.models`: a trial's model (``export``, ``predict``, ``explain``);
- :mod:`gapsearch.cli.options`: the options they share, defined once.

This module holds the click group ``main`` (the entry point, ``--debug``, logging) and the one error
boundary, which turns every :class:`~gapsearch.errors.GapsearchError` into one line per problem and
its exit code. Nothing here decides, computes or formats a result: that is the library's. Heavy
libraries (Keras, TensorFlow) are imported only by the commands that train or load a model, inside them.

May import: every layer (it is the top one, with the Python API); it holds no domain logic.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import click

from gapsearch import __version__
from gapsearch.cli import models, results, study
from gapsearch.errors import GapsearchError


class _ErrorBoundary(click.Group):
    """Turns GapsearchError into one line per problem and its exit code; a traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GapsearchError as error:
            from gapsearch.masking import mask_secrets

            if ctx.params.get("debug"):
                click.echo(mask_secrets(traceback.format_exc()), err=True, nl=False)
            for line in mask_secrets(str(error)).splitlines():
                click.echo(f"error: {line}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; a rerun continues the study", err=True)
            ctx.exit(130)


@click.group(cls=_ErrorBoundary, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks, Optuna's own log and TensorFlow's C++ log.")
@click.version_option(__version__, prog_name="gapsearch")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Search embedding dimension, global pooling and filters of Keras text classifiers with Optuna.

    Example: gapsearch run studies/quickstart.yaml
    """
    from gapsearch.masking import MaskingFormatter
    from gapsearch.runtime import quiet_tensorflow_logging, show_warnings_whole

    quiet_tensorflow_logging(debug=debug)  # before any command imports TensorFlow
    show_warnings_whole()
    ctx.ensure_object(dict)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(MaskingFormatter("%(name)s: %(message)s"))


for _command in (*study.COMMANDS, *results.COMMANDS, *models.COMMANDS):
    main.add_command(_command)

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
