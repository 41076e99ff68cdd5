"""Baselines a biologist already has, scored on the same genome-wide bins as the CNN (streamed per chunk).

(a) :class:`PWMBaseline` -- the best log-odds score of the target's JASPAR motif (both strands) within the central
    ``central`` bp of each input window. JASPAR matrices, log-odds and the scanner (numba look-up tables for
    sequences) come from :mod:`seq2acc.interpret.motifs`.
(b) :class:`KmerBaseline` -- logistic regression (scikit-learn) on canonical k-mer counts (a k-mer and its reverse
    complement are one feature) of the central ``window`` bp, trained on the fold's training examples (plus
    genome-wide negatives, as the CNN; the caller builds the table), with the L2 strength chosen on the genome-wide
    bins of the fold's validation chromosomes (:func:`search_C`: the grid is extended past an edge up to a bound). Counts are scaled to unit
    variance (sparse, no centring); the fitted model is linear in the counts, so a window's logit is the intercept
    plus the sum, over the k-mers in the window, of one weight per k-mer: genome-wide scoring is a running sum over
    the chromosome instead of a count matrix (identical to ``decision_function``, tested).
"""

from __future__ import annotations

import logging

import numpy as np

from seq2acc.errors import ArgumentError
from seq2acc.evaluate.scorers import _fetch, _progress, _sorted, span_groups

log = logging.getLogger(__name__)


def _central(context: int, central: int, arg: str) -> int:
    if central <= 0 or central > context or (context - central) % 2:
        raise ArgumentError(arg, f"central window {central} bp must be in (0, {context}] and differ from the input "
                            f"length {context} by an even number", "use e.g. 400 for 1000 bp inputs")
    return (context - central) // 2


# ----------------------------------------------------------------------------- PWM
class PWMBaseline:
    """Best PWM log-odds score (bits) of one motif within the central window, both strands."""

    name = "pwm"

    def __init__(self, motif_id: str, context: int, central: int = 400, release: str | None = None,
                 background=None, pseudocount: float = 0.8, chunk_windows: int = 4096):
        from seq2acc.interpret import motifs

        kw = {"release": release} if release else {}
        try:
            found = motifs.fetch_jaspar(ids=[motif_id], **kw)
        except ArgumentError as e:  # name this function's argument, not fetch_jaspar's
            if e.arg == "ids":
                raise ArgumentError("motif_id", e.problem, e.fix) from e
            raise
        self.motif = found[0]
        self.scanner = motifs.PWMScanner.from_motifs([self.motif], background=background, pseudocount=pseudocount)
        self.width = self.motif.width
        self.context, self.central, self.chunk_windows = int(context), int(central), int(chunk_windows)
        self.offset = _central(self.context, self.central, "central")
        if self.width > self.central:
            raise ArgumentError("central", f"central window {central} bp is narrower than motif "
                                f"{self.motif.id} ({self.width} bp)", f"use at least {self.width}")
        log.info("PWM baseline: %s %s (%d bp), best score within the central %d bp, both strands",
                 self.motif.id, self.motif.name, self.width, self.central)

    @property
    def label(self) -> str:
        return f"PWM {self.motif.id} {self.motif.name}, central {self.central} bp"

    @property
    def short(self) -> str:
        return f"PWM {self.central} bp"

    def position_scores(self, codes: np.ndarray) -> np.ndarray:
        """Best-strand score of the motif at every window start of ``codes`` that fits: (L - w + 1,) float32, from
        numba look-up tables (:meth:`~seq2acc.interpret.motifs.PWMScanner.position_scores`; N adds 0)."""
        return self.scanner.position_scores(codes)

    def score(self, genome, chrom: str, starts, progress: bool = True) -> np.ndarray:
        s, order = _sorted(starts)
        out = np.empty(len(s), dtype=np.float32)
        n_pos = self.central - self.width + 1  # motif start positions inside the central window
        with _progress(len(s), f"{chrom} PWM", progress) as bar:
            for i, j in span_groups(s, self.context, self.chunk_windows):
                a = int(s[i])
                pos = self.position_scores(_fetch(genome, chrom, a, int(s[j - 1]) + self.context))
                first = (s[i:j] - a) + self.offset
                out[i:j] = pos[first[:, None] + np.arange(n_pos)[None, :]].max(axis=1)
                bar.update(j - i)
        res = np.empty_like(out)
        res[order] = out
        return res


# ----------------------------------------------------------------------------- k-mer logistic regression
def canonical_kmer_index(k: int) -> tuple[np.ndarray, int]:
    """Map every k-mer id (base-4, ACGT = 0123, first base most significant) to a feature index shared with its
    reverse complement; returns (lookup of size 4**k, number of features)."""
    ids = np.arange(4 ** k, dtype=np.int64)
    digits = (ids[:, None] // (4 ** np.arange(k - 1, -1, -1))[None, :]) % 4
    rc = ((3 - digits[:, ::-1]) * (4 ** np.arange(k - 1, -1, -1))[None, :]).sum(1)
    canon = np.minimum(ids, rc)
    uniq, lookup = np.unique(canon, return_inverse=True)
    return lookup.astype(np.int64), len(uniq)


def kmer_ids(codes: np.ndarray, k: int) -> np.ndarray:
    """k-mer id starting at every position (length L - k + 1); -1 where the k-mer contains N."""
    codes = np.asarray(codes, dtype=np.int64)
    n = len(codes) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    ids = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    for j in range(k):
        c = codes[j:j + n]
        ids = ids * 4 + np.minimum(c, 3)
        bad |= c > 3
    ids[bad] = -1
    return ids


def search_C(evaluate, grid, bounds, step: float) -> tuple[float, str | None]:
    """Maximise ``evaluate(C)`` (a validation score) over the grid ``grid``, extended past an edge: while the best C
    is the smallest (largest) tried, try ``best / step`` (``best * step``), clipped to ``bounds`` = (low, high).
    Returns (best C, None when interior, "low" / "high" when the best is that bound). Ties: the smallest C."""
    lo, hi = (float(b) for b in bounds)
    vals = {}
    for C in grid:
        vals[float(C)] = evaluate(float(C))
    while True:
        tried = sorted(vals)
        best = max(tried, key=lambda c: vals[c])  # first maximum of the ascending list: the smallest C of a tie
        if best == tried[0] and best > lo:
            nxt = max(best / step, lo)
        elif best == tried[-1] and best < hi:
            nxt = min(best * step, hi)
        else:
            break
        vals[nxt] = evaluate(nxt)
    at = "low" if best <= lo else "high" if best >= hi else None
    return best, at


class KmerBaseline:
    """Logistic regression on canonical k-mer counts of the central window (scikit-learn)."""

    name = "kmer"

    def __init__(self, context: int, k: int = 6, window: int = 200, C=(3e-5, 1e-4, 3e-4, 1e-3), max_iter: int = 2000,
                 seed: int = 0, chunk_windows: int = 4096, C_bounds=None, C_step: float = 10 ** 0.5):
        if not 1 <= k <= 10:
            raise ArgumentError("k", f"k={k} is out of range [1, 10]", "use 4-8 (4**k features before merging strands)")
        self.context, self.k, self.window = int(context), int(k), int(window)
        self.offset = _central(self.context, self.window, "window")
        if self.k > self.window:
            raise ArgumentError("k", f"k={k} is longer than the window ({window} bp)", "use a smaller k")
        self.C = [float(c) for c in C] if isinstance(C, (list, tuple)) else float(C)
        if any(c <= 0 for c in np.atleast_1d(self.C)):
            raise ArgumentError("C", f"{C!r}: regularisation strengths must be > 0", "use e.g. [1e-4, 1e-3]")
        grid = np.atleast_1d(self.C)
        if C_bounds is None:  # no extension: the grid is all that is tried
            C_bounds = (float(grid.min()), float(grid.max()))
        lo, hi = (float(b) for b in C_bounds)
        if not (0 < lo <= grid.min() and grid.max() <= hi < np.inf):
            raise ArgumentError("C_bounds", f"{list(C_bounds)!r} must be [low, high] with 0 < low <= min(C) and "
                                f"high >= max(C) (C = {grid.tolist()})", "use e.g. [1e-7, 1.0]")
        if not C_step > 1:
            raise ArgumentError("C_step", f"{C_step!r} must be > 1", "use 10 ** 0.5 (half a decade)")
        self.C_bounds, self.C_step = (lo, hi), float(C_step)
        self.max_iter, self.seed, self.chunk_windows = int(max_iter), int(seed), int(chunk_windows)
        self.selection: list[dict] = []
        self.chosen_C = None
        self.valid_scores = None  # set by fit: the chosen model's logits of the validation bins
        self.C_at_bound = None  # "low" / "high" when the best C is a bound of C_bounds (the search could go no further)
        self.n_train = self.n_train_positive = 0
        self.lookup, self.n_features = canonical_kmer_index(self.k)
        self.weights = None  # per feature, in raw-count units
        self.intercept = 0.0
        self.pipeline = None

    @property
    def label(self) -> str:
        return f"{self.k}-mer logistic regression, central {self.window} bp"

    @property
    def short(self) -> str:
        return f"{self.k}-mer LR"

    def info(self) -> dict:
        """What was fitted and chosen (``predictions/fold<K>/info.json``; ``chosen_C`` and ``C_at_bound`` also go to
        ``evaluate.json``)."""
        return {"k": self.k, "window": self.window, "chosen_C": self.chosen_C, "C_at_bound": self.C_at_bound,
                "C_bounds": list(self.C_bounds), "n_train": self.n_train, "n_train_positive": self.n_train_positive,
                "selection": self.selection}

    def _feature_track(self, codes: np.ndarray) -> np.ndarray:
        ids = kmer_ids(codes, self.k)
        return np.where(ids >= 0, self.lookup[np.maximum(ids, 0)], -1)

    def counts(self, genome, chrom: str, starts):
        """Sparse (n, n_features) canonical k-mer counts of the central windows (scipy CSR, float64)."""
        import scipy.sparse as sp

        s, order = _sorted(starts)
        n_kmers = self.window - self.k + 1
        rows, cols = [], []
        for i, j in span_groups(s, self.context, self.chunk_windows):
            a = int(s[i])
            feat = self._feature_track(_fetch(genome, chrom, a, int(s[j - 1]) + self.context))
            f = feat[((s[i:j] - a) + self.offset)[:, None] + np.arange(n_kmers)[None, :]].ravel()
            r = np.repeat(np.arange(i, j), n_kmers)
            ok = f >= 0
            rows.append(r[ok])
            cols.append(f[ok])
        r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        X = sp.coo_matrix((np.ones(len(r)), (r, c)), shape=(len(s), self.n_features)).tocsr()
        X.sum_duplicates()
        inv = np.empty_like(order)
        inv[order] = np.arange(len(order))
        return X[inv]

    def training_counts(self, genome, table):
        """``(X, order)``: canonical k-mer counts of every row of an example table (``chrom``, ``start``), grouped by
        chromosome (sorted), and the table positions of X's rows. Several tasks' baselines with the same ``k`` and
        ``window`` fitted on one table share it (``fit(..., counts=...)``)."""
        import scipy.sparse as sp

        groups = list(table.reset_index(drop=True).groupby("chrom", sort=True))
        X = sp.vstack([self.counts(genome, c, g.start.to_numpy()) for c, g in groups]).tocsr()
        return X, np.concatenate([g.index.to_numpy() for _, g in groups])

    def _training_matrix(self, genome, table, label: str = "label", counts=None):
        X, order = counts if counts is not None else self.training_counts(genome, table)
        y = table[label].to_numpy()[order]
        keep = (y == 0) | (y == 1)  # a missing label (seq2acc.data.store.MISSING_LABEL) is not trained on
        return (X, y) if keep.all() else (X[np.flatnonzero(keep)], y[keep])

    def fit(self, genome, table, valid_bins=None, label: str = "label", counts=None) -> "KmerBaseline":
        """Fit on an example table (``chrom``, ``start``, ``label``: the fold's training examples, optionally with
        genome-wide negatives of the training chromosomes added, as ``evaluate@K`` does). ``label``: the label column
        (one task of several: ``label:<task>``; rows without a label are left out); ``counts``: the table's
        :meth:`training_counts`, when already computed.

        With several ``C`` and ``valid_bins`` -- ``[(chrom, context_starts, labels), ...]``, the genome-wide bins of
        the fold's validation chromosomes -- the model with the best validation AUPRC is kept (chosen the way the
        models are judged; validation bins are never trained on). When the best C is the smallest (largest) tried,
        the grid is extended by ``C_step`` in that direction until the best is interior or the bound ``C_bounds``
        is reached (``C_at_bound`` = "low" / "high" then, else None). Otherwise the first ``C`` is used.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import average_precision_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X, y = self._training_matrix(genome, table, label, counts)
        if len(np.unique(y)) < 2:
            raise ArgumentError("table", f"the training examples have a single class ({np.unique(y).tolist()}) in "
                                f"column {label!r}", "check the dataset stage")
        self.n_train, self.n_train_positive = int(len(y)), int(y.sum())
        grid = list(self.C) if isinstance(self.C, (list, tuple)) else [self.C]
        yv = np.concatenate([np.asarray(lab) for _, _, lab in valid_bins]) if valid_bins else None
        if yv is None or len(grid) == 1 or not 0 < yv.sum() < len(yv):
            grid, yv = grid[:1], None
        self.selection, fitted = [], {}

        def run(C: float) -> float | None:
            pipe = make_pipeline(StandardScaler(with_mean=False),
                                 LogisticRegression(C=C, max_iter=self.max_iter, random_state=self.seed))
            pipe.fit(X, y)
            self._set(pipe)
            val = None
            if yv is not None:
                sv = np.concatenate([self.score(genome, c, st, progress=False) for c, st, _ in valid_bins])
                val = float(average_precision_score(yv, sv))
            self.selection.append({"C": C, "valid_genomewide_auprc": val})
            fitted[C] = (val, pipe, sv if yv is not None else None)
            return val

        if yv is None:
            run(float(grid[0]))
            best, self.C_at_bound = float(grid[0]), None
        else:
            best, self.C_at_bound = search_C(run, grid, self.C_bounds, self.C_step)
        self.chosen_C = float(best)
        self._set(fitted[best][1])
        # the chosen model's logits of the validation bins (in ``valid_bins`` order; None when no selection ran):
        # whoever needs them next (the fold's calibration) need not score the validation chromosomes again
        self.valid_scores = fitted[best][2]
        log.info("k-mer baseline: k=%d (%d canonical features), %d training examples (%d positive), C=%g "
                 "(selection %s)", self.k, self.n_features, len(y), self.n_train_positive, self.chosen_C, self.selection)
        if self.C_at_bound:
            log.warning("k-mer baseline: the chosen C=%g is the %s bound of C_bounds %s: the best regularisation may "
                        "lie beyond it", self.chosen_C, self.C_at_bound, list(self.C_bounds))
        return self

    def _set(self, pipe) -> None:
        scaler, lr = pipe[0], pipe[1]
        scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
        self.pipeline = pipe
        self.weights = (lr.coef_[0] / scale).astype(np.float64)
        self.intercept = float(lr.intercept_[0])

    def score(self, genome, chrom: str, starts, progress: bool = True) -> np.ndarray:
        """Logits of the windows (running sum of per-k-mer weights; equals ``pipeline.decision_function``)."""
        if self.weights is None:
            raise RuntimeError("KmerBaseline.fit first")
        s, order = _sorted(starts)
        out = np.empty(len(s), dtype=np.float32)
        n_kmers = self.window - self.k + 1
        w_ext = np.concatenate([self.weights, [0.0]])  # feature -1 (k-mer with N) -> weight 0
        with _progress(len(s), f"{chrom} k-mer", progress) as bar:
            for i, j in span_groups(s, self.context, self.chunk_windows):
                a = int(s[i])
                w = w_ext[self._feature_track(_fetch(genome, chrom, a, int(s[j - 1]) + self.context))]
                cs = np.concatenate([[0.0], np.cumsum(w)])
                first = (s[i:j] - a) + self.offset
                out[i:j] = self.intercept + cs[first + n_kmers] - cs[first]
                bar.update(j - i)
        res = np.empty_like(out)
        res[order] = out
        return res
