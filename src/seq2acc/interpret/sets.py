"""An attribution set: regions with their one-hot input, contributions, shuffled null and null test (in memory).

Arrays: ``onehot``/``contrib``/``hyp`` (n, L, 4), ``null_onehot``/``null_contrib`` (n, S, L, 4); ``regions`` has
chrom, start, end (the model's input window, 0-based half-open), bin_start, label, logit, n_models, source_fold.
Stored as ``contrib.h5`` by :mod:`seq2acc.artifacts.contrib`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seq2acc.interpret.null import NullTest


@dataclass
class AttributionSet:
    regions: pd.DataFrame  # chrom, start, end, bin_start, label, logit, n_models, source_fold
    onehot: np.ndarray
    contrib: np.ndarray
    hyp: np.ndarray
    null_onehot: np.ndarray
    null_contrib: np.ndarray
    test: NullTest
    attrs: dict
