"""Loading a saved Keras model (``model.keras``) with a user-facing error for a missing or unreadable file."""

from __future__ import annotations

from pathlib import Path

from seq2acc.errors import InputError


def load_model(path):
    """The Keras model saved at ``path`` (not compiled: inference only).

    Parameters
    ----------
    path : str or Path
        A saved Keras model, e.g. ``models/fold0/model.keras`` (written by the training stage).

    Returns
    -------
    model : keras.Model
        Uncompiled (no optimizer or loss: use it for :func:`seq2acc.predict_logits`, attribution, ...; compile
        it yourself to train further). A seq2acc model maps one-hot (n, L, 4) to logits (n, n_tasks).

    Raises
    ------
    seq2acc.errors.InputError
        The file does not exist or Keras cannot load it (the message carries Keras's error).
    """
    import keras

    path = Path(path)
    if not path.exists():
        raise InputError(path, "trained model missing", "run the training stage first (`dvc repro train`)")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:  # noqa: BLE001 - any load failure is a user-facing problem with that file
        raise InputError(path, f"cannot load the Keras model: {e}", "re-run `dvc repro train` for this fold") from e
