"""``gapsearch explain``: an exported model's explanations of texts, or its channel report, rendered and written."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from gapsearch.errors import UserError


def explain_command(
    model_file: Path, texts: Sequence[str], *, class_name: str | None, fmt: str, channels: bool, color: bool
) -> str:
    """The texts' explanations, or with ``channels`` the channel report, rendered as ``fmt``."""
    from gapsearch.explain.render import render, render_channels
    from gapsearch.models.loading import load_text_classifier

    if channels and class_name is not None:
        raise UserError("--class does not go with --channels: the channel report shows every class's votes")
    model = load_text_classifier(model_file)
    if channels:
        from gapsearch.explain.channels import model_channels

        found, source = model_channels(model, texts)
        return render_channels(found, fmt, source=source)
    from gapsearch.explain.texts import explain_texts

    return render(explain_texts(model, texts, class_name), fmt, color=color)


def explain_to(
    model_file: Path,
    texts: Sequence[str],
    *,
    class_name: str | None,
    fmt: str,
    channels: bool,
    output: Path | None,
    stdout: TextIO,
) -> str:
    """What ``gapsearch explain`` prints: the page itself, or with ``output`` the page written there and a line.

    The table is coloured only when it goes to a terminal that supports colour (and ``NO_COLOR`` is unset).
    """
    from gapsearch.explain.render import terminal_supports_color

    color = output is None and fmt == "table" and terminal_supports_color(stdout)
    page = explain_command(model_file, texts, class_name=class_name, fmt=fmt, channels=channels, color=color)
    if output is None:
        return page
    try:
        output.write_text(page + "\n", encoding="utf-8")
    except OSError as error:
        raise UserError(f"-o: cannot write {str(output)!r}: {error.strerror}") from None
    return f"explanation written to {output}"
