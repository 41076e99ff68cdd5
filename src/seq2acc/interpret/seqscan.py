"""PWM scanning of DNA sequences without a convolution (issue 17): a k-mer index and branch and bound, in numba.

A sequence scan needs only the windows above a motif's threshold, so it need not score every window:

1. **Index** (:class:`KmerIndex`, built once for all motifs): the sequences as uint8 codes (A0 C1 G2 T3, 4 = N),
   every position's k-mer (``k`` ~ log4 of the total length, at most :data:`MAX_K`) and the positions sorted by
   k-mer (a counting sort), so the positions of one k-mer, or of a run of consecutive k-mer codes, are one slice.
2. **Per motif and strand** (a row of a :class:`ScanPlan`; in parallel over the rows with ``prange``): a block
   of ``k`` consecutive PWM columns (the whole PWM when it is narrower; letters after it are free) is chosen
   where the columns are most selective. A depth-first walk over the block's letters keeps only the prefixes
   whose partial score plus the best the other columns could add (``rest``) can still reach the cut, so it
   visits the few k-mers a hit can start with; their positions are read from the index, and each candidate
   window is completed column by column, dropped as soon as its bound falls below the cut.
3. Windows whose block k-mer is not in the index -- it holds an N, or (for a PWM narrower than ``k``) runs past
   the sequence's end -- are kept in side lists and scored directly, with the same bounds. A block entirely of N
   adds 0, so windows in N runs are scored only for motifs whose ``rest`` alone reaches the cut.

Every window is found through exactly one block position, so each is reported once; a window is reported iff its
*decision score* (a sum of ``decision`` weights) is at least the cut. The decision weights are integers on the
p-value grid for word look-ups (exact) or the float PWM for score look-ups (the cut then carries a margin and the
caller applies the exact rule). For every reported window the kernel also returns its float64 log-odds score,
summed left to right, and its integer grid score, so p-values are one table look-up.

N (code 4) adds 0 to every score, as an all-zero one-hot row adds 0 to the convolution's.

:func:`dense_scores` scores every window of one PWM on both strands (the PWM baseline's best score in a central
window needs all of them) from tables of 5 consecutive columns over base-5 codes (N included): a window costs
``ceil(w / 5)`` look-ups per strand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

MAX_K = 11  # k-mer length cap: 4**11 bucket offsets (32 MB of int64); chosen from the total length
MIN_K = 4
Q5 = 5  # columns per look-up table of the streaming scan (base-5 codes: A C G T N)
# A row whose k-mer block lets more than this fraction of all positions through is streamed over every window with
# 5-column tables instead (index candidates cost ~100 ns each in random order, a streamed window ~1-2 ns)
DENSE_FRACTION = 1 / 64


def index_k(total_bp: int) -> int:
    """k-mer length of an index over ``total_bp`` bases: about one position per bucket, in [MIN_K, MAX_K]."""
    k = int(round(np.log(max(total_bp, 1)) / np.log(4)))
    return int(min(MAX_K, max(MIN_K, k)))


# ----------------------------------------------------------------------------- codes
@numba.njit(cache=True, nogil=True)
def _onehot_to_codes(x, out):  # pragma: no cover - compiled
    """(n, L, 4) one-hot -> flat uint8 codes; False if a row is not all zeros or a single 1."""
    n, L, _ = x.shape
    for i in range(n):
        for j in range(L):
            c = 4
            nz = 0
            for b in range(4):
                v = x[i, j, b]
                if v != 0:
                    if v != 1:
                        return False
                    nz += 1
                    c = b
            if nz > 1:
                return False
            out[i * L + j] = c
    return True


def onehot_to_codes(x: np.ndarray) -> np.ndarray | None:
    """uint8 codes (n, L) of one-hot sequences (n, L, 4), N = 4 for all-zero rows; None when some row is not a
    0/1 one-hot row with at most one 1 (soft or weighted inputs: those are scanned by the convolution)."""
    x = np.ascontiguousarray(x)
    if x.dtype.kind not in "fiub":
        return None
    n, L = x.shape[0], x.shape[1]
    out = np.empty(n * L, dtype=np.uint8)
    if x.dtype.kind == "b":
        x = x.view(np.uint8)
    if not _onehot_to_codes(x, out):
        return None
    return out.reshape(n, L)


# ----------------------------------------------------------------------------- index
@numba.njit(cache=True, nogil=True)
def _build_index(codes, bounds, k):  # pragma: no cover - compiled
    T = codes.shape[0]
    n_seq = bounds.shape[0] - 1
    nb = 1 << (2 * k)
    km = np.empty(T, dtype=np.int32)  # k-mer code, or -1 N inside, -2 all N, -3 runs past the end
    seqid = np.empty(T, dtype=np.int32)
    c5 = np.empty(T, dtype=np.uint16)  # base-5 code of the 5 letters from p (digit d = letter p + d; N past the end)
    counts = np.zeros(nb + 1, dtype=np.int32)
    n_special = 0
    n_edge = 0
    n_runs = 0
    top = 2 * (k - 1)
    for s in range(n_seq):
        a, b = bounds[s], bounds[s + 1]
        c = np.int32(0)
        q = 3124  # 5 N
        next_n = b  # first N at or after p
        next_acgt = b  # first A/C/G/T at or after p
        prev_null = False
        for p in range(b - 1, a - 1, -1):
            x = np.int32(codes[p])
            seqid[p] = s
            q = x + 5 * (q % 625)
            c5[p] = q
            if x < 4:
                next_acgt = p
                c = (x << top) | (c >> 2)
            else:
                next_n = p
                c = c >> 2
            end = min(p + k, b)
            is_null = False
            if next_acgt >= end:
                km[p] = -2
                is_null = True
            elif p + k > b:
                km[p] = -3
                n_edge += 1
            elif next_n < p + k:
                km[p] = -1
                n_special += 1
            else:
                km[p] = c
                counts[c + 1] += 1
            if is_null and not prev_null:
                n_runs += 1
            prev_null = is_null
    for i in range(nb):
        counts[i + 1] += counts[i]
    pos = np.empty(counts[nb], dtype=np.int32)
    fill = counts[:nb].copy()
    special = np.empty(n_special, dtype=np.int64)
    edge = np.empty(n_edge, dtype=np.int64)
    null = np.empty((n_runs, 2), dtype=np.int64)  # runs [a, b) of all-N positions (within one sequence)
    n_special = 0
    n_edge = 0
    r = -1
    for p in range(T):
        c = km[p]
        if c >= 0:
            pos[fill[c]] = p
            fill[c] += 1
        elif c == -1:
            special[n_special] = p
            n_special += 1
        elif c == -3:
            edge[n_edge] = p
            n_edge += 1
        else:
            if p == 0 or km[p - 1] != -2 or seqid[p - 1] != seqid[p]:
                r += 1
                null[r, 0] = p
            null[r, 1] = p + 1
    return counts, pos, seqid, c5, special, edge, null


@dataclass
class KmerIndex:
    """Sequences as concatenated codes with their k-mer index (see the module docstring).

    ``codes`` (T,) uint8; ``bounds`` (n + 1,) int64 sequence starts in ``codes``; ``offsets`` (4**k + 1,) int64
    and ``positions``: the positions of k-mer ``c`` are ``positions[offsets[c]:offsets[c + 1]]`` (first letter
    most significant); ``seqid`` (T,) int32; ``c5`` (T,) uint16 base-5 codes of the 5 letters from each position
    (digit ``d``, weight ``5**d``, is the letter at position + d; N and past the end read 4); ``special`` positions whose k-mer holds an N (not only N), ``edge``
    positions whose k-mer runs past their sequence's end (not only N), ``null`` (r, 2) runs of positions whose
    k-mer (within the sequence) is all N."""

    codes: np.ndarray
    bounds: np.ndarray
    k: int
    offsets: np.ndarray
    positions: np.ndarray
    seqid: np.ndarray
    c5: np.ndarray
    special: np.ndarray
    edge: np.ndarray
    null: np.ndarray

    @classmethod
    def build(cls, seqs, k: int | None = None) -> "KmerIndex":
        """Index of ``seqs``: uint8 codes (n, L), or a list of 1-D code arrays of any lengths."""
        if isinstance(seqs, np.ndarray) and seqs.ndim == 2:
            n, L = seqs.shape
            codes = np.ascontiguousarray(seqs, dtype=np.uint8).reshape(-1)
            bounds = np.arange(n + 1, dtype=np.int64) * L
        else:
            parts = [np.asarray(s, dtype=np.uint8).reshape(-1) for s in seqs]
            bounds = np.zeros(len(parts) + 1, dtype=np.int64)
            bounds[1:] = np.cumsum([len(s) for s in parts])
            codes = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
        if codes.size and codes.max() > 4:
            raise ValueError("sequence codes must be 0..4 (A C G T N)")
        k = index_k(len(codes)) if k is None else int(k)
        offsets, positions, seqid, c5, special, edge, null = _build_index(codes, bounds, k)
        return cls(codes, bounds, k, offsets, positions, seqid, c5, special, edge, null)


# ----------------------------------------------------------------------------- scan plan
@dataclass
class ScanPlan:
    """Rows to scan (a motif on one strand each): weights concatenated over rows, ``(sum w, 5)`` with an all-zero
    last column for N; row ``r`` uses weight rows ``starts[r]:starts[r + 1]``.

    ``decision`` (float64) decides (a window is reported iff its decision sum >= ``cuts[r]``), ``score``
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
            out[:, :4] = np.concatenate([np.asarray(w, dtype=dtype) for w in ws])
            return out

        starts = np.zeros(len(decision) + 1, dtype=np.int64)
        starts[1:] = np.cumsum([len(w) for w in decision])
        return cls(cat(decision, np.float64), cat(score, np.float64), cat(grid, np.int64), starts,
                   np.asarray(cuts, dtype=np.float64))

    @property
    def n_rows(self) -> int:
        return len(self.cuts)


@numba.njit(cache=True, nogil=True)
def _emit(buf, n, x, w, off, codes, score, grid):  # pragma: no cover - compiled
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
def _direct(x, w, off, codes, D, order, suffix, cut):  # pragma: no cover - compiled
    """Decision sum of window ``x`` over all columns in ``order``, abandoned (-inf) once it cannot reach ``cut``."""
    v = 0.0
    for t in range(w):
        j = order[t]
        v += D[off + j, codes[x + j]]
        if v + suffix[t + 1] < cut:
            return -np.inf
    return v


@numba.njit(cache=True, nogil=True)
def _tables(W, a, w, ph):  # pragma: no cover - compiled
    """Look-up tables of the columns ``a .. a + w - 1`` of ``W`` (rows, 5) cut into blocks of 5 consecutive columns
    (the first block holds ``ph`` columns when ``ph`` > 0): returns (tables (n_blocks, 3125), first column of each
    block within the PWM). Entry ``c`` of a block sums column ``first + d`` at letter ``digit d of c`` (base 5,
    digit 4 = N adds 0); digits past the block add 0."""
    firsts = []
    j = 0
    if ph > 0:
        firsts.append(0)
        j = ph
    while j < w:
        firsts.append(j)
        j += Q5
    nt = len(firsts)
    first = np.empty(nt, dtype=np.int64)
    for g in range(nt):
        first[g] = firsts[g]
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
                    v += W[a + first[g] + d, x]
            tab[g, c] = v
    return tab, first


@numba.njit(cache=True, nogil=True)
def _stream_row(off, w, cut, codes, c5, bounds, D, S, G, cmax, gap, buf):  # pragma: no cover - compiled
    """Every window scored from 5-column tables, most selective block first, abandoned once its bound falls
    below ``cut`` (for PWMs whose k-mer block passes too many windows for the index to pay)."""
    # the phase of the 5-column blocks whose two best blocks are the most selective
    best = -np.inf
    ph_best = 0
    for ph in range(min(Q5, w)):
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
    tab, first = _tables(D, off, w, ph_best)
    nt = tab.shape[0]
    bgap = np.empty(nt, dtype=np.float64)
    bmax = np.empty(nt, dtype=np.float64)
    for g in range(nt):
        e = first[g + 1] if g + 1 < nt else w
        bgap[g] = 0.0
        bmax[g] = 0.0
        for t in range(first[g], e):
            bgap[g] += gap[t]
            bmax[g] += cmax[t]
    order = np.argsort(-bgap, kind="mergesort")
    tabo = np.empty_like(tab)
    fo = np.empty(nt, dtype=np.int64)
    suf = np.zeros(nt + 1, dtype=np.float64)
    for i in range(nt):
        tabo[i] = tab[order[i]]
        fo[i] = first[order[i]]
    for i in range(nt - 1, -1, -1):
        suf[i] = suf[i + 1] + bmax[order[i]]
    n = 0
    if nt == 1:  # one look-up is the whole score
        for s in range(bounds.shape[0] - 1):
            for x in range(bounds[s], bounds[s + 1] - w + 1):
                if tabo[0, c5[x]] >= cut:
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
def _scan_row(r, codes, bounds, k, offsets, positions, seqid, c5, special, edge, null, D, S, G, starts, cuts,
              dense_frac):  # pragma: no cover - compiled
    off = starts[r]
    w = starts[r + 1] - off
    cut = cuts[r]
    buf = np.empty((16, 3), dtype=np.float64)
    n = 0
    if w == 0 or not cut < np.inf:
        return buf[:0]
    cmax = np.empty(w, dtype=np.float64)  # most a column adds: its best letter, or 0 for N
    gap = np.empty(w, dtype=np.float64)
    for j in range(w):
        m = max(max(D[off + j, 0], D[off + j, 1]), max(D[off + j, 2], D[off + j, 3]))
        cmax[j] = max(m, 0.0)
        gap[j] = m - (D[off + j, 0] + D[off + j, 1] + D[off + j, 2] + D[off + j, 3]) / 4.0
    # all columns, most selective first, for direct scoring; suffix[t] = most the columns order[t:] add
    order = np.argsort(-gap, kind="mergesort")
    suffix = np.zeros(w + 1, dtype=np.float64)
    for t in range(w - 1, -1, -1):
        suffix[t] = suffix[t + 1] + cmax[order[t]]
    if suffix[0] < cut:
        return buf[:0]
    # the block: k consecutive columns with the largest summed gap (all columns when w <= k)
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
    # columns outside the block, most selective first, with their suffix bounds
    n_out = w - kb
    outc = np.empty(n_out, dtype=np.int64)
    t = 0
    for i in range(w):
        j = order[i]
        if j < o or j >= o + kb:
            outc[t] = j
            t += 1
    osuf = np.zeros(n_out + 1, dtype=np.float64)
    for t in range(n_out - 1, -1, -1):
        osuf[t] = osuf[t + 1] + cmax[outc[t]]
    rest = osuf[0]
    # the block's columns, most selective first (the walk prunes early); a valid k-mer has no N, so a block column
    # adds at most its best letter; column bcol[t] is digit t of the walk, at bit shift[t] of the k-mer code
    bgap = np.empty(kb, dtype=np.float64)
    for j in range(kb):
        bgap[j] = gap[o + j]
    bord = np.argsort(-bgap, kind="mergesort")
    bcol = np.empty(kb, dtype=np.int64)
    shift = np.empty(kb, dtype=np.int64)
    bsuf = np.zeros(kb + 1, dtype=np.float64)
    for t in range(kb):
        bcol[t] = off + o + bord[t]
        shift[t] = 2 * (k - 1 - bord[t])
    for t in range(kb - 1, -1, -1):
        j = bcol[t]
        bsuf[t] = bsuf[t + 1] + max(max(D[j, 0], D[j, 1]), max(D[j, 2], D[j, 3]))
    need = cut - rest
    free = 1 << (2 * (k - kb))  # codes sharing the block's letters (free letters after a narrow PWM)
    letter = np.empty(kb, dtype=np.int64)
    part = np.zeros(kb + 1, dtype=np.float64)
    pref = np.zeros(kb + 1, dtype=np.int64)
    if bsuf[0] < need:
        return buf[:0]
    # pass 1: how many windows the block lets through; too many -> stream over every window instead
    budget = dense_frac * codes.shape[0]
    n_cand = 0
    dense = dense_frac < 0  # (forced: tests)
    if n_out > 0 and not dense:
        d = 0
        letter[0] = -1
        while d >= 0:
            letter[d] += 1
            if letter[d] > 3:
                d -= 1
                continue
            v = part[d] + D[bcol[d], letter[d]]
            if v + bsuf[d + 1] < need:
                continue
            c = pref[d] | (letter[d] << shift[d])
            if d + 1 < kb:
                part[d + 1] = v
                pref[d + 1] = c
                d += 1
                letter[d] = -1
                continue
            n_cand += offsets[c + free] - offsets[c]
            if n_cand > budget:
                dense = True
                break
    if dense:
        return _stream_row(off, w, cut, codes, c5, bounds, D, S, G, cmax, gap, buf)
    # pass 2: the k-mers a hit can start with, their positions from the index, each window completed
    d = 0
    letter[0] = -1
    while d >= 0:
        letter[d] += 1
        if letter[d] > 3:
            d -= 1
            continue
        v = part[d] + D[bcol[d], letter[d]]
        if v + bsuf[d + 1] < need:
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
        for i in range(lo, hi):
            p = np.int64(positions[i])
            x = p - o
            s = seqid[p]
            if x < bounds[s] or x + w > bounds[s + 1]:
                continue
            u = v
            alive = True
            for t in range(n_out):
                j = outc[t]
                u += D[off + j, codes[x + j]]
                if u + osuf[t + 1] < cut:
                    alive = False
                    break
            if alive and u >= cut:
                buf = _emit(buf, n, x, w, off, codes, S, G)
                n += 1
    # windows whose block k-mer is not indexed
    for i in range(special.shape[0]):
        x = special[i] - o
        s = seqid[special[i]]
        if x < bounds[s] or x + w > bounds[s + 1]:
            continue
        if _direct(x, w, off, codes, D, order, suffix, cut) >= cut:
            buf = _emit(buf, n, x, w, off, codes, S, G)
            n += 1
    if w < k:  # (a wider PWM's window always holds its block: a block past the end is no window)
        for i in range(edge.shape[0]):
            x = edge[i]
            if x + w > bounds[seqid[x] + 1]:
                continue
            if _direct(x, w, off, codes, D, order, suffix, cut) >= cut:
                buf = _emit(buf, n, x, w, off, codes, S, G)
                n += 1
    if rest >= cut:  # a block of N adds 0: windows there can reach the cut on the other columns alone
        for i in range(null.shape[0]):
            for p in range(null[i, 0], null[i, 1]):
                x = p - o
                s = seqid[p]
                if x < bounds[s] or x + w > bounds[s + 1]:
                    continue
                if _direct(x, w, off, codes, D, order, suffix, cut) >= cut:
                    buf = _emit(buf, n, x, w, off, codes, S, G)
                    n += 1
    return buf[:n]


@numba.njit(cache=True, nogil=True, parallel=True)
def _scan_rows(rows, codes, bounds, k, offsets, positions, seqid, c5, special, edge, null, D, S, G, starts,
               cuts, dense_frac):  # pragma: no cover - compiled
    out = [np.empty((0, 3), dtype=np.float64) for _ in range(len(rows))]
    for i in numba.prange(len(rows)):
        out[i] = _scan_row(rows[i], codes, bounds, k, offsets, positions, seqid, c5, special, edge, null, D, S, G,
                           starts, cuts, dense_frac)
    return out


def scan(index: KmerIndex, plan: ScanPlan) -> dict:
    """Every window of ``index``'s sequences whose decision sum reaches its row's cut, for every row of ``plan``.

    Returns columns (numpy arrays, in no particular order): ``seq`` (int64, sequence number), ``start`` (int64,
    0-based offset in the sequence), ``row`` (int64, plan row), ``score`` (float64 log-odds, summed left to right),
    ``grid`` (int64 grid score)."""
    # cheap rows first is no help; numba hands out iterations in blocks, so interleave by motif width
    rows = np.argsort(-(plan.starts[1:] - plan.starts[:-1]), kind="stable").astype(np.int64)
    with numba.parallel_chunksize(1):
        parts = _scan_rows(rows, index.codes, index.bounds, index.k, index.offsets, index.positions, index.seqid,
                           index.c5, index.special, index.edge, index.null, plan.decision, plan.score, plan.grid,
                           plan.starts, plan.cuts, DENSE_FRACTION)
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    flat = np.concatenate(parts) if sizes.sum() else np.zeros((0, 3))
    x = flat[:, 0].astype(np.int64)
    seq = index.seqid[x].astype(np.int64)
    return {"seq": seq, "start": x - index.bounds[seq], "row": np.repeat(rows, sizes), "score": flat[:, 1],
            "grid": np.rint(flat[:, 2]).astype(np.int64)}


