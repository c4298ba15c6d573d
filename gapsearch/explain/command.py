"""``gapsearch explain``: an exported model's explanations of texts, or its channel report, rendered."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
