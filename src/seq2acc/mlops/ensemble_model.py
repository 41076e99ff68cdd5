"""The fold ensemble as one MLflow pyfunc model: what ``models:/<name>@champion`` loads.

:class:`FoldEnsemble` holds every fold's Keras model (``models/fold<K>/model.keras``, logged as pyfunc artifacts)
and its calibration (``predictions/fold<K>/info.json``, fitted by ``evaluate@K`` on the fold's validation
chromosomes). Its prediction for a window is the MEAN OVER FOLDS OF THE CALIBRATED LOGITS, each fold's logit
averaged over both strands first (``rc_average``, as the evaluation scores windows), computed with the project's
one predict primitive :func:`seq2acc.model.predict.predict_logits`.

Input: a pandas DataFrame with a ``sequence`` column of DNA strings of the model's input length (A, C, G, T, N;
case-insensitive; N = unknown base) -- what MLflow makes of a served ``{"inputs": ["ACGT...", ...]}`` or
``{"dataframe_records": [{"sequence": "ACGT..."}]}`` -- or a float32 one-hot array ``(n, L, 4)`` (A, C, G, T
columns). Output: a DataFrame with ``logit`` (the ensemble's calibrated logit) and ``probability`` (its sigmoid).

The logged model imports ``seq2acc`` when loaded (``mlflow.pyfunc.load_model`` and ``mlflow models serve`` need an
environment with seq2acc installed, as the project's venv); its requirements pin the same packages as the fold
models (:func:`seq2acc.mlops.tracking.pinned_requirements`).
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path

import numpy as np

from seq2acc.errors import InputError
from seq2acc.io.bigwig import sigmoid

log = logging.getLogger(__name__)

CONFIG_ARTIFACT = "ensemble"
CONFIG_FILE = "ensemble.json"
SEQUENCE_COLUMN = "sequence"
_NOT_DNA = re.compile(r"[^ACGTNacgtn]")


def ensemble_logits(models: dict, calibration: dict, onehot: np.ndarray, rc_average: bool = True) -> np.ndarray:
    """Mean over ``models`` (fold -> Keras model) of each fold's calibrated logit (``calibration``: fold ->
    ``{a, b}``, a missing fold = identity) for one-hot ``(n, L, 4)``; float64, shape ``(n,)``."""
    from seq2acc.evaluate.calibration import mean_calibrated
    from seq2acc.model.predict import predict_logits

    return mean_calibrated({k: predict_logits(m, onehot, 0, rc_average=rc_average) for k, m in models.items()},
                           calibration)


def to_onehot(model_input, length: int) -> np.ndarray:
    """One-hot ``(n, length, 4)`` float32 of a DataFrame with a ``sequence`` column (DNA strings) or of a one-hot
    array; raises :class:`~seq2acc.errors.InputError` naming the first bad row and the fix."""
    import pandas as pd

    from seq2acc.seq.encoding import encode, onehot_codes

    if isinstance(model_input, pd.DataFrame):
        if SEQUENCE_COLUMN not in model_input.columns:
            raise InputError("model input", f"no '{SEQUENCE_COLUMN}' column (columns: {list(model_input.columns)})",
                             f"give a DataFrame with a '{SEQUENCE_COLUMN}' column of {length} bp DNA strings, e.g. "
                             f'{{"dataframe_records": [{{"{SEQUENCE_COLUMN}": "ACGT..."}}]}}')
        seqs = model_input[SEQUENCE_COLUMN].tolist()
        if not seqs:
            return np.zeros((0, length, 4), np.float32)
        for i, s in enumerate(seqs):
            if not isinstance(s, str):
                raise InputError(f"model input row {i}", f"sequence is a {type(s).__name__}, not a string",
                                 f"give each row's '{SEQUENCE_COLUMN}' as a DNA string of {length} bp")
            if len(s) != length:
                raise InputError(f"model input row {i}", f"sequence is {len(s)} bp but the model takes {length} bp",
                                 f"give sequences of exactly {length} bp (cut or extend them with genomic flanks)")
            bad = _NOT_DNA.search(s)
            if bad:
                raise InputError(f"model input row {i}", f"character {bad.group()!r} at position {bad.start()} is "
                                 "not a DNA letter", "use only A, C, G, T and N (any case; N for unknown or "
                                 "ambiguous bases)")
        return onehot_codes(np.stack([encode(s) for s in seqs]))
    x = np.asarray(model_input, dtype=np.float32)
    if x.ndim == 2 and x.shape[-1] == 4:
        x = x[None]
    if x.ndim != 3 or x.shape[1:] != (length, 4):
        raise InputError("model input", f"array of shape {x.shape}; the model takes one-hot (n, {length}, 4)",
                         f"give a float32 one-hot array (n, {length}, 4) (columns A, C, G, T) or a DataFrame with a "
                         f"'{SEQUENCE_COLUMN}' column")
    return x


try:
    from mlflow.pyfunc import PythonModel as _Base
except ImportError:  # pragma: no cover - mlflow is a project dependency
    _Base = object


class FoldEnsemble(_Base):
    """MLflow pyfunc: the mean calibrated, strand-averaged logit of the fold models (see the module docstring)."""

    def load_context(self, context):
        from seq2acc.model.load import load_model

        cfg = json.loads(Path(context.artifacts[CONFIG_ARTIFACT]).read_text())
        self.folds = [int(k) for k in cfg["folds"]]
        self.rc_average = bool(cfg["rc_average"])
        self.calibration = {int(k): v for k, v in (cfg.get("calibration") or {}).items() if v is not None}
        self.models = {k: load_model(context.artifacts[f"fold{k}"]) for k in self.folds}
        self.input_length = int(next(iter(self.models.values())).input_shape[1])

    def predict(self, context, model_input, params=None):
        import pandas as pd

        x = to_onehot(model_input, self.input_length)
        z = ensemble_logits(self.models, self.calibration, x, self.rc_average) if len(x) else np.zeros(0)
        return pd.DataFrame({"logit": z, "probability": sigmoid(z)})


def signature():
    """DataFrame ``sequence`` (string) -> ``logit``, ``probability`` (double)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    return ModelSignature(inputs=Schema([ColSpec("string", SEQUENCE_COLUMN)]),
                          outputs=Schema([ColSpec("double", "logit"), ColSpec("double", "probability")]))


def log_ensemble(model_paths: dict, calibration: dict, rc_average: bool, registered_model_name: str | None = None,
                 pip_requirements: list[str] | None = None, name: str = "ensemble"):
    """Log :class:`FoldEnsemble` of ``model_paths`` (fold -> ``model.keras``) with ``calibration`` (fold -> cal or
    None = identity) into the ACTIVE MLflow run, registering it under ``registered_model_name``; returns
    MLflow's ``ModelInfo``."""
    import mlflow

    folds = sorted(int(k) for k in model_paths)
    cfg = {"folds": folds, "rc_average": bool(rc_average),
           "calibration": {str(k): calibration.get(k) for k in folds},
           "combine": "mean over folds of calibrated, strand-averaged logits"}
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = Path(tmp) / CONFIG_FILE
        cfg_path.write_text(json.dumps(cfg, indent=2, default=float))
        artifacts = {CONFIG_ARTIFACT: str(cfg_path), **{f"fold{k}": str(model_paths[k]) for k in folds}}
        return mlflow.pyfunc.log_model(name=name, python_model=FoldEnsemble(), artifacts=artifacts,
                                       signature=signature(), pip_requirements=pip_requirements,
                                       registered_model_name=registered_model_name)
