"""Loading an exported model: only gapsearch's own raw-text models are accepted, with one-line errors.

Importing this module imports no Keras: a missing file is answered before the backend starts, and Keras
is imported the quiet way (:func:`gapsearch.runtime.import_keras`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gapsearch.errors import UserError

if TYPE_CHECKING:
    from gapsearch.models.text_classifier import TextClassifier


def load_text_classifier(path: Path) -> TextClassifier:
    """Load an exported model with ``keras.saving.load_model``; only gapsearch's own models are accepted."""
    if not path.is_file():
        raise UserError(f"MODEL: {str(path)!r} does not exist; export one with gapsearch export STUDY.yaml -o FILE")
    from gapsearch.runtime import import_keras

    import_keras()
    import keras

    from gapsearch.models.text_classifier import TextClassifier

    try:
        model = keras.saving.load_model(path)
    except (ValueError, OSError, TypeError) as error:
        reason = " ".join(str(error).split())[:300]
        raise UserError(f"MODEL: {str(path)!r} is not a Keras model file: {reason}") from None
    if not isinstance(model, TextClassifier):
        raise UserError(
            f"MODEL: {str(path)!r} is a {type(model).__name__}, not a gapsearch model that takes raw text; "
            "export one with gapsearch export"
        )
    return model
