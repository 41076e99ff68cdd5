"""``contrib.h5``: contribution scores, their shuffled null and significance of a set of regions (attribute stages).

HDF5 layout (``modisco motifs -i contrib.h5 -n 2000`` reads it as is): ``input_seqs`` (n, L, 4) one-hot,
``hyp_scores`` (n, L, 4) hypothetical contributions, ``contrib_scores`` (n, L, 4) actual-base contributions,
``pvalues/position`` + ``qvalues/position`` (n, L), ``pvalues/window`` + ``qvalues/window`` (n, L - window + 1;
window i covers [i, i + window)), ``null/input_seqs`` and ``null/contrib_scores`` (n, S, L, 4),
``regions/{chrom,start,end,bin_start,label,logit,n_models,source_fold}`` (start/end = the model's input window,
0-based half-open), attributes with every setting.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from seq2acc.errors import InputError
from seq2acc.interpret.null import NullTest
from seq2acc.interpret.sets import AttributionSet
from seq2acc.io.atomic import atomic_path


SCHEMA = 1


_COMP = dict(compression="gzip", compression_opts=4, shuffle=True)


def write_attribution(path: Path, a: AttributionSet) -> None:
    def chunks(shape):
        return (1,) + tuple(shape[1:]) if shape[0] > 0 else None

    with atomic_path(path, suffix=".h5.tmp") as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update({k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in a.attrs.items()})
        f.attrs["schema_version"] = SCHEMA
        n = len(a.regions)
        for name, arr in (("input_seqs", a.onehot), ("hyp_scores", a.hyp), ("contrib_scores", a.contrib)):
            f.create_dataset(name, data=arr.astype(np.float32), chunks=chunks(arr.shape), **(_COMP if n else {}))
        for grp, pv, qv in (("position", a.test.position_p, a.test.position_q),
                            ("window", a.test.window_p, a.test.window_q)):
            f.create_dataset(f"pvalues/{grp}", data=pv.astype(np.float32), **(_COMP if n else {}))
            f.create_dataset(f"qvalues/{grp}", data=qv.astype(np.float32), **(_COMP if n else {}))
        f["pvalues"].attrs.update(window=a.test.window, tail=a.test.tail)
        f.create_dataset("null/input_seqs", data=a.null_onehot.astype(np.uint8), **(_COMP if n else {}))
        f.create_dataset("null/contrib_scores", data=a.null_contrib.astype(np.float32), **(_COMP if n else {}))
        r = a.regions
        f.create_dataset("regions/chrom", data=r.chrom.astype(str).to_numpy().astype("S"))
        for col, dt in (("start", np.int64), ("end", np.int64), ("bin_start", np.int64), ("label", np.int8),
                        ("logit", np.float32), ("n_models", np.int16), ("source_fold", np.int16)):
            f.create_dataset(f"regions/{col}", data=r[col].to_numpy().astype(dt))


def read_attribution(path, arrays: bool = True) -> AttributionSet:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "attribution file missing", "run `dvc repro attribute`")
    with h5py.File(path, "r") as f:
        attrs = {k: f.attrs[k] for k in f.attrs}
        g = f["regions"]
        regions = pd.DataFrame({"chrom": [c.decode() for c in g["chrom"][:]]})
        for col in ("start", "end", "bin_start", "label", "logit", "n_models", "source_fold"):
            regions[col] = g[col][:]
        test = NullTest(f["pvalues/position"][:], f["qvalues/position"][:], f["pvalues/window"][:],
                        f["qvalues/window"][:], int(f["pvalues"].attrs["window"]), str(f["pvalues"].attrs["tail"]))
        get = (lambda k: f[k][:]) if arrays else (lambda k: None)
        return AttributionSet(regions, get("input_seqs"), get("contrib_scores"), get("hyp_scores"),
                              get("null/input_seqs"), get("null/contrib_scores"), test, attrs)
