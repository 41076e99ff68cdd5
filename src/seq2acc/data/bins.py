"""Bins, labels and the informative training set of one chromosome (protocol 3.1, notes 2-8).

Conventions (documented in README):
- Bins lie on a fixed grid: bin starts are multiples of ``stride`` (0, 50, 100, ...), the same grid for the
  training examples and the genome-wide evaluation, so every training bin is also a genome-wide bin.
- A bin is positive when more than ``positive_overlap`` (default 0.5) of its bases are covered by target peaks
  (peaks merged first, so overlapping peaks are not double-counted). A peak shorter than half a bin can
  never make a bin positive on its own; narrow peaks are therefore widened to ``peaks.min_width`` first.
- Each bin is extended symmetrically to ``context`` bp. Bins whose context would cross a chromosome end are
  dropped (not shifted), so the labelled bin is always at the centre of the model's input.
- Bins overlapping the blacklist, or whose context is more than ``max_n_fraction`` N, are left out everywhere.
- Several tasks (peak sets): each bin has a label vector, one entry per task, each by the same rule
  (:meth:`BinSpec.label_matrix`). The training examples are drawn for the union: a bin positive for any task is a
  positive example (label 0 for the tasks it is not positive for: an informative negative for them), and the
  flank / elsewhere / random negatives are negative for every task.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from seq2acc.data.intervals import overlap_bases
from seq2acc.errors import ArgumentError

SOURCES = ("positive", "flank", "random", "elsewhere")
POSITIVE, FLANK, RANDOM, ELSEWHERE = range(4)


@dataclass(frozen=True)
class BinSpec:
    bin_size: int = 200
    stride: int = 50
    context: int = 1000
    positive_overlap: float = 0.5

    def __post_init__(self):
        for arg, v in (("bin_size", self.bin_size), ("stride", self.stride)):
            if v <= 0:
                raise ArgumentError(arg, f"{v} bp must be positive", "use e.g. bin_size 200, stride 50")
        if self.stride > self.bin_size:
            raise ArgumentError("stride", f"stride {self.stride} bp is larger than bin_size {self.bin_size} bp: "
                                f"{self.stride - self.bin_size} bp of every {self.stride} would never be in a bin "
                                "(never labelled, never evaluated)",
                                f"use a stride <= bin_size {self.bin_size} (protocol: stride 50 for bin_size 200)")
        if self.context < self.bin_size or (self.context - self.bin_size) % 2:
            raise ArgumentError("context", f"context {self.context} must be >= bin_size {self.bin_size} and "
                                "differ from it by an even number", "use e.g. context 1000 for bin_size 200")
        if not 0 <= self.positive_overlap < 1:
            raise ArgumentError("positive_overlap", f"{self.positive_overlap} must be in [0, 1)",
                                "use 0.5 (protocol: more than 50%)")

    @property
    def pad(self) -> int:
        """Context added on each side of a bin."""
        return (self.context - self.bin_size) // 2

    def grid(self, chrom_size: int) -> np.ndarray:
        """Starts of every bin whose context fits inside the chromosome."""
        first = -(-self.pad // self.stride) * self.stride  # smallest multiple of stride >= pad
        last = chrom_size - self.bin_size - self.pad
        if last < first:
            return np.zeros(0, dtype=np.int64)
        return np.arange(first, last + 1, self.stride, dtype=np.int64)

    def labels(self, bin_starts: np.ndarray, peak_starts: np.ndarray, peak_ends: np.ndarray) -> np.ndarray:
        cov = overlap_bases(bin_starts, self.bin_size, peak_starts, peak_ends)
        return (cov > self.positive_overlap * self.bin_size).astype(np.uint8)

    def label_matrix(self, bin_starts: np.ndarray, targets) -> np.ndarray:
        """(n_bins, n_tasks) uint8: column t is :meth:`labels` of task t's merged peaks ``targets[t]`` =
        (starts, ends)."""
        out = np.zeros((len(bin_starts), len(targets)), dtype=np.uint8)
        for t, (st, en) in enumerate(targets):
            out[:, t] = self.labels(bin_starts, st, en)
        return out

    def context_start(self, bin_starts: np.ndarray) -> np.ndarray:
        return np.asarray(bin_starts, dtype=np.int64) - self.pad


def n_runs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intervals of N/IUPAC bases (code 4) as sorted (starts, ends)."""
    isn = np.concatenate([[False], codes == 4, [False]])
    d = np.flatnonzero(np.diff(isn.astype(np.int8)))
    return d[0::2].astype(np.int64), d[1::2].astype(np.int64)


def chrom_seed(seed: int, chrom: str) -> int:
    """Deterministic per-chromosome seed (independent of the order chromosomes are processed)."""
    return (int(seed) * 1_000_003 + zlib.crc32(chrom.encode())) % (2**32)


@dataclass
class ChromBins:
    """Genome-wide bins of one chromosome and the sampled training examples drawn from them."""

    bin_start: np.ndarray  # genome-wide bins (kept ones), int64
    label: np.ndarray  # uint8, the first task's labels (= labels[:, 0])
    n_frac: np.ndarray  # float32, N fraction of each bin's context
    ex_index: np.ndarray  # indices into bin_start of the training examples
    ex_source: np.ndarray  # uint8, one of SOURCES (positive = positive for at least one task)
    counts: dict = field(default_factory=dict)  # grid bins and why bins were left out (see :func:`bin_counts`)
    labels: np.ndarray | None = None  # (n_bins, n_tasks) uint8 label matrix; None = one task, ``label``

    def __post_init__(self):
        if self.labels is None:
            self.labels = np.asarray(self.label, dtype=np.uint8)[:, None]
        if self.labels.ndim != 2 or len(self.labels) != len(self.bin_start) or \
                not np.array_equal(self.labels[:, 0], self.label):
            raise ArgumentError("labels", f"shape {self.labels.shape} does not match {len(self.bin_start)} bins, or "
                                "its first column is not 'label'", "pass the label matrix of these bins")

    @property
    def n_tasks(self) -> int:
        return self.labels.shape[1]


def _evaluable(spec: BinSpec, chrom_size: int, codes: np.ndarray, blacklist, max_n_fraction: float):
    grid = spec.grid(chrom_size)
    black = overlap_bases(grid, spec.bin_size, *blacklist) > 0
    nst, nen = n_runs(codes)
    n_frac = (overlap_bases(spec.context_start(grid), spec.context, nst, nen) / spec.context).astype(np.float32)
    return grid, black, n_frac, n_frac > max_n_fraction


def genome_wide_bins(spec: BinSpec, chrom_size: int, codes: np.ndarray, target, blacklist, max_n_fraction: float):
    """All evaluable bins of a chromosome: on the grid, context inside the chromosome, not blacklisted,
    context N fraction <= max_n_fraction. ``target``/``blacklist`` are (starts, ends) of merged intervals."""
    grid, black, n_frac, too_n = _evaluable(spec, chrom_size, codes, blacklist, max_n_fraction)
    keep = ~black & ~too_n
    grid, n_frac = grid[keep], n_frac[keep]
    return grid, spec.labels(grid, *target), n_frac


def _targets(target) -> list:
    """``target`` as a list of (starts, ends), one per task: a list is one pair per task, a pair is one task."""
    if isinstance(target, list):
        if not target:
            raise ArgumentError("target", "no task: the list of target peak sets is empty", "give at least one task")
        return target
    return [target]


def bin_counts(spec: BinSpec, chrom_size: int, codes: np.ndarray, target, blacklist, max_n_fraction: float) -> dict:
    """How many grid bins a chromosome has and why bins are left out (ints): ``grid`` (bins whose context fits in
    the chromosome), ``blacklisted`` (overlapping the blacklist), ``too_many_n`` (not blacklisted, but more than
    ``max_n_fraction`` N/IUPAC in the context), ``kept``; and of the bins the target peaks make positive:
    ``positive_grid``, ``positive_blacklisted``, ``positive_too_many_n``, ``positive_kept``. With several tasks
    (``target`` a list of (starts, ends)), the positive counts are of bins positive for any task, and
    ``per_task`` holds each task's own positive counts (a list in task order)."""
    grid, black, _, too_n = _evaluable(spec, chrom_size, codes, blacklist, max_n_fraction)
    targets = _targets(target)
    return _counts(black, too_n, spec.label_matrix(grid, targets).astype(bool), isinstance(target, list))


def _counts(black: np.ndarray, too_n: np.ndarray, pos: np.ndarray, per_task: bool = False) -> dict:
    """Counts of :func:`bin_counts`; ``pos`` is (n_grid,) or the (n_grid, n_tasks) positive matrix."""
    n_only = too_n & ~black
    keep = ~black & ~too_n
    pos = pos if pos.ndim == 2 else pos[:, None]

    def positive(col: np.ndarray) -> dict:
        return {"positive_grid": int(col.sum()), "positive_blacklisted": int((col & black).sum()),
                "positive_too_many_n": int((col & n_only).sum()), "positive_kept": int((col & keep).sum())}

    out = {"grid": len(black), "blacklisted": int(black.sum()), "too_many_n": int(n_only.sum()),
           "kept": int(keep.sum()), **positive(pos.any(axis=1))}
    if per_task:
        out["per_task"] = [positive(pos[:, t]) for t in range(pos.shape[1])]
    return out


def sample_examples(spec: BinSpec, chrom_size: int, codes: np.ndarray, target, elsewhere, blacklist, *,
                    flank_bins: int = 3, neg_ratio: float = 1.0, fractions: dict | None = None,
                    max_n_fraction: float = 0.1, seed: int = 0) -> ChromBins:
    """Positives plus informative negatives (flank / elsewhere / random) for one chromosome.

    ``target`` is the (starts, ends) of one task's merged peaks, or a list of them, one per task (the columns of
    the label matrix ``ChromBins.labels``). With several tasks the examples are drawn for their union: positives
    are the bins positive for any task, flanks are those of any task's runs of positive bins, and every negative
    (flank, elsewhere, random) is negative for every task; a positive of one task is an informative negative for
    the others (its row of the label matrix says which).

    Negative budget = round(neg_ratio * n_positive), split by ``fractions`` (flank, elsewhere, random);
    a pool too small for its share passes the remainder on to random bins. Deterministic for a seed.
    """
    fractions = fractions or {"flank": 0.4, "elsewhere": 0.3, "random": 0.3}
    rng = np.random.default_rng(seed)
    targets = _targets(target)
    full_grid, black, n_frac_all, too_n = _evaluable(spec, chrom_size, codes, blacklist, max_n_fraction)
    keep = ~black & ~too_n
    full_labels = spec.label_matrix(full_grid, targets)
    positive = full_labels.any(axis=1)
    grid, n_frac, label = full_grid[keep], n_frac_all[keep], positive[keep].astype(np.uint8)
    labels = full_labels[keep]
    pos = np.flatnonzero(label == 1)
    neg_mask = label == 0

    # Flanks: the ``flank_bins`` grid bins just before and after each run of positive bins.
    slot = np.full(len(full_grid), -1, dtype=np.int64)  # full-grid position -> kept-bin index
    if len(grid):
        slot[((grid - full_grid[0]) // spec.stride)] = np.arange(len(grid))
    flank_pool = np.zeros(len(grid), dtype=bool)
    if len(pos):
        gpos = (grid[pos] - full_grid[0]) // spec.stride
        run_start = gpos[np.r_[True, np.diff(gpos) > 1]]
        run_end = gpos[np.r_[np.diff(gpos) > 1, True]]
        offs = np.arange(1, flank_bins + 1)
        cand = np.concatenate([(run_start[:, None] - offs).ravel(), (run_end[:, None] + offs).ravel()])
        cand = cand[(cand >= 0) & (cand < len(full_grid))]
        idx = slot[cand]
        idx = idx[idx >= 0]
        flank_pool[idx] = True
    flank_pool &= neg_mask
    else_pool = neg_mask & ~flank_pool & spec.labels(grid, *elsewhere).astype(bool)
    random_pool = neg_mask & ~flank_pool & ~else_pool

    budget = int(round(neg_ratio * len(pos)))
    total_f = sum(float(fractions.get(k, 0)) for k in ("flank", "elsewhere", "random")) or 1.0
    chosen, sources = [pos], [np.full(len(pos), POSITIVE, np.uint8)]
    remaining = budget
    for name, pool, code in (("flank", flank_pool, FLANK), ("elsewhere", else_pool, ELSEWHERE)):
        want = int(round(budget * float(fractions.get(name, 0)) / total_f))
        cands = np.flatnonzero(pool)
        take = min(want, len(cands), remaining)
        pick = np.sort(rng.choice(cands, size=take, replace=False)) if take else np.zeros(0, np.int64)
        chosen.append(pick)
        sources.append(np.full(len(pick), code, np.uint8))
        remaining -= take
    cands = np.flatnonzero(random_pool)
    take = min(remaining, len(cands))
    pick = np.sort(rng.choice(cands, size=take, replace=False)) if take else np.zeros(0, np.int64)
    chosen.append(pick)
    sources.append(np.full(len(pick), RANDOM, np.uint8))
    ex = np.concatenate(chosen).astype(np.int64)
    src = np.concatenate(sources)
    order = np.argsort(ex, kind="stable")
    return ChromBins(grid, labels[:, 0].copy(), n_frac, ex[order], src[order],
                     _counts(black, too_n, full_labels.astype(bool), isinstance(target, list)), labels)
