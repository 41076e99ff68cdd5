"""PWM scanning of DNA sequences without a convolution (issue 17): a k-mer index and branch and bound, in numba.

A sequence scan needs only the windows above a motif's threshold, so it need not score every window.

1. **Index** (:class:`KmerIndex`, built once for all motifs): the sequences as uint8 codes (A0 C1 G2 T3, 4 = N)
   and the positions sorted by the k-mer starting there (``k`` ~ log4 of the total length, at most
   :data:`MAX_K`; a two-level radix sort), so the positions of one k-mer, or of a run of consecutive k-mer codes,
   are one slice. A k-mer running past its sequence's end is filed with A for the missing letters; a position
   whose k letters (within the sequence) hold an N is not filed.
2. **Per motif and strand** (a row of a :class:`ScanPlan`, in parallel over rows): the PWM's columns are covered
   by *blocks* of at most ``k`` consecutive columns, each with a threshold ``t_i``, such that every hit has some
   block scoring at least its threshold: either one block of the ``k`` most selective consecutive columns with
   ``t = cut - (the most the other columns can add)``, or ``ceil(w / k)`` blocks splitting the PWM whose
   thresholds sum to the cut (pigeonhole: scores below every ``t_i`` sum to less than the cut). For each block a depth-first walk over its
   letters, most selective column first, keeps the prefixes that can still reach the block's threshold (branch
   and bound), so it visits only the k-mers a hit can hold there; their positions come from the index, and each
   candidate window is completed column by column, dropped as soon as its bound falls below the cut, and
   reported by the first block that finds it (so once).
3. Windows near an N (their blocks' k-mers may not be filed) are scored directly and reported unless a block
   found them; windows wholly inside an N run score 0. A row whose cheapest layout would cost more (walk nodes
   and candidates, counted on the index) than scoring every window is streamed over every window with tables of 5
   consecutive columns (base-5 codes, N included), as memelite's FIMO does.

A window is reported iff its *decision score* (the sum of the row's ``decision`` weights) is at least the row's
cut: integers on the p-value grid for word look-ups (exact), or the float PWM for score look-ups (the caller's cut
carries a margin and it applies the exact rule). For each reported window the kernel also returns its float64
log-odds score, summed left to right, and its integer grid score, so p-values are one table look-up.
N (code 4) adds 0 to every score, as an all-zero one-hot row adds 0 to the convolution's.

:func:`dense_scores` scores every window of one PWM on both strands (the PWM baseline's best score in a central
window needs all of them) from the same 5-column tables: ``ceil(w / 5)`` look-ups per window and strand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

MAX_K = 11  # k-mer length cap: 4**11 bucket offsets (16 MB of int32)
MIN_K = 4
Q5 = 5  # columns per look-up table of the streamed scans (base-5 codes: A C G T N -> 3125 entries)
ROOM = 255  # distances to a sequence's ends are kept up to this (uint8); wider PWMs are streamed
# A row's layouts are costed in walk nodes (each a few ns): a candidate position costs CANDIDATE_COST nodes (random
# access, completed column by column), a streamed window STREAM_COST. A row whose cheapest layout costs more than
# DENSE_FRACTION x STREAM_COST x (positions indexed) is streamed instead (below 0: every row, for tests)
CANDIDATE_COST = 4.0
STREAM_COST = 1.0
DENSE_FRACTION = 1.0
CHUNK_BP = 2 ** 23  # bp indexed at a time (~20 bytes each at the peak); longer sequences are cut with overlaps


def index_k(total_bp: int) -> int:
    """k-mer length of an index over ``total_bp`` bases: about one position per k-mer, in [MIN_K, MAX_K]."""
    k = int(round(np.log(max(total_bp, 1)) / np.log(4)))
    return int(min(MAX_K, max(MIN_K, k)))


# ----------------------------------------------------------------------------- codes
@numba.njit(cache=True, nogil=True)
def _onehot_to_codes(x, out):  # pragma: no cover - compiled
    """(n, L, 4) one-hot -> flat uint8 codes; False if a row is not all zeros or a single 1 (branch-free)."""
    n, L, _ = x.shape
    bad = False
    for i in range(n):
        o = i * L
        for j in range(L):
            a = np.float64(x[i, j, 0])
            c = np.float64(x[i, j, 1])
            g = np.float64(x[i, j, 2])
            t = np.float64(x[i, j, 3])
            s = a + c + g + t
            bad |= (a * (a - 1.0) != 0.0) | (c * (c - 1.0) != 0.0) | (g * (g - 1.0) != 0.0) | \
                (t * (t - 1.0) != 0.0) | (s > 1.0)
            out[o + j] = np.uint8(c + 2.0 * g + 3.0 * t + 4.0 * (1.0 - s))
    return not bad


def onehot_to_codes(x: np.ndarray) -> np.ndarray | None:
    """uint8 codes (n, L) of one-hot sequences (n, L, 4), N = 4 for all-zero rows; None when some row is not a
    0/1 one-hot row with at most one 1 (soft or weighted inputs: those are scanned by the convolution)."""
    x = np.ascontiguousarray(x)
    if x.dtype.kind not in "fiub" or x.ndim != 3 or x.shape[-1] != 4:
        return None
    n, L = x.shape[0], x.shape[1]
    out = np.empty(n * L, dtype=np.uint8)
    if x.dtype.kind == "b":
        x = x.view(np.uint8)
    if not _onehot_to_codes(x, out):
        return None
    return out.reshape(n, L)


# ----------------------------------------------------------------------------- p-values
@numba.njit(cache=True, nogil=True)
def score_pdf(off, bg):  # pragma: no cover - compiled
    """Distribution of the sum over columns of ``off[i, letter]`` (non-negative ints, (w, 4)) for letters drawn
    from ``bg``: the dynamic program of :meth:`seq2acc.interpret.motifs.ScoreDistribution.build`, the same float
    operations in the same order (so the same numbers), compiled."""
    w = off.shape[0]
    total = 0
    for i in range(w):
        total += max(max(off[i, 0], off[i, 1]), max(off[i, 2], off[i, 3]))
    pdf = np.zeros(total + 1)
    new = np.zeros(total + 1)
    pdf[0] = 1.0
    cur = 0
    for i in range(w):
        new[:] = 0.0
        for b in range(4):
            o = off[i, b]
            for j in range(cur + 1):
                new[o + j] += bg[b] * pdf[j]
        cur += max(max(off[i, 0], off[i, 1]), max(off[i, 2], off[i, 3]))
        pdf, new = new, pdf
    return pdf


# ----------------------------------------------------------------------------- index
@numba.njit(cache=True, nogil=True)
def _prepare(codes, bounds, k):  # pragma: no cover - compiled
    """Per position: its k-mer code (-1: an N among its k letters within the sequence; letters past the end read
    A) and its distances to the sequence's start and end (capped at ROOM, packed in a uint16); and the runs of N
    (start, end, sequence)."""
    T = codes.shape[0]
    n_seq = bounds.shape[0] - 1
    km = np.empty(T, dtype=np.int32)
    room = np.empty(T, dtype=np.uint16)
    top = 2 * (k - 1)
    n_runs = 0
    for s in range(n_seq):
        a, b = bounds[s], bounds[s + 1]
        c = np.int32(0)
        next_n = b
        for p in range(b - 1, a - 1, -1):
            x = np.int32(codes[p])
            if x < 4:
                c = (x << top) | (c >> 2)
            else:
                next_n = p
                c = c >> 2
            km[p] = c if next_n >= min(p + k, b) else -1
            room[p] = min(p - a, ROOM) | (min(b - p, ROOM) << 8)
    for s in range(n_seq):
        for p in range(bounds[s], bounds[s + 1]):
            if codes[p] >= 4 and (p == bounds[s] or codes[p - 1] < 4):
                n_runs += 1
    runs = np.empty((n_runs, 3), dtype=np.int64)
    r = 0
    for s in range(n_seq):
        a, b = bounds[s], bounds[s + 1]
        p = a
        while p < b:
            if codes[p] < 4:
                p += 1
                continue
            e = p
            while e < b and codes[e] >= 4:
                e += 1
            runs[r, 0] = p
            runs[r, 1] = e
            runs[r, 2] = s
            r += 1
            p = e
    return km, room, runs


@numba.njit(cache=True, nogil=True)
def _codes5(codes, bounds):  # pragma: no cover - compiled
    """Base-5 code of the 5 letters from each position: digit d (weight 5**d) is the letter at p + d; N and
    letters past the sequence's end read 4."""
    c5 = np.empty(codes.shape[0], dtype=np.uint16)
    for s in range(bounds.shape[0] - 1):
        a, b = bounds[s], bounds[s + 1]
        q = np.int32(3124)
        for p in range(b - 1, a - 1, -1):
            x5 = np.int32(codes[p + 5]) if p + 5 < b else np.int32(4)
            q = np.int32(codes[p]) + 5 * (q - 625 * x5)
            c5[p] = q
    return c5


@numba.njit(cache=True, nogil=True)
def _sort(km, k):  # pragma: no cover - compiled
    """Positions sorted by k-mer (two-level radix sort: the top bits, then each top bucket in cache) and the
    offsets of every k-mer's slice."""
    T = km.shape[0]
    nbits = 2 * k
    hb = min(nbits, 10)
    lb = nbits - hb
    nh = 1 << hb
    hist = np.zeros(nh + 1, dtype=np.int64)
    for p in range(T):
        c = km[p]
        if c >= 0:
            hist[(c >> lb) + 1] += 1
    for h in range(nh):
        hist[h + 1] += hist[h]
    n = hist[nh]
    tk = np.empty(n, dtype=np.int64)  # (k-mer << 32) | position, grouped by the k-mer's top bits
    fill = hist[:nh].copy()
    for p in range(T):
        c = km[p]
        if c >= 0:
            h = c >> lb
            i = fill[h]
            tk[i] = (np.int64(c) << 32) | p
            fill[h] = i + 1
    offsets = np.empty((1 << nbits) + 1, dtype=np.int32)
    pos = np.empty(n, dtype=np.int32)
    nl = 1 << lb
    mask = nl - 1
    cnt = np.zeros(nl, dtype=np.int32)
    for h in range(nh):  # (serial: a parallel region costs more than it saves here on 2 busy cores)
        lo, hi = hist[h], hist[h + 1]
        cnt[:] = 0
        for i in range(lo, hi):
            cnt[(tk[i] >> 32) & mask] += 1
        base = h << lb
        run = np.int32(lo)
        for j in range(nl):  # cnt[j] becomes the slot of the next position with low bits j
            c = cnt[j]
            offsets[base + j] = run
            cnt[j] = run
            run += c
        for i in range(lo, hi):
            v = tk[i]
            j = (v >> 32) & mask
            pos[cnt[j]] = v & 0xFFFFFFFF
            cnt[j] += 1
    offsets[1 << nbits] = n
    return offsets, pos


@dataclass
class KmerIndex:
    """Sequences as concatenated codes with their k-mer index (see the module docstring).

    ``codes`` (T,) uint8; ``bounds`` (n + 1,) int64 sequence starts in ``codes``; ``offsets`` (4**k + 1,) int32
    and ``positions`` (int32): the positions whose k-mer is ``c`` (first letter most significant) are
    ``positions[offsets[c]:offsets[c + 1]]``; ``room`` (T,) uint16: distance to the sequence's start (low byte) and end (high byte), capped at ROOM;
    ``runs`` (r, 3) int64: runs of N (start, end, sequence); :attr:`c5`."""

    codes: np.ndarray
    bounds: np.ndarray
    k: int
    offsets: np.ndarray
    positions: np.ndarray
    room: np.ndarray
    runs: np.ndarray
    _c5: np.ndarray | None = None

    @classmethod
    def build(cls, seqs, k: int | None = None) -> "KmerIndex":
        """Index of ``seqs``: uint8 codes (n, L), or a list of 1-D code arrays of any lengths (under 2**31 bp in
        all)."""
        if isinstance(seqs, np.ndarray) and seqs.ndim == 2:
            n, L = seqs.shape
            codes = np.ascontiguousarray(seqs, dtype=np.uint8).reshape(-1)
            bounds = np.arange(n + 1, dtype=np.int64) * L
        else:
            parts = [np.asarray(s, dtype=np.uint8).reshape(-1) for s in seqs]
            bounds = np.zeros(len(parts) + 1, dtype=np.int64)
            bounds[1:] = np.cumsum([len(s) for s in parts])
            codes = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
        if len(codes) >= 2 ** 31 - 1:
            raise ValueError("index at most 2**31 - 1 bp at a time")
        if codes.size and codes.max() > 4:
            raise ValueError("sequence codes must be 0..4 (A C G T N)")
        k = index_k(len(codes)) if k is None else int(k)
        if not 1 <= k <= 13:
            raise ValueError(f"k-mer length {k} must be in 1..13")
        km, room, runs = _prepare(codes, bounds, k)
        offsets, positions = _sort(km, k)
        return cls(codes, bounds, k, offsets, positions, room, runs)

    @property
    def c5(self) -> np.ndarray:
        """(T,) uint16 base-5 codes of the 5 letters from each position (streamed scans; made on first use)."""
        if self._c5 is None:
            self._c5 = _codes5(self.codes, self.bounds)
        return self._c5

    def seq_of(self, x: np.ndarray) -> np.ndarray:
        """Sequence number of each position ``x`` (int64)."""
        return np.searchsorted(self.bounds, x, side="right").astype(np.int64) - 1


# ----------------------------------------------------------------------------- scan plan
@dataclass
class ScanPlan:
    """Rows to scan (a motif on one strand each): weights concatenated over rows, ``(sum w, 5)`` with an all-zero
    last column for N; row ``r`` uses weight rows ``starts[r]:starts[r + 1]``.

    ``decision`` (float64) decides (a window is reported iff its decision sum >= ``cuts[r]``); ``score``
    (float64, the log-odds PWM) and ``grid`` (int64, the PWM on the p-value grid) are summed for reported
    windows."""

    decision: np.ndarray
    score: np.ndarray
    grid: np.ndarray
    starts: np.ndarray
    cuts: np.ndarray

    @classmethod
    def build(cls, decision, score, grid, cuts) -> "ScanPlan":
        def cat(ws, dtype):
            out = np.zeros((sum(len(w) for w in ws), 5), dtype=dtype)
            if len(out):
                out[:, :4] = np.concatenate([np.asarray(w, dtype=dtype).reshape(-1, 4) for w in ws])
            return out

        starts = np.zeros(len(decision) + 1, dtype=np.int64)
        starts[1:] = np.cumsum([len(w) for w in decision])
        return cls(cat(decision, np.float64), cat(score, np.float64), cat(grid, np.int64), starts,
                   np.asarray(cuts, dtype=np.float64))

    @property
    def n_rows(self) -> int:
        return len(self.cuts)


# ----------------------------------------------------------------------------- kernels
@numba.njit(cache=True, nogil=True)
def _emit(buf, n, x, w, off, codes, score, grid):  # pragma: no cover - compiled
    """Append window ``x`` with its left-to-right log-odds and grid sums to ``buf`` (grown as needed)."""
    if n == buf.shape[0]:
        new = np.empty((2 * n, 3), dtype=np.float64)
        new[:n] = buf
        buf = new
    s = 0.0
    z = 0
    for j in range(w):
        c = codes[x + j]
        s += score[off + j, c]
        z += grid[off + j, c]
    buf[n, 0] = x
    buf[n, 1] = s
    buf[n, 2] = z
    return buf


@numba.njit(cache=True, nogil=True)
def _order_desc(v):  # pragma: no cover - compiled
    """Indices of ``v`` by decreasing value, ties in index order (an insertion sort: PWMs are short, and it
    compiles far faster than numba's argsort)."""
    n = v.shape[0]
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        j = i
        while j > 0 and v[order[j - 1]] < v[i]:
            order[j] = order[j - 1]
            j -= 1
        order[j] = i
    return order


@numba.njit(cache=True, nogil=True, inline="always")
def _indexed(codes, room, p, k):  # pragma: no cover - compiled
    """Whether position ``p`` is filed in the index (no N among its k letters within its sequence)."""
    span = min(k, np.int64(room[p]) >> 8)
    for d in range(span):
        if codes[p + d] >= 4:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _tables(D, off, w, first):  # pragma: no cover - compiled
    """(len(first), 3125) tables: entry c of table g sums the columns ``first[g] .. first[g + 1] - 1`` (the last
    to ``w``) of the PWM at rows ``off ..`` of ``D``, column first[g] + d at the letter of base-5 digit d of c
    (digit 4 = N adds 0)."""
    nt = first.shape[0]
    tab = np.zeros((nt, 5 ** Q5), dtype=np.float64)
    for g in range(nt):
        width = (first[g + 1] if g + 1 < nt else w) - first[g]
        for c in range(5 ** Q5):
            v = 0.0
            cc = c
            for d in range(Q5):
                x = cc % 5
                cc //= 5
                if d < width and x < 4:
                    v += D[off + first[g] + d, x]
            tab[g, c] = v
    return tab


@numba.njit(cache=True, nogil=True)
def _row_bounds(D, off, w):  # pragma: no cover - compiled
    """Per column of the PWM at rows ``off .. off + w - 1``: the most it adds (its best letter, or 0 for N) and its
    best letter minus the mean (how selective it is)."""
    cmax = np.empty(w, dtype=np.float64)
    gap = np.empty(w, dtype=np.float64)
    for j in range(w):
        mx = max(max(D[off + j, 0], D[off + j, 1]), max(D[off + j, 2], D[off + j, 3]))
        cmax[j] = max(mx, 0.0)
        gap[j] = mx - (D[off + j, 0] + D[off + j, 1] + D[off + j, 2] + D[off + j, 3]) / 4.0
    return cmax, gap


@numba.njit(cache=True, nogil=True)
def _stream_row(off, w, cut, codes, c5, bounds, D, S, G, cmax, gap, buf):  # pragma: no cover - compiled
    """Every window scored from 5-column tables, most selective block first, abandoned once its bound falls
    below ``cut``; with at most 4 tables every window takes all of them (no branch to mispredict)."""
    best = -np.inf
    ph_best = 0
    for ph in range(min(Q5, w)):  # the phase of the blocks whose two best blocks are the most selective
        g1 = -np.inf
        g2 = -np.inf
        j = 0
        while j < w:
            e = min(w, ph if (j == 0 and ph > 0) else j + Q5)
            g = 0.0
            for t in range(j, e):
                g += gap[t]
            if g > g1:
                g2 = g1
                g1 = g
            elif g > g2:
                g2 = g
            j = e
        if g2 == -np.inf:
            g2 = 0.0
        if g1 + g2 > best:
            best = g1 + g2
            ph_best = ph
    nt = 0
    j = 0
    first = np.empty(w + 1, dtype=np.int64)
    while j < w:
        first[nt] = j
        nt += 1
        j = ph_best if (j == 0 and ph_best > 0) else j + Q5
    first = first[:nt]
    tab = _tables(D, off, w, first)
    bgap = np.zeros(nt, dtype=np.float64)
    bmax = np.zeros(nt, dtype=np.float64)
    for g in range(nt):
        e = first[g + 1] if g + 1 < nt else w
        for t in range(first[g], e):
            bgap[g] += gap[t]
            bmax[g] += cmax[t]
    order = _order_desc(bgap)
    tabo = np.empty_like(tab)
    fo = np.empty(nt, dtype=np.int64)
    suf = np.zeros(nt + 1, dtype=np.float64)
    for i in range(nt):
        tabo[i] = tab[order[i]]
        fo[i] = first[order[i]]
    for i in range(nt - 1, -1, -1):
        suf[i] = suf[i + 1] + bmax[order[i]]
    n = 0
    if nt <= 4:  # (tables past nt: table 0 again, times 0)
        t0 = tabo[0]
        t1 = tabo[min(1, nt - 1)]
        t2 = tabo[min(2, nt - 1)]
        t3 = tabo[min(3, nt - 1)]
        m1 = 1.0 if nt > 1 else 0.0
        m2 = 1.0 if nt > 2 else 0.0
        m3 = 1.0 if nt > 3 else 0.0
        f0 = fo[0]
        f1 = fo[min(1, nt - 1)]
        f2 = fo[min(2, nt - 1)]
        f3 = fo[min(3, nt - 1)]
        for s in range(bounds.shape[0] - 1):
            for x in range(bounds[s], bounds[s + 1] - w + 1):
                v = t0[c5[x + f0]] + m1 * t1[c5[x + f1]] + m2 * t2[c5[x + f2]] + m3 * t3[c5[x + f3]]
                if v >= cut:
                    buf = _emit(buf, n, x, w, off, codes, S, G)
                    n += 1
        return buf[:n]
    t0 = tabo[0]
    t1 = tabo[1]
    f0 = fo[0]
    f1 = fo[1]
    need2 = cut - suf[2]
    for s in range(bounds.shape[0] - 1):
        for x in range(bounds[s], bounds[s + 1] - w + 1):
            v = t0[c5[x + f0]] + t1[c5[x + f1]]
            if v < need2:
                continue
            alive = True
            for g in range(2, nt):
                v += tabo[g, c5[x + fo[g]]]
                if v + suf[g + 1] < cut:
                    alive = False
                    break
            if alive and v >= cut:
                buf = _emit(buf, n, x, w, off, codes, S, G)
                n += 1
    return buf[:n]


@numba.njit(cache=True, nogil=True)
def _block_walk(mode, i, off, w, k, cut, codes, room, offsets, positions, D, S, G, blk_a, blk_w, blk_t, blk_m,
                need, outc, osuf, gap, budget, buf, n):  # pragma: no cover - compiled
    """Depth-first walk over block ``i``'s letters (most selective column first) through the k-mers whose block
    score can reach ``need[i]``. ``mode`` 0: count the positions filed under them (stops past ``budget``);
    1: also complete each candidate window and append the hits block ``i`` is the first to find to ``buf``.
    Returns the walk's cost -- nodes visited plus CANDIDATE_COST per candidate position; the walk stops once it is
    past ``budget`` --, then ``buf`` and its length."""
    a = blk_a[i]
    kb = blk_w[i]
    m = blk_a.shape[0]
    n_out = outc.shape[0]
    bgap = np.empty(kb, dtype=np.float64)
    for j in range(kb):
        bgap[j] = gap[a + j]
    bord = _order_desc(bgap)
    bcol = np.empty(kb, dtype=np.int64)
    shift = np.empty(kb, dtype=np.int64)
    bsuf = np.zeros(kb + 1, dtype=np.float64)
    for t in range(kb):
        bcol[t] = off + a + bord[t]
        shift[t] = 2 * (k - 1 - bord[t])
    for t in range(kb - 1, -1, -1):  # a filed k-mer has no N: a column adds at most its best letter
        j = bcol[t]
        bsuf[t] = bsuf[t + 1] + max(max(D[j, 0], D[j, 1]), max(D[j, 2], D[j, 3]))
    free = np.int64(1) << (2 * (k - kb))  # k-mer codes sharing the block's letters (letters after the block)
    rem0 = osuf[0]  # most the other blocks and the outside columns add
    for j in range(m):
        if j != i:
            rem0 += blk_m[j]
    nd = need[i]
    letter = np.empty(kb, dtype=np.int64)
    part = np.zeros(kb + 1, dtype=np.float64)
    pref = np.zeros(kb + 1, dtype=np.int64)
    count = 0.0
    if bsuf[0] < nd:
        return count, buf, n
    d = 0
    letter[0] = -1
    while d >= 0:
        count += 1.0
        letter[d] += 1
        if letter[d] > 3:
            d -= 1
            continue
        v = part[d] + D[bcol[d], letter[d]]
        if v + bsuf[d + 1] < nd:
            continue
        c = pref[d] | (letter[d] << shift[d])
        if d + 1 < kb:
            part[d + 1] = v
            pref[d + 1] = c
            d += 1
            letter[d] = -1
            continue
        lo = offsets[c]
        hi = offsets[c + free]
        count += CANDIDATE_COST * (hi - lo)
        if count > budget:  # dearer than streaming the row: the caller streams it
            return count, buf, n
        if mode == 0:
            continue
        for q in range(lo, hi):
            p = np.int64(positions[q])
            rp = np.int64(room[p])
            if (rp & 255) < a or (rp >> 8) < w - a:  # the window [p - a, p - a + w) leaves its sequence
                continue
            x = p - a
            u = v
            rem = rem0
            alive = True
            for j in range(m):
                if j == i:
                    continue
                bj = 0.0
                for t in range(blk_a[j], blk_a[j] + blk_w[j]):
                    bj += D[off + t, codes[x + t]]
                if j < i and bj >= blk_t[j] and _indexed(codes, room, x + blk_a[j], k):
                    alive = False  # block j finds it
                    break
                u += bj
                rem -= blk_m[j]
                if u + rem < cut:
                    alive = False
                    break
            if not alive:
                continue
            for t in range(n_out):
                j = outc[t]
                u += D[off + j, codes[x + j]]
                if u + osuf[t + 1] < cut:
                    alive = False
                    break
            if alive and u >= cut:
                buf = _emit(buf, n, x, w, off, codes, S, G)
                n += 1
    return count, buf, n


@numba.njit(cache=True, nogil=True)
def _near_n(off, w, k, cut, codes, room, runs, bounds, D, S, G, blk_a, blk_w, blk_t, outc, buf,
            n):  # pragma: no cover - compiled
    """Windows with an N within ``w + k - 1`` letters from their start (a block's k-mer may be unfiled): scored
    directly, reported unless a block found them; windows inside an N run score 0."""
    m = blk_a.shape[0]
    span = w + k - 1
    s_prev = -1
    done = -1  # windows up to here are handled
    for r in range(runs.shape[0]):
        na, nb, s = runs[r, 0], runs[r, 1], runs[r, 2]
        if s != s_prev:
            done = bounds[s] - 1
            s_prev = s
        lo = max(bounds[s], na - span + 1, done + 1)
        hi = min(nb - 1, bounds[s + 1] - w)  # last window start to consider
        x = lo
        while x <= hi:
            if x >= na and x + w <= nb:  # wholly N: score 0, and no block files it
                if 0.0 >= cut:
                    buf = _emit(buf, n, x, w, off, codes, S, G)
                    n += 1
                x += 1
                if x < nb - w + 1 and 0.0 < cut:
                    x = nb - w + 1
                continue
            total = 0.0
            found = False
            for j in range(m):
                bj = 0.0
                for t in range(blk_a[j], blk_a[j] + blk_w[j]):
                    bj += D[off + t, codes[x + t]]
                total += bj
                if bj >= blk_t[j] and _indexed(codes, room, x + blk_a[j], k):
                    found = True
            for t in range(outc.shape[0]):
                total += D[off + outc[t], codes[x + outc[t]]]
            if total >= cut and not found:
                buf = _emit(buf, n, x, w, off, codes, S, G)
                n += 1
            x += 1
        done = max(done, hi)
    return buf, n


@numba.njit(cache=True, nogil=True)
def _layout_one(w, k, cut, cmax, gap):  # pragma: no cover - compiled
    """One block: the k consecutive columns with the largest summed gap (all columns when w <= k); threshold
    cut - (the most the other columns add). Returns block starts, widths, thresholds, maxima and the outside
    columns, most selective first."""
    kb = min(w, k)
    o = 0
    if w > k:
        best = -np.inf
        for a in range(w - k + 1):
            g = 0.0
            for j in range(a, a + k):
                g += gap[j]
            if g > best:
                best = g
                o = a
    order = _order_desc(gap)
    outc = np.empty(w - kb, dtype=np.int64)
    t = 0
    for i in range(w):
        j = order[i]
        if j < o or j >= o + kb:
            outc[t] = j
            t += 1
    rest = 0.0
    for t in range(w - kb):
        rest += cmax[outc[t]]
    bm = 0.0
    for j in range(o, o + kb):
        bm += cmax[j]
    return (np.array([o], dtype=np.int64), np.array([kb], dtype=np.int64), np.array([cut - rest]),
            np.array([bm]), outc)


@numba.njit(cache=True, nogil=True)
def _layout_split(w, k, cut, cmax, gap):  # pragma: no cover - compiled
    """ceil(w / k) consecutive blocks covering the PWM, thresholds t_i = max_i - slack * share_i (shares by summed
    gap) minus a margin, so they sum to less than the cut: a hit has some block at or above its threshold."""
    m = (w + k - 1) // k
    base = w // m
    extra = w % m
    blk_a = np.empty(m, dtype=np.int64)
    blk_w = np.empty(m, dtype=np.int64)
    bm = np.zeros(m, dtype=np.float64)
    bg = np.zeros(m, dtype=np.float64)
    a = 0
    for i in range(m):
        blk_a[i] = a
        blk_w[i] = base + (1 if i < extra else 0)
        for j in range(a, a + blk_w[i]):
            bm[i] += cmax[j]
            bg[i] += max(gap[j], 0.0)
        a += blk_w[i]
    total_m = bm.sum()
    total_g = bg.sum()
    slack = total_m - cut
    t = np.empty(m, dtype=np.float64)
    for i in range(m):
        share = bg[i] / total_g if total_g > 0 else blk_w[i] / w
        t[i] = bm[i] - slack * share - 1e-9 * (1.0 + abs(bm[i]) + abs(slack))
    return blk_a, blk_w, t, bm, np.empty(0, dtype=np.int64)


@numba.njit(cache=True, nogil=True)
def _scan_row(r, codes, bounds, k, offsets, positions, room, runs, D, S, G, starts, cuts, dense_frac,
              stream):  # pragma: no cover - compiled
    """Row ``r``'s hits through the index, or none and ``stream[r] = True`` when streaming it is cheaper."""
    off = starts[r]
    w = starts[r + 1] - off
    cut = cuts[r]
    buf = np.empty((16, 3), dtype=np.float64)
    n = 0
    if w == 0 or not cut < np.inf:
        return buf[:0]
    cmax, gap = _row_bounds(D, off, w)
    if cmax.sum() < cut:
        return buf[:0]
    if w > ROOM or dense_frac < 0:  # (dense_frac < 0 forces streaming: tests)
        stream[r] = True
        return buf[:0]
    budget = dense_frac * STREAM_COST * codes.shape[0]
    # one block when it covers most of the PWM (its threshold is then nearly the cut), else the pigeonhole split
    # (measured on JASPAR fungi: one block is cheaper up to w ~ 1.3 k, the split from ~1.5 k)
    if w * 10 <= k * 14:
        blk_a, blk_w, blk_t, blk_m, outc = _layout_one(w, k, cut, cmax, gap)
    else:
        blk_a, blk_w, blk_t, blk_m, outc = _layout_split(w, k, cut, cmax, gap)
    osuf = np.zeros(outc.shape[0] + 1, dtype=np.float64)
    for t in range(outc.shape[0] - 1, -1, -1):
        osuf[t] = osuf[t + 1] + cmax[outc[t]]
    need = np.empty(blk_a.shape[0], dtype=np.float64)
    for i in range(blk_a.shape[0]):
        need[i] = max(blk_t[i], cut - (blk_m.sum() - blk_m[i] + osuf[0]))
    total = 0.0
    for i in range(blk_a.shape[0]):
        c, buf, n = _block_walk(1, i, off, w, k, cut, codes, room, offsets, positions, D, S, G, blk_a, blk_w,
                                blk_t, blk_m, need, outc, osuf, gap, budget - total, buf, n)
        total += c
        if total > budget:  # more candidates than windows are worth: stream the row instead
            stream[r] = True
            return buf[:0]
    buf, n = _near_n(off, w, k, cut, codes, room, runs, bounds, D, S, G, blk_a, blk_w, blk_t, outc, buf, n)
    return buf[:n]


@numba.njit(cache=True, nogil=True, parallel=True)
def _scan_rows(rows, codes, bounds, k, offsets, positions, room, runs, D, S, G, starts, cuts, dense_frac,
               stream):  # pragma: no cover - compiled
    out = [np.empty((0, 3), dtype=np.float64) for _ in range(len(rows))]
    for i in numba.prange(len(rows)):
        out[i] = _scan_row(rows[i], codes, bounds, k, offsets, positions, room, runs, D, S, G, starts, cuts,
                           dense_frac, stream)
    return out


@numba.njit(cache=True, nogil=True)
def _stream_rows(rows, codes, c5, bounds, D, S, G, starts, cuts):  # pragma: no cover - compiled
    """The rows the index would not pay for (few: serial, which also spares compiling a parallel loop)."""
    out = [np.empty((0, 3), dtype=np.float64) for _ in range(len(rows))]
    for i in range(len(rows)):
        r = rows[i]
        off = starts[r]
        w = starts[r + 1] - off
        cmax, gap = _row_bounds(D, off, w)
        out[i] = _stream_row(off, w, cuts[r], codes, c5, bounds, D, S, G, cmax, gap,
                             np.empty((16, 3), dtype=np.float64))
    return out


def scan(index: KmerIndex, plan: ScanPlan) -> dict:
    """Every window of ``index``'s sequences whose decision sum reaches its row's cut, for every row of ``plan``.

    Returns columns (numpy arrays, in no particular order): ``seq`` (int64, sequence number), ``start`` (int64,
    0-based offset in the sequence), ``row`` (int64, plan row), ``score`` (float64 log-odds, summed left to right),
    ``grid`` (int64 grid score)."""
    rows = np.argsort(-(plan.starts[1:] - plan.starts[:-1]), kind="stable").astype(np.int64)  # wide (slow) first
    stream = np.zeros(plan.n_rows, dtype=np.bool_)
    with numba.parallel_chunksize(1):
        parts = _scan_rows(rows, index.codes, index.bounds, index.k, index.offsets, index.positions, index.room,
                           index.runs, plan.decision, plan.score, plan.grid, plan.starts, plan.cuts, DENSE_FRACTION,
                           stream)
        parts = list(parts)
        if stream.any():
            srows = np.flatnonzero(stream).astype(np.int64)
            parts += list(_stream_rows(srows, index.codes, index.c5, index.bounds, plan.decision, plan.score,
                                       plan.grid, plan.starts, plan.cuts))
            rows = np.concatenate([rows, srows])
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    flat = np.concatenate(parts) if sizes.sum() else np.zeros((0, 3))
    x = flat[:, 0].astype(np.int64)
    seq = index.seq_of(x)
    return {"seq": seq, "start": x - index.bounds[seq], "row": np.repeat(rows, sizes), "score": flat[:, 1],
            "grid": np.rint(flat[:, 2]).astype(np.int64)}


# ----------------------------------------------------------------------------- pieces
def batches(seqs, max_width: int, chunk_bp: int | None = None) -> list[list[tuple]]:
    """Sequences (a list of 1-D code arrays) cut into pieces of at most ``chunk_bp`` (default :data:`CHUNK_BP`)
    bp, overlapping by ``max_width - 1`` so every window of width <= ``max_width`` lies wholly in one piece, and
    grouped into batches of at most ``chunk_bp`` bp (one index each). Each piece is ``(sequence number, offset,
    codes, owned)``: it reports the windows starting before ``owned`` (the rest belong to the next piece)."""
    chunk = int(CHUNK_BP if chunk_bp is None else chunk_bp)
    step = chunk - (int(max_width) - 1)
    if step < 1:
        raise ValueError(f"pieces of {chunk} bp cannot hold a {max_width} bp PWM")
    out, cur, size = [], [], 0
    for i, s in enumerate(seqs):
        s = np.asarray(s, dtype=np.uint8).reshape(-1)
        n = len(s)
        a = 0
        while a < n:
            last = a + chunk >= n
            piece = (i, a, s[a:a + chunk], n - a if last else step)
            if cur and size + len(piece[2]) > chunk:
                out.append(cur)
                cur, size = [], 0
            cur.append(piece)
            size += len(piece[2])
            a = n if last else a + step
    if cur:
        out.append(cur)
    return out


# ----------------------------------------------------------------------------- dense scores
@numba.njit(cache=True, nogil=True)
def _dense(c5, n, L, tf, tr, first, w, out):  # pragma: no cover - compiled
    """out[i, p, 0/1] = forward / reverse-complement score of the window starting at p of sequence i (-inf past
    the end)."""
    nt = tf.shape[0]
    for i in range(n):
        a = i * L
        for p in range(L):
            if p + w > L:
                out[i, p, 0] = -np.inf
                out[i, p, 1] = -np.inf
                continue
            f = 0.0
            r = 0.0
            for g in range(nt):
                c = c5[a + p + first[g]]
                f += tf[g, c]
                r += tr[g, c]
            out[i, p, 0] = f
            out[i, p, 1] = r


def codes5(codes: np.ndarray) -> np.ndarray:
    """Flat base-5 codes (n * L,) uint16 of sequences (n, L) uint8 (see :attr:`KmerIndex.c5`)."""
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    n, L = codes.shape
    return _codes5(codes.reshape(-1), np.arange(n + 1, dtype=np.int64) * L)


def dense_scores(codes: np.ndarray, pwm: np.ndarray, c5: np.ndarray | None = None) -> np.ndarray:
    """Score of ``pwm`` (w, 4) on both strands at every window start of sequences ``codes`` (n, L) uint8.

    Returns (n, L, 2) float64: [..., 0] the PWM, [..., 1] its reverse complement, on the window starting there;
    -inf where the window runs past the end. ``c5``: :func:`codes5` of ``codes``, when several PWMs scan them."""
    codes = np.asarray(codes, dtype=np.uint8)
    n, L = codes.shape
    c5 = codes5(codes) if c5 is None else c5
    pwm = np.asarray(pwm, dtype=np.float64)
    w = len(pwm)
    D = np.zeros((w, 5))
    D[:, :4] = pwm
    R = np.zeros((w, 5))
    R[:, :4] = pwm[::-1, ::-1]
    first = np.arange(0, w, Q5, dtype=np.int64)
    out = np.empty((n, L, 2), dtype=np.float64)
    _dense(c5, n, L, _tables(D, 0, w, first), _tables(R, 0, w, first), first, w, out)
    return out
