"""Motif databases and PWM scanning (protocol 3.4 step 2, note 27).

- :func:`fetch_jaspar` reads JASPAR matrices from the SQLite databases that ship inside pyjaspar (no network).
- :func:`log_odds` turns a count matrix into a log2-odds PWM (bits) against a background, with a pseudocount.
- :class:`PWMScanner` holds every PWM, forward and reverse complement. DNA sequences are scanned by a numba k-mer
  index with branch and bound (:mod:`seq2acc.interpret.seqscan`: only candidate windows are scored); contribution
  scores (every window needed) by ONE frozen Keras ``Conv1D`` (built on first use), both strands at once.
  Scores are log2-odds sums (the same number FIMO reports); p-values come from the exact score distribution of each PWM under the background
  (dynamic programming over discretised scores, as FIMO does), so ``p(score) = P(S >= score)`` for a random
  background sequence.
- :meth:`PWMScanner.hits` reports FIMO-style hits (p-value below a threshold); :meth:`PWMScanner.contribution_hits`
  scans contribution scores (contribution-weighted one-hot) and keeps a window only where the sequence itself
  also matches the PWM (note 27). :func:`motif_enrichment` compares positives with negatives per motif.

Conventions: PWMs are (w, 4) arrays in ACGT order (protocol note 9); one-hot N rows are all zero and add 0 to a
score (as in memelite's FIMO); a hit's ``start``/``end`` are 0-based half-open offsets of the window inside its
sequence on the forward strand; strand '-' means the reverse-complement PWM matched that window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from seq2acc.errors import ArgumentError

log = logging.getLogger(__name__)

DEFAULT_RELEASE = "JASPAR2024"
UNIFORM = (0.25, 0.25, 0.25, 0.25)


# ----------------------------------------------------------------------------- motif database
@dataclass
class Motif:
    """A position frequency (count) matrix with its JASPAR identity."""

    id: str  # e.g. 'MA0363.3'
    name: str  # e.g. 'REB1'
    counts: np.ndarray  # (w, 4) counts (or frequencies), ACGT order
    collection: str = ""
    tax_group: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.counts.shape[0])

    @property
    def base_id(self) -> str:
        """Matrix id without the version ('MA0363.3' -> 'MA0363')."""
        return self.id.split(".")[0]


def _as_list(x):
    if x is None:
        return None
    return [x] if isinstance(x, str) else list(x)


def jaspar_releases() -> list[str]:
    from pyjaspar import jaspar_releases as rel

    return sorted(rel)


def fetch_jaspar(ids=None, collection: str | list | None = "CORE", tax_group=("fungi",),
                 release: str = DEFAULT_RELEASE, min_ic: float = 0.0) -> list[Motif]:
    """JASPAR motifs from pyjaspar's bundled SQLite database.

    ``ids`` (base ids like 'MA0363' give the latest version; full ids like 'MA0363.2' that version) overrides the
    other filters; otherwise the motifs of ``collection`` and ``tax_group`` (e.g. 'fungi', 'vertebrates', a list,
    or None for all) are returned, latest version of each. Sorted by matrix id, so the order is reproducible.
    No network access: the databases ship inside pyjaspar.

    Parameters
    ----------
    ids : str or list of str, optional
        Matrix ids; when given (non-empty), ``collection``, ``tax_group`` and ``min_ic`` are ignored.
    collection : str, list of str or None, default "CORE"
        JASPAR collection(s); None (or "") for all.
    tax_group : str, list of str or None, default ("fungi",)
        Taxonomic group(s); None for all.
    release : str, default DEFAULT_RELEASE ("JASPAR2024")
        A JASPAR release shipped with pyjaspar (:func:`jaspar_releases`).
    min_ic : float, default 0.0
        Minimum information content of a matrix (filters only; ignored with ``ids``).

    Returns
    -------
    motifs : list of Motif
        Sorted by ``id``. Each has ``id`` (e.g. 'MA0363.3'), ``name`` (e.g. 'REB1'), ``counts`` (ndarray,
        shape (w, 4), float64, counts in A, C, G, T columns, row = motif position), ``collection``,
        ``tax_group``, ``meta`` (species, tf_class) and the properties ``width`` and ``base_id``. Turn counts into
        a PWM with :func:`log_odds` or scan them with :meth:`PWMScanner.from_motifs`.

    Raises
    ------
    seq2acc.errors.ArgumentError
        ``release`` is not shipped with pyjaspar, an id is not in the release, or the filters match no motif.
    """
    import warnings

    releases = jaspar_releases()
    if release not in releases:
        raise ArgumentError("release", f"{release!r} is not a JASPAR release shipped with pyjaspar",
                            f"use one of {', '.join(releases)}")
    from pyjaspar import jaspardb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        db = jaspardb(release=release)
        if ids:
            raw = []
            for mid in _as_list(ids):
                m = db.fetch_motif_by_id(mid)
                if m is None:
                    raise ArgumentError("ids", f"{mid!r} is not in {release}",
                                        "check the matrix id on jaspar.elixir.no (e.g. MA0363 for Reb1)")
                raw.append(m)
        else:
            raw = list(db.fetch_motifs(collection=_as_list(collection) if collection else None,
                                       tax_group=_as_list(tax_group), min_ic=min_ic))
    if not raw:
        raise ArgumentError("tax_group", f"no {collection} motifs for tax_group={tax_group} in {release}",
                            "use a JASPAR taxon such as fungi, vertebrates, insects, plants, nematodes, urochordates")
    out = []
    for m in raw:
        counts = np.array([m.counts[b] for b in "ACGT"], dtype=np.float64).T
        out.append(Motif(str(m.matrix_id), str(m.name), counts, str(getattr(m, "collection", "") or ""),
                         str(getattr(m, "tax_group", "") or ""),
                         {"species": getattr(m, "species", None), "tf_class": getattr(m, "tf_class", None)}))
    out.sort(key=lambda m: m.id)
    return out


# ----------------------------------------------------------------------------- log-odds PWMs
def _check_background(background) -> np.ndarray:
    bg = np.asarray(UNIFORM if background is None else background, dtype=np.float64)
    if bg.shape != (4,) or np.any(bg <= 0) or not np.isclose(bg.sum(), 1.0, atol=1e-6):
        raise ArgumentError("background", f"background {background!r} is not 4 positive ACGT frequencies "
                            "summing to 1", "use None (uniform) or 4 frequencies like [0.3, 0.2, 0.2, 0.3]")
    return bg / bg.sum()


def log_odds(motif: Motif | np.ndarray, background=None, pseudocount: float = 0.8) -> np.ndarray:
    """(w, 4) log2-odds PWM (bits), ACGT order.

    Frequencies ``p = (count + pseudocount * 4 * bg) / (column total + 4 * pseudocount)`` -- the pseudocount is
    spread over the four bases in proportion to the background (``pseudocount`` per base for a uniform one) --
    and ``log2(p / bg)``. ``background`` None = uniform.
    """
    counts = np.asarray(motif.counts if isinstance(motif, Motif) else motif, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[1] != 4:
        raise ValueError(f"count matrix must be (w, 4) in ACGT order, got shape {counts.shape}")
    if pseudocount < 0:
        raise ArgumentError("pseudocount", f"{pseudocount} is negative", "use e.g. 0.8")
    bg = _check_background(background)
    p = (counts + 4.0 * pseudocount * bg) / (counts.sum(1, keepdims=True) + 4.0 * pseudocount)
    with np.errstate(divide="ignore"):
        return np.log2(p / bg)


def genome_background(genome, chroms=None, symmetric: bool = True) -> np.ndarray:
    """ACGT frequencies of a :class:`~seq2acc.io.fasta.Genome` (N excluded); strand-symmetric by default (A=T, C=G)."""
    counts = np.zeros(5, dtype=np.int64)
    for c in chroms or list(genome.sizes):
        counts += np.bincount(genome.codes(c), minlength=5)[:5]
    acgt = counts[:4].astype(np.float64)
    if acgt.sum() == 0:
        raise ArgumentError("genome", f"{genome.path} has no A/C/G/T bases", "use a uniform background instead")
    if symmetric:
        acgt = (acgt + acgt[::-1]) / 2
    return acgt / acgt.sum()


# ----------------------------------------------------------------------------- p-values
@dataclass
class ScoreDistribution:
    """Survival function of one PWM's score on a background sequence, on a grid of ``bin_size`` bits.

    ``sf[j] = P(Z >= lowest + j)`` with ``Z`` the sum over columns of ``q = round(pwm / bin_size)``.
    Two look-ups: :meth:`word_pvalue` of a matched word's own integer score ``Z`` (consistent with the
    distribution, so equal-scoring words get equal p-values: the default of :class:`PWMScanner`), and
    :meth:`pvalue` of a float score, ``sf[floor(s / bin_size) - lowest]`` (memelite FIMO's look-up).
    """

    lowest: int
    sf: np.ndarray
    bin_size: float
    q: np.ndarray | None = None  # (w, 4) integer PWM on the grid

    @classmethod
    def build(cls, pwm: np.ndarray, background=None, bin_size: float = 0.001) -> "ScoreDistribution":
        bg = _check_background(background)
        pwm = np.asarray(pwm, dtype=np.float64)
        if not np.all(np.isfinite(pwm)):
            raise ValueError("PWM has non-finite entries; use a pseudocount > 0")
        from seq2acc.interpret.seqscan import score_pdf  # the dynamic program below, compiled (same numbers)

        q = np.round(pwm / bin_size).astype(np.int64)
        mins = q.min(1)
        off = np.ascontiguousarray(q - mins[:, None])
        # pdf over Z - lowest: for each column, new[off[i, b] + j] += bg[b] * pdf[j], bases in ACGT order
        pdf = score_pdf(off, np.ascontiguousarray(bg))
        sf = np.cumsum(pdf[::-1])[::-1]
        return cls(int(mins.sum()), np.minimum(sf, 1.0), float(bin_size), q)

    def word_pvalue(self, z) -> np.ndarray:
        """p-values of integer grid scores ``z`` (sums of ``q`` over a word; an N row adds 0)."""
        idx = np.asarray(z, dtype=np.int64) - self.lowest
        return np.where(idx < 0, 1.0, self.sf[np.clip(idx, 0, len(self.sf) - 1)])

    def pvalue(self, scores) -> np.ndarray:
        s = np.asarray(scores, dtype=np.float64)
        idx = np.floor(s / self.bin_size + 1e-9).astype(np.int64) - self.lowest
        out = self.sf[np.clip(idx, 0, len(self.sf) - 1)]
        return np.where(idx < 0, 1.0, out)

    def threshold(self, pvalue: float) -> float:
        """Smallest score whose p-value is below ``pvalue`` (+inf when no score reaches it)."""
        ok = np.flatnonzero(self.sf < pvalue)
        if len(ok) == 0:
            return float("inf")
        return float((ok[0] + self.lowest) * self.bin_size)


# ----------------------------------------------------------------------------- scanner
STRANDS = ("+", "-")


class PWMScanner:
    """Every PWM, both strands: a numba k-mer index scanner for sequences (:meth:`hits`, :meth:`hits_codes`,
    :meth:`max_scores`, :meth:`position_scores`) and one frozen Keras ``Conv1D`` (kernel width = widest PWM, no
    bias; built on first use) for contribution scores and other weighted inputs (:meth:`scan`).

    Conv1D output channel ``2k`` is PWM k, channel ``2k+1`` its reverse complement; both are left-aligned in the kernel
    so position ``i`` of either strand scores the window ``[i, i + w_k)``. The input is zero-padded on the right
    so every motif gets all its ``L - w_k + 1`` windows; windows running past a sequence's end are ``-inf``.
    Scores are log2-odds sums (bits, as FIMO); an N (all-zero) row adds 0. Sequences given to the methods are
    one-hot arrays of shape (n, L, 4) or (L, 4), columns A, C, G, T, all of one length ``L >= min_width``.

    Parameters
    ----------
    pwms : sequence of array_like, each shape (w_k, 4)
        Log-odds PWMs in A, C, G, T column order (e.g. from :func:`log_odds`); at least one.
    names : sequence of str
        One name per PWM (``motif_name`` of hits).
    ids : sequence of str, optional
        One id per PWM (``motif_id`` of hits); default: the names.
    background : array_like, shape (4,), optional
        A, C, G, T frequencies (positive, summing to 1) of the p-value null; None = uniform.
    pvalue_bin : float, default 0.001
        Score grid (bits) of the exact score distributions behind p-values.
    dtype : str, default "float32"
        dtype of the convolution (inputs are cast to it).
    pvalue_lookup : {"word", "score"}, default "word"
        p-value of a window from the matched word's grid score (consistent: equal words, equal p) or from its
        float score (memelite FIMO's look-up).

    Attributes
    ----------
    n_motifs : int
        Number of PWMs ``M``.
    widths : ndarray, shape (M,), int64
        PWM widths; ``min_width``, ``max_width`` their extremes.
    names, ids : list of str
        As given.

    Methods
    -------
    from_motifs(motifs, background=None, pseudocount=0.8, **kw) -> PWMScanner
        Scanner of :class:`Motif` count matrices (e.g. from :func:`fetch_jaspar`), log-odds vs ``background``.
    hits(onehot, pvalue=1e-4, batch_size=64, progress=False, engine="auto") -> DataFrame
        FIMO-style hits, described under Returns: one-hot sequences by the numba k-mer index
        (:mod:`seq2acc.interpret.seqscan`), soft or weighted inputs (or ``engine="conv"``) by the convolution.
    hits_codes(seqs, pvalue=1e-4, progress=False) -> DataFrame
        The same for uint8 code sequences of any lengths ((n, L) array or list of 1-D arrays).
    position_scores(codes, motif=0, both_strands=True) -> ndarray, shape (L - w + 1,), float32
        Score of one PWM at every window of one code sequence (numba look-up tables; the PWM baseline).
    scan(onehot, batch_size=64) -> ndarray, shape (n, L - min_width + 1, M, 2), float32
        Score of every window start, motif and strand (last axis: 0 = '+', 1 = '-'); -inf where motif k's
        window runs past the end.
    max_scores(onehot, batch_size=64, both_strands=True, engine="auto") -> ndarray, shape (n, M), float32
        Best score per sequence and motif (numba look-up tables for one-hot input).
    contribution_hits(onehot, contrib, pvalue=1e-3, null_contrib=None, contrib_pvalue=0.01, ...) -> DataFrame
        Hits scanned on contribution scores (protocol note 27): the columns of :meth:`hits` plus contrib_score,
        contrib_sum, contrib_pvalue.
    pvalues(scores, motif_idx) / score_thresholds(pvalue) -> ndarray
        p-values of scores; per-motif score threshold of a p-value.

    Returns
    -------
    hits : pandas.DataFrame
        (:meth:`hits`.) One row per window and strand with p-value < ``pvalue``, sorted by seq, start,
        motif_idx, strand. Columns: seq (int64, row of ``onehot``), start, end (int64, 0-based half-open offsets
        in that sequence, forward-strand coordinates; end = start + w), strand (str, '+' or '-' = the
        reverse-complement PWM matched), motif_idx (int64), motif_id, motif_name (str), score (float64
        log2-odds, recomputed exactly), p_value (float64). Empty (same columns) when nothing passes.

    Raises
    ------
    ValueError
        No PWM, a PWM not (w, 4), names/ids not one per PWM, a bad ``pvalue_lookup``; in the methods, input not
        (n, L, 4) / (L, 4) or shorter than the narrowest PWM.
    seq2acc.errors.ArgumentError
        ``background`` is not 4 positive frequencies summing to 1.
    """

    def __init__(self, pwms, names, ids=None, background=None, pvalue_bin: float = 0.001, dtype: str = "float32",
                 pvalue_lookup: str = "word"):
        self.pwms = [np.asarray(p, dtype=np.float64) for p in pwms]
        if not self.pwms:
            raise ValueError("PWMScanner needs at least one PWM")
        for p in self.pwms:
            if p.ndim != 2 or p.shape[1] != 4 or p.shape[0] < 1:
                raise ValueError(f"each PWM must be (w, 4) in ACGT order, got {p.shape}")
        self.names = [str(n) for n in names]
        self.ids = [str(i) for i in ids] if ids is not None else list(self.names)
        if len(self.names) != len(self.pwms) or len(self.ids) != len(self.pwms):
            raise ValueError("one name (and id) per PWM")
        self.background = _check_background(background)
        self.pvalue_bin = float(pvalue_bin)
        if pvalue_lookup not in ("word", "score"):
            raise ValueError("pvalue_lookup must be 'word' (default, consistent) or 'score' (memelite FIMO's)")
        self.pvalue_lookup = pvalue_lookup
        self.widths = np.array([len(p) for p in self.pwms], dtype=np.int64)
        self.max_width, self.min_width = int(self.widths.max()), int(self.widths.min())
        m = len(self.pwms)
        kernel = np.zeros((self.max_width, 4, 2 * m), dtype=np.float64)
        for k, p in enumerate(self.pwms):
            kernel[:len(p), :, 2 * k] = p
            kernel[:len(p), :, 2 * k + 1] = p[::-1, ::-1]
        self.kernel = kernel
        self.dtype = dtype
        self._conv = None  # the Keras convolution, built on first use (sequence scans do not need it)
        self._masks: dict[int, np.ndarray] = {}
        self._dists: list[ScoreDistribution] | None = None
        self._rc_dists: list[ScoreDistribution] | None = None
        self._plans: dict = {}

    def _convolution(self):
        """(model, call, max, above): the frozen Conv1D and its tf.functions, built once, on first use."""
        if self._conv is None:
            import keras
            import tensorflow as tf

            m = self.n_motifs
            inp = keras.Input((None, 4), dtype=self.dtype, name="onehot")
            x = keras.layers.ZeroPadding1D((0, self.max_width - self.min_width), name="pad_right")(inp)
            conv = keras.layers.Conv1D(2 * m, self.max_width, padding="valid", use_bias=False, trainable=False,
                                       dtype=self.dtype, name="pwm_scan")
            out = conv(x)
            conv.set_weights([self.kernel.astype(self.dtype)])
            model = keras.Model(inp, out, name="pwm_scanner")
            model.trainable = False

            def _masked(t, mask):  # scores with windows past the end at -inf, (b, L', 2M)
                return model(t, training=False) + mask[None]

            self._conv = (model, tf.function(lambda t: model(t, training=False), reduce_retracing=True),
                          tf.function(lambda t, mask: tf.reduce_max(_masked(t, mask), axis=1), reduce_retracing=True),
                          tf.function(lambda t, mask, cut: tf.where(_masked(t, mask) >= cut), reduce_retracing=True))
        return self._conv

    @property
    def model(self):
        """The frozen Keras ``Conv1D`` model (built on first use)."""
        return self._convolution()[0]

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def from_motifs(cls, motifs: list[Motif], background=None, pseudocount: float = 0.8, **kw) -> "PWMScanner":
        """Scanner of JASPAR-style count matrices, log-odds against ``background`` (also used for p-values)."""
        bg = _check_background(background)
        return cls([log_odds(m, bg, pseudocount) for m in motifs], [m.name for m in motifs],
                   ids=[m.id for m in motifs], background=bg, **kw)

    @property
    def n_motifs(self) -> int:
        return len(self.pwms)

    @property
    def distributions(self) -> list[ScoreDistribution]:
        if self._dists is None:
            self._dists = [ScoreDistribution.build(p, self.background, self.pvalue_bin) for p in self.pwms]
        return self._dists

    def strand_distributions(self, strand: int) -> list[ScoreDistribution]:
        """Score distributions of the '+' (0) or '-' (1, reverse-complement PWM) strand; the same unless the
        background is strand-asymmetric."""
        if strand == 0 or np.allclose(self.background, self.background[::-1]):
            return self.distributions
        if self._rc_dists is None:
            self._rc_dists = [ScoreDistribution.build(p[::-1, ::-1], self.background, self.pvalue_bin)
                              for p in self.pwms]
        return self._rc_dists

    def window_pvalues(self, onehot: np.ndarray, seq, start, motif_idx, strand, scores=None) -> np.ndarray:
        """p-values of given windows: of the matched word's grid score (``pvalue_lookup='word'``) or of the
        float ``scores`` (``'score'``, memelite FIMO's look-up)."""
        out = np.ones(len(seq), dtype=np.float64)
        for k in np.unique(motif_idx):
            for st in (0, 1):
                sel = np.flatnonzero((motif_idx == k) & (strand == st))
                if len(sel) == 0:
                    continue
                d = self.strand_distributions(st)[int(k)]
                if self.pvalue_lookup == "score":
                    out[sel] = d.pvalue(scores[sel])
                    continue
                w = int(self.widths[k])
                win = onehot[seq[sel][:, None], start[sel][:, None] + np.arange(w)[None, :]]  # (h, w, 4)
                q = d.q if st == 0 or d is not self.distributions[int(k)] else d.q[::-1, ::-1]
                z = np.einsum("hwc,wc->h", np.rint(win).astype(np.int64), q)
                out[sel] = d.word_pvalue(z)
        return out

    def pvalues(self, scores, motif_idx) -> np.ndarray:
        """p-values of ``scores`` for the motifs ``motif_idx`` (broadcast together)."""
        scores = np.asarray(scores, dtype=np.float64)
        motif_idx = np.broadcast_to(np.asarray(motif_idx), scores.shape)
        out = np.ones(scores.shape, dtype=np.float64)
        for k in np.unique(motif_idx):
            sel = motif_idx == k
            out[sel] = self.distributions[int(k)].pvalue(scores[sel])
        return out

    def score_thresholds(self, pvalue: float) -> np.ndarray:
        """Per-motif smallest score with p-value < ``pvalue``."""
        return np.array([d.threshold(pvalue) for d in self.distributions])

    # ------------------------------------------------------------------ scanning
    def _check(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[-1] != 4:
            raise ValueError(f"expected one-hot (n, L, 4), got shape {x.shape}")
        if x.shape[1] < self.min_width:
            raise ValueError(f"sequences of length {x.shape[1]} are shorter than the narrowest PWM ({self.min_width})")
        return x

    def _scan_batch(self, x: np.ndarray) -> np.ndarray:
        """(b, L, 4) -> (b, L - w_min + 1, M, 2), invalid windows = -inf."""
        L = x.shape[1]
        s = np.array(self._convolution()[1](x.astype(self.dtype, copy=False)), dtype=np.float32)  # writable copy
        s = s.reshape(s.shape[0], s.shape[1], self.n_motifs, 2)
        first_invalid = L - self.widths + 1  # window starts from here on run past the end
        for k in np.flatnonzero(first_invalid < s.shape[1]):
            s[:, first_invalid[k]:, k, :] = -np.inf
        return s

    def scan(self, onehot, batch_size: int = 64) -> np.ndarray:
        """Scores of every window, motif and strand: (n, L - w_min + 1, n_motifs, 2) float32.

        Memory is n * L * n_motifs * 8 bytes: for many sequences use :meth:`max_scores` or :meth:`hits`, which
        reduce each batch as they go.
        """
        x = self._check(onehot)
        return np.concatenate([self._scan_batch(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])

    def _mask(self, L: int) -> np.ndarray:
        """(L - w_min + 1, 2M) additive mask: -inf where motif k's window starting there runs past the end."""
        if L not in self._masks:
            starts = np.arange(L - self.min_width + 1)[:, None]
            invalid = starts > np.repeat(L - self.widths, 2)[None, :]
            self._masks[L] = np.where(invalid, -np.inf, 0.0).astype(self.dtype)
        return self._masks[L]

    def max_scores(self, onehot, batch_size: int = 64, both_strands: bool = True, engine: str = "auto") -> np.ndarray:
        """Best score per sequence and motif over all windows (and both strands): (n, n_motifs) float32.

        One-hot sequences (0/1 rows, N all zero) are scored by the numba look-up tables (``engine="numba"``), any
        other input (soft or weighted rows) by the convolution (``"conv"``); ``"auto"`` picks."""
        x = self._check(onehot)
        codes = self._codes_for(x, engine)
        if codes is not None:
            from seq2acc.interpret import seqscan

            c5 = seqscan.codes5(codes)
            out = np.empty((len(x), self.n_motifs), dtype=np.float32)
            for k, p in enumerate(self.pwms):
                s = seqscan.dense_scores(codes, p, c5)
                out[:, k] = (s.max(-1) if both_strands else s[..., 0]).max(1)
            return out
        out = np.empty((len(x), self.n_motifs), dtype=np.float32)
        mask = self._mask(x.shape[1])
        for i in range(0, len(x), batch_size):
            m = np.asarray(self._convolution()[2](x[i:i + batch_size].astype(self.dtype, copy=False), mask))
            m = m.reshape(len(m), self.n_motifs, 2)
            out[i:i + batch_size] = m.max(-1) if both_strands else m[..., 0]
        return out

    def position_scores(self, codes, motif: int = 0, both_strands: bool = True) -> np.ndarray:
        """Score of PWM ``motif`` at every window start of one sequence of uint8 codes (A0 C1 G2 T3, N = 4):
        (L - w + 1,) float32, the better strand's (or the forward strand's), from the numba look-up tables."""
        from seq2acc.interpret import seqscan

        codes = np.asarray(codes, dtype=np.uint8).reshape(1, -1)
        w = int(self.widths[motif])
        if codes.shape[1] < w:
            raise ValueError(f"a sequence of {codes.shape[1]} bp is shorter than PWM {self.ids[motif]} ({w} bp)")
        s = seqscan.dense_scores(codes, self.pwms[motif])[0, :codes.shape[1] - w + 1]
        return (s.max(-1) if both_strands else s[:, 0]).astype(np.float32)

    def exact_scores(self, onehot: np.ndarray, seq: np.ndarray, start: np.ndarray, motif_idx: np.ndarray,
                     strand: np.ndarray) -> np.ndarray:
        """float64 scores of given windows (strand 0 = '+', 1 = '-'), recomputed from the PWMs."""
        out = np.empty(len(seq), dtype=np.float64)
        for k in np.unique(motif_idx):
            sel = np.flatnonzero(motif_idx == k)
            w = int(self.widths[k])
            win = onehot[seq[sel][:, None], start[sel][:, None] + np.arange(w)[None, :]].astype(np.float64)  # (h, w, 4)
            fwd = np.einsum("hwc,wc->h", win, self.pwms[k])
            rev = np.einsum("hwc,wc->h", win, self.pwms[k][::-1, ::-1])
            out[sel] = np.where(strand[sel] == 0, fwd, rev)
        return out

    def _codes_for(self, x: np.ndarray, engine: str) -> np.ndarray | None:
        """uint8 codes of one-hot ``x`` for the numba engine, or None for the convolution."""
        if engine not in ("auto", "numba", "conv"):
            raise ValueError(f"engine must be auto, numba or conv, got {engine!r}")
        if engine == "conv":
            return None
        from seq2acc.interpret import seqscan

        codes = seqscan.onehot_to_codes(x)
        if codes is None and engine == "numba":
            raise ValueError("the numba engine scans one-hot sequences (0/1 rows, N = all-zero row); use "
                             "engine='conv' for soft or weighted inputs")
        return codes

    def hits(self, onehot, pvalue: float = 1e-4, batch_size: int = 64, progress: bool = False,
             engine: str = "auto") -> pd.DataFrame:
        """FIMO-style hits: every window/strand whose score has p-value < ``pvalue``.

        One-hot sequences (0/1 rows, N all zero) are scanned by the numba k-mer index
        (:mod:`seq2acc.interpret.seqscan`, ``engine="numba"``: exact, no candidate margin); other inputs by the
        convolution (``"conv"``: float32 candidates with a margin, rescored in float64). ``"auto"`` picks. Both
        report the same windows with the same p-values (tests/test_seqscan.py); scores are float64 sums.
        Columns: seq, start, end, strand, motif_idx, motif_id, motif_name, score, p_value.
        """
        x = self._check(onehot)
        codes = self._codes_for(x, engine)
        if codes is not None:
            return self.hits_codes(codes, pvalue, progress=progress)
        return self._hits_conv(x, pvalue, batch_size, progress)

    def _sequence_plan(self, pvalue: float):
        """The numba scan plan of ``pvalue`` (cached): one row per motif and strand (row 2k + strand), the decision
        weights and cut of each row, and flat p-value tables (sf, offset, length, lowest per row)."""
        if pvalue in self._plans:
            return self._plans[pvalue]
        from seq2acc.interpret import seqscan

        dec, sco, grid, cuts, sfs, lowest = [], [], [], [], [], []
        for k, p in enumerate(self.pwms):
            for st in (0, 1):
                d = self.strand_distributions(st)[k]
                pw = p if st == 0 else p[::-1, ::-1]
                q = d.q if st == 0 or d is not self.distributions[k] else d.q[::-1, ::-1]
                ok = np.flatnonzero(d.sf < pvalue)  # sf falls with the score: the grid index where p < pvalue starts
                if self.pvalue_lookup == "word":  # exact on the integer grid
                    dec.append(q.astype(np.float64))
                    cuts.append(float(ok[0] + d.lowest) if len(ok) else np.inf)
                else:  # floor(score / bin + 1e-9) >= ok[0] + lowest, with a margin; the exact rule is applied below
                    dec.append(pw)
                    t = (ok[0] + d.lowest - 1e-9) * d.bin_size if len(ok) else np.inf
                    cuts.append(t - 1e-7 * (1.0 + abs(t)) if len(ok) else np.inf)
                sco.append(pw)
                grid.append(q)
                sfs.append(d.sf)
                lowest.append(d.lowest)
        sizes = np.array([len(v) for v in sfs], dtype=np.int64)
        tables = (np.concatenate(sfs), np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64), sizes,
                  np.array(lowest, dtype=np.int64))
        self._plans[pvalue] = (seqscan.ScanPlan.build(dec, sco, grid, cuts), tables)
        return self._plans[pvalue]

    def hits_codes(self, seqs, pvalue: float = 1e-4, progress: bool = False) -> pd.DataFrame:
        """:meth:`hits` of sequences as uint8 codes (A0 C1 G2 T3, 4 = N): an (n, L) array or a list of 1-D arrays
        of any lengths (each at least one base; windows that do not fit are skipped), scanned by the numba k-mer
        index in pieces of at most :data:`seq2acc.interpret.seqscan.CHUNK_BP` bp (longer sequences overlap by the
        widest PWM). ``seq`` is the position in ``seqs``. Same columns as :meth:`hits`."""
        from tqdm.auto import tqdm

        from seq2acc.interpret import seqscan

        if isinstance(seqs, np.ndarray) and seqs.ndim == 2:
            seqs = list(seqs)
        elif isinstance(seqs, np.ndarray):
            seqs = [seqs]
        plan, (sf, sf_off, sf_len, lowest) = self._sequence_plan(pvalue)
        frames = []
        batches = seqscan.batches(seqs, self.max_width)
        for batch in tqdm(batches, desc="PWM scan", disable=not progress, unit="chunk"):
            index = seqscan.KmerIndex.build([v for _, _, v, _ in batch])
            r = seqscan.scan(index, plan)
            seq_no = np.array([b[0] for b in batch], dtype=np.int64)[r["seq"]]
            offset = np.array([b[1] for b in batch], dtype=np.int64)[r["seq"]]
            owned = np.array([b[3] for b in batch], dtype=np.int64)[r["seq"]]
            keep = r["start"] < owned  # a window starting in the overlap belongs to the next piece
            row, score, grid = r["row"][keep], r["score"][keep], r["grid"][keep]
            if self.pvalue_lookup == "word":
                idx = grid - lowest[row]
            else:
                idx = np.floor(score / self.pvalue_bin + 1e-9).astype(np.int64) - lowest[row]
            p = np.where(idx < 0, 1.0, sf[sf_off[row] + np.clip(idx, 0, sf_len[row] - 1)])
            ok = p < pvalue
            frames.append(pd.DataFrame({"seq": seq_no[keep][ok], "start": (r["start"] + offset)[keep][ok],
                                        "motif_idx": row[ok] // 2, "strand_idx": row[ok] % 2, "score": score[ok],
                                        "p_value": p[ok]}))
        frames = [f for f in frames if len(f)]
        return self._table(frames)

    def _hits_conv(self, x: np.ndarray, pvalue: float, batch_size: int, progress: bool) -> pd.DataFrame:
        """:meth:`hits` by the convolution: candidates from float32 scores (with a small margin), rescored in
        float64 from the PWMs, so scores and the threshold decision do not depend on float32 rounding."""
        from tqdm.auto import tqdm

        thr = np.minimum(self.score_thresholds(pvalue),
                         np.array([d.threshold(pvalue) for d in self.strand_distributions(1)]))
        margin = 1e-3 * (1.0 + np.abs(np.where(np.isfinite(thr), thr, 0)))
        if self.pvalue_lookup == "word":  # a word's grid score is within w * bin / 2 of its float score
            margin = margin + self.widths * self.pvalue_bin / 2
        cut = (thr - margin).astype(np.float32)
        frames = []
        mask = self._mask(x.shape[1])
        cut2 = np.repeat(cut, 2).astype(self.dtype)
        for i in tqdm(range(0, len(x), batch_size), desc="PWM scan", disable=not progress, unit="batch"):
            idx = self._convolution()[3](x[i:i + batch_size].astype(self.dtype, copy=False), mask, cut2)
            idx = np.asarray(idx)
            if len(idx) == 0:
                continue
            b, pos, k, st = idx[:, 0], idx[:, 1], idx[:, 2] // 2, idx[:, 2] % 2
            score = self.exact_scores(x, b + i, pos, k, st)
            p = self.window_pvalues(x, b + i, pos, k, st, score)
            keep = p < pvalue
            frames.append(pd.DataFrame({"seq": (b + i)[keep], "start": pos[keep], "motif_idx": k[keep],
                                        "strand_idx": st[keep], "score": score[keep], "p_value": p[keep]}))
        return self._table(frames)

    def _table(self, frames) -> pd.DataFrame:
        cols = ["seq", "start", "end", "strand", "motif_idx", "motif_id", "motif_name", "score", "p_value"]
        if not frames:
            df = pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
                cols, ["int64", "int64", "int64", "object", "int64", "object", "object", "float64", "float64"])})
            return df
        col = {c: np.concatenate([f[c].to_numpy() for f in frames])
               for c in ("seq", "start", "motif_idx", "strand_idx", "score", "p_value")}
        order = np.lexsort((col["strand_idx"], col["motif_idx"], col["start"], col["seq"]))  # '+' sorts before '-'
        col = {c: v[order] for c, v in col.items()}
        k = col["motif_idx"]
        return pd.DataFrame({"seq": col["seq"].astype(np.int64), "start": col["start"].astype(np.int64),
                             "end": (col["start"] + self.widths[k]).astype(np.int64),
                             "strand": np.array(STRANDS)[col["strand_idx"]], "motif_idx": k.astype(np.int64),
                             "motif_id": np.array(self.ids, dtype=object)[k],
                             "motif_name": np.array(self.names, dtype=object)[k],
                             "score": col["score"].astype(np.float64), "p_value": col["p_value"].astype(np.float64)})

    def contribution_hits(self, onehot, contrib, pvalue: float = 1e-3, null_contrib=None,
                          contrib_pvalue: float = 0.01, batch_size: int = 64) -> pd.DataFrame:
        """Scan contribution scores (note 27): windows where the contribution-weighted one-hot scores high
        AND the sequence itself matches the PWM (sequence p-value < ``pvalue``).

        ``contrib`` may be actual-base contributions or hypothetical ones (it is multiplied by the one-hot
        either way). With ``null_contrib`` (contributions of dinucleotide-shuffled sequences, any number of
        them, same length), each window's ``contrib_score`` gets an empirical p-value against the scores of
        the same motif on the null, and only windows with ``contrib_pvalue`` below the threshold are kept;
        without it every sequence match is returned with its ``contrib_score`` (rank by it).
        Extra columns: contrib_score, contrib_sum (summed contribution in the window), contrib_pvalue.
        """
        x = self._check(onehot)
        c = np.asarray(contrib, dtype=np.float32).reshape(x.shape) * x
        null_sorted = None
        if null_contrib is not None:
            nc = np.asarray(null_contrib, dtype=np.float32)
            nc = nc.reshape((-1,) + nc.shape[-2:])
            null_sorted = self._null_scores(nc, batch_size)
        seq_hits = self.hits(x, pvalue=pvalue, batch_size=batch_size)
        if seq_hits.empty:
            return seq_hits.assign(contrib_score=pd.Series(dtype="float64"), contrib_sum=pd.Series(dtype="float64"),
                                   contrib_pvalue=pd.Series(dtype="float64"))
        seq = seq_hits.seq.to_numpy()
        start = seq_hits.start.to_numpy()
        k = seq_hits.motif_idx.to_numpy()
        st = (seq_hits.strand.to_numpy() == "-").astype(np.int64)
        seq_hits["contrib_score"] = self.exact_scores(c, seq, start, k, st)
        cs = np.cumsum(np.concatenate([np.zeros((len(c), 1)), c.sum(-1, dtype=np.float64)], axis=1), axis=1)
        seq_hits["contrib_sum"] = cs[seq, seq_hits.end.to_numpy()] - cs[seq, start]
        if null_sorted is None:
            seq_hits["contrib_pvalue"] = np.nan
            return seq_hits
        pv = np.ones(len(seq_hits))
        score = seq_hits.contrib_score.to_numpy()
        for kk in np.unique(k):
            sel = k == kk
            null = null_sorted[kk]
            n_ge = len(null) - np.searchsorted(null, score[sel], side="left")
            pv[sel] = (1 + n_ge) / (1 + len(null))
        seq_hits["contrib_pvalue"] = pv
        return seq_hits[seq_hits.contrib_pvalue < contrib_pvalue].reset_index(drop=True)

    def _null_scores(self, null_c: np.ndarray, batch_size: int) -> list[np.ndarray]:
        """Sorted contribution-scan scores (all windows, both strands) of each motif on null contributions.
        Null contributions are actual-base ones (zero off the sequence), so they are scanned as given."""
        per = [[] for _ in range(self.n_motifs)]
        for i in range(0, len(null_c), batch_size):
            s = self._scan_batch(null_c[i:i + batch_size])
            for kk in range(self.n_motifs):
                v = s[:, :, kk, :].ravel()
                per[kk].append(v[np.isfinite(v)])
        return [np.sort(np.concatenate(v)) for v in per]


# ----------------------------------------------------------------------------- enrichment

