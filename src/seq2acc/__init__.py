"""seq2acc: DNA sequence -> binarized accessibility, versioned with DVC, tracked with MLflow.

The public API (``seq2acc.<name>``) is the set of functions a notebook user calls; each is documented with the
shapes of its arrays. Names load lazily, so ``import seq2acc`` stays cheap (TensorFlow is imported only by the
functions that need it) and a DVC stage that imports one sub-module does not run the others.

    >>> import seq2acc
    >>> x = seq2acc.onehot("ACGTN")            # (5, 4) float32, N = all-zero row
    >>> model = seq2acc.load_model("models/fold0/model.keras")
    >>> seq2acc.predict_logits(model, windows, task=0, rc_average=True)   # (n,) logits
    >>> seq2acc.score_variants("my.vcf.gz", [f"models/fold{k}/model.keras" for k in (0, 1)],
    ...                        "data/genome/genome.fa", folds="data/folds.json")       # DataFrame, one row a variant
    >>> seq2acc.scan_motifs("my.bed", ["MA0363"])   # JASPAR hits in regions: DataFrame, one row a hit

The layers below (``seq2acc.seq``, ``io``, ``data``, ``model``, ``interpret``, ``evaluate``, ``artifacts``,
``mlops``, ``sim``, ``pipeline``) are described in docs/architecture.md.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    # DNA arrays
    "onehot": "seq2acc.seq.encoding", "decode": "seq2acc.seq.encoding",
    "reverse_complement": "seq2acc.seq.encoding", "dinuc_shuffle": "seq2acc.seq.shuffle",
    # files
    "Genome": "seq2acc.io.fasta", "read_intervals": "seq2acc.io.bed", "read_variants": "seq2acc.io.vcf",
    # models
    "build_model": "seq2acc.model.zoo", "load_model": "seq2acc.model.load", "predict_logits": "seq2acc.model.predict",
    # interpretation
    "contributions": "seq2acc.interpret.attribution", "null_contributions": "seq2acc.interpret.attribution",
    "null_test": "seq2acc.interpret.null", "significant_regions": "seq2acc.interpret.null",
    "fetch_jaspar": "seq2acc.interpret.motifs", "PWMScanner": "seq2acc.interpret.motifs",
    "variant_windows": "seq2acc.interpret.variants", "score_alleles": "seq2acc.interpret.variants",
    "score_variants": "seq2acc.interpret.variants",
    # applications (a trained project on the user's own inputs)
    "explain": "seq2acc.apps.explain", "predict": "seq2acc.apps.predict", "scan_motifs": "seq2acc.apps.scan",
    # evaluation
    "binary_metrics": "seq2acc.evaluate.metrics",
    # ground truth
    "simulate": "seq2acc.sim.simulate",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'seq2acc' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
