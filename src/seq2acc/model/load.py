"""Loading a saved Keras model (``model.keras``) with a user-facing error for a missing or unreadable file."""

from __future__ import annotations

from pathlib import Path

from seq2acc.errors import InputError


def load_model(path):
    """The Keras model saved at ``path`` (not compiled: inference only)."""
    import keras

    path = Path(path)
    if not path.exists():
        raise InputError(path, "trained model missing", "run the training stage first (`dvc repro train`)")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:  # noqa: BLE001 - any load failure is a user-facing problem with that file
        raise InputError(path, f"cannot load the Keras model: {e}", "re-run `dvc repro train` for this fold") from e
