"""Ground-truth simulator: a random genome with a planted regulatory grammar whose answer is known (issue 7).

``seq2acc simulate --config sim.yaml --out DIR`` writes, into DIR:

- ``genome.fa`` (+ ``chrom.sizes``): background sequence (i.i.d. or a dinucleotide Markov chain with set GC and
  CpG depletion) with real JASPAR motif instances sampled from their matrices and written into it;
- ``target.bed``: peaks of regions where the *target grammar* holds (after label noise);
- ``elsewhere.bed``: peaks of regions where the *elsewhere grammar* holds ("open in another cell type");
- ``blacklist.bed`` (may be empty);
- ``truth.tsv``: every planted motif instance (region, motif, JASPAR id, chrom, start, end, strand, role, rule,
  sequence, relative PWM score);
- ``regions.tsv``: every planted region, its design, what each grammar says about it, and the label-noise flips;
- ``bayes_optimal.tsv.gz``: the grammar evaluated on every genome-wide bin (``BinSpec.grid``): the label it
  implies and the Bayes-optimal score P(label = 1 | planted truth); with a ``signal`` section also ``signal_mean``,
  the expected (noise-free) mean signal over the bin;
- ``signal.bw`` (only with a ``signal`` section): a signal track whose strength follows the target grammar (see
  :func:`signal_profile`), the input of a regression task with a known ceiling;
- ``motifs.meme`` and ``motifs/<symbol>.jaspar``: the matrices that were planted (for TOMTOM comparisons);
- ``config.yaml`` (the resolved configuration) and ``summary.json`` (counts and measured composition).

Model of the world (see docs/simulation.md):
- The genome holds non-overlapping *regions* (slots) separated by at least ``regions.min_gap`` bp, so that a
  model input (the context) never sees two regions' motifs together. Motifs are planted inside a window of
  ``regions.width`` bp at the slot centre.
- A grammar is a list of rules plus repressors. A rule holds in a region when every motif of the rule has an
  instance there (distinct instances) and, if the rule has ``spacing: [lo, hi]``, the instances, sorted by
  start, have every edge-to-edge gap in [lo, hi] (any order, any strand). The grammar holds when some rule holds
  and no repressor instance lies in the region. Labels are always computed by *evaluating* the grammar on the
  planted instances, never copied from the design, so decoys that happen to satisfy it are labelled correctly.
- A region where the grammar holds gets a peak of ``regions.peak_width`` bp centred on the instances that
  satisfied the first matching rule. Decoy regions carry motifs that do not satisfy the grammar (a rule's motif
  alone, a pair at the wrong spacing, a rule plus a repressor, a repressor alone). With
  ``regions.bystander_rate`` a target/elsewhere region also gets one *bystander* instance of another
  (non-repressor) motif that leaves the target verdict unchanged, so non-interacting motif pairs occur in peaks.
- Label noise ``label_noise = e``: exactly round(e * n) of the n grammar-positive regions lose their peak, and
  the same number of peaks is placed on empty slots (no motifs). The BED then has n peaks of which a fraction e
  is wrong, and a fraction e of true regions is missing.
- Bayes-optimal score of a bin: 1 - e when the grammar's peaks make it positive, otherwise the (small) rate at
  which noise peaks make bins positive. It knows the planted truth, so it is an upper bound for any model; with
  e = 0 it is exactly the label.
- Signal (optional): every region where the target grammar holds (the planted truth, before label noise) gets a
  Gaussian bump of height ``signal.scale`` x the mean relative PWM score of the instances that satisfied its rule,
  sd ``regions.peak_width / 4``, centred on them, over a flat ``signal.background``; the track holds Poisson
  counts of that expected signal per ``signal.resolution``-bp block (divided by the block width, so the expected
  value per base is the profile). ``signal_mean`` of a bin is the profile's mean over it: the best any model can
  predict from the planted truth.
"""

from __future__ import annotations

import gzip
import itertools
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from seq2acc.io.atomic import atomic_path, write_json, write_text
from seq2acc.data.bins import BinSpec
from seq2acc.errors import ArgumentError, InputError
from seq2acc.interpret.motifs import DEFAULT_RELEASE, fetch_jaspar, log_odds
from seq2acc.seq.encoding import ALPHABET, revcomp_codes
from seq2acc.config import Params

log = logging.getLogger(__name__)


def _bad(key: str, problem: str, fix: str, path) -> InputError:
    """A bad value in the simulation config YAML (not params.yaml): names the file and the key."""
    return InputError(path, f"parameter '{key}': {problem}", fix)


TRUTH_COLUMNS = ["region", "motif", "motif_id", "motif_name", "chrom", "start", "end", "strand", "role", "rule",
                 "sequence", "rel_score"]
REGION_COLUMNS = ["region", "chrom", "start", "end", "kind", "design", "target_rule", "target_start", "target_end",
                  "elsewhere_rule", "target_peak", "noise"]


# ----------------------------------------------------------------------------- grammar
@dataclass(frozen=True)
class Rule:
    """Motifs that together make a region accessible, optionally within an edge-to-edge spacing range."""

    name: str
    motifs: tuple[str, ...]
    spacing: tuple[int, int] | None = None

    def match(self, instances) -> tuple[int, int] | None:
        """Span (min start, max end) of the first combination of distinct instances satisfying the rule, or None.

        ``instances``: iterable of (motif, start, end).
        """
        by = {m: sorted((int(s), int(e)) for mm, s, e in instances if mm == m) for m in set(self.motifs)}
        if any(not by[m] for m in self.motifs):
            return None
        for combo in itertools.product(*(by[m] for m in self.motifs)):
            if len(set(combo)) < len(combo):
                continue  # one instance cannot serve two slots of the rule
            if self.spacing is not None and len(combo) > 1:
                srt = sorted(combo)
                lo, hi = self.spacing
                if not all(lo <= b[0] - a[1] <= hi for a, b in zip(srt, srt[1:])):
                    continue
            return min(s for s, _ in combo), max(e for _, e in combo)
        return None


@dataclass(frozen=True)
class Grammar:
    """Any rule holds and no repressor occurs (in the same region)."""

    rules: tuple[Rule, ...]
    repressors: tuple[str, ...] = ()

    @property
    def motifs(self) -> set[str]:
        return {m for r in self.rules for m in r.motifs} | set(self.repressors)

    def evaluate(self, instances) -> tuple[str, int, int] | None:
        """(rule name, span start, span end) of the first rule that holds, or None (no rule, or repressed)."""
        instances = list(instances)
        if any(m in self.repressors for m, _, _ in instances):
            return None
        for r in self.rules:
            span = r.match(instances)
            if span is not None:
                return (r.name, *span)
        return None


# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class SignalSim:
    """The ``signal`` section: expected signal = background + scale x region strength x Gaussian bump; Poisson counts
    per ``resolution``-bp block."""

    scale: float
    background: float
    resolution: int


@dataclass
class SimConfig:
    path: str
    seed: int
    chrom_names: list[str]
    chrom_lengths: list[int]
    background: str
    gc: float
    cpg_ratio: float
    jaspar_release: str
    motif_specs: dict[str, str]  # symbol -> JASPAR id or path to a JASPAR-format matrix file
    min_score: float
    pseudocount: float
    target: Grammar
    elsewhere: Grammar
    n_target: int  # regions per target rule
    n_elsewhere: int  # regions per elsewhere rule
    n_decoy: int
    bystander_rate: float  # chance a target/elsewhere region gets one extra motif that changes no verdict
    width: int
    peak_width: int
    min_gap: int
    label_noise: float
    n_blacklist: int
    blacklist_width: int
    spec: BinSpec
    raw: dict = field(default_factory=dict)
    signal: "SignalSim | None" = None  # the optional signal track (``signal`` section)

    @property
    def genome_size(self) -> int:
        return int(sum(self.chrom_lengths))


def _grammar(p: Params, key: str, symbols: set[str], required: bool) -> Grammar:
    node = p.raw(key, None)
    if node is None:
        if required:
            raise _bad(key, "is missing", "add a grammar with at least one rule (see benchmarks/sim/small.yaml)", p.path)
        return Grammar(())
    if not isinstance(node, dict):
        raise _bad(key, "must be a mapping with 'rules' (and optional 'repressors')", "see benchmarks/sim/small.yaml", p.path)
    rules = []
    for i, r in enumerate(node.get("rules") or []):
        where = f"{key}.rules[{i}]"
        if not isinstance(r, dict) or not r.get("motifs"):
            raise _bad(where, "a rule needs 'motifs: [symbols]'", "e.g. {name: pair, motifs: [B, C], spacing: [5, 30]}", p.path)
        motifs = tuple(str(m) for m in r["motifs"])
        unknown = [m for m in motifs if m not in symbols]
        if unknown:
            raise _bad(where, f"motif(s) {unknown} are not defined under 'motifs'", f"use one of {sorted(symbols)}", p.path)
        spacing = r.get("spacing")
        if spacing is not None:
            if (not isinstance(spacing, (list, tuple)) or len(spacing) != 2 or not all(isinstance(v, int) for v in spacing)
                    or not 0 <= spacing[0] <= spacing[1]):
                raise _bad(f"{where}.spacing", f"{spacing!r} is not [lo, hi] with 0 <= lo <= hi (bp)", "e.g. spacing: [5, 30]", p.path)
            if len(motifs) < 2:
                raise _bad(f"{where}.spacing", "spacing needs a rule of at least two motifs", "remove spacing or add a motif", p.path)
            spacing = (int(spacing[0]), int(spacing[1]))
        rules.append(Rule(str(r.get("name") or "+".join(motifs)), motifs, spacing))
    if required and not rules:
        raise _bad(f"{key}.rules", "needs at least one rule", "e.g. rules: [{name: A, motifs: [A]}]", p.path)
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise _bad(f"{key}.rules", f"rule names must be unique, got {names}", "give each rule its own name", p.path)
    reps = tuple(str(m) for m in (node.get("repressors") or []))
    bad = [m for m in reps if m not in symbols]
    if bad:
        raise _bad(f"{key}.repressors", f"motif(s) {bad} are not defined under 'motifs'", f"use one of {sorted(symbols)}", p.path)
    if set(reps) & {m for r in rules for m in r.motifs}:
        raise _bad(f"{key}.repressors", "a motif cannot be both activator and repressor in one grammar",
                   "use different motifs", p.path)
    return Grammar(tuple(rules), reps)


def _signal_sim(p: Params, path: str) -> SignalSim | None:
    node = p.raw("signal", None)
    if node is None:
        return None
    if not isinstance(node, dict):
        raise _bad("signal", f"{node!r} must be a mapping {{scale, background, resolution}}",
                   "e.g. signal: {scale: 20, background: 0.5, resolution: 10}, or leave it out for no signal track",
                   path)
    unknown = sorted(set(map(str, node)) - {"scale", "background", "resolution"})
    if unknown:
        raise _bad(f"signal.{unknown[0]}", "is not a key of the signal section", "use scale, background, resolution",
                   path)
    return SignalSim(p.get("signal.scale", float, gt=0), p.get("signal.background", float, 0.5, ge=0),
                     p.get("signal.resolution", int, 10, gt=0))


def load_config(path) -> SimConfig:
    """Read and check a simulation YAML (errors name the file and the key)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "simulation config does not exist", "pass --config benchmarks/sim/small.yaml or your own copy")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise InputError(path, f"not valid YAML: {e}", "fix the YAML syntax") from e
    if not isinstance(data, dict):
        raise InputError(path, "top level must be a mapping", "see benchmarks/sim/small.yaml")
    return config_from_dict(data, str(path))


def config_from_dict(data: dict, path: str = "<sim config>") -> SimConfig:
    p = Params(data, path)
    prefix = p.get("genome.prefix", str, "chr")
    lengths = p.raw("genome.lengths", None)
    if lengths is not None:
        if not isinstance(lengths, list) or not lengths or not all(isinstance(v, int) and v > 0 for v in lengths):
            raise _bad("genome.lengths", f"{lengths!r} must be a list of positive integers (bp)", "e.g. [600000, 500000]", path)
        lengths = [int(v) for v in lengths]
    else:
        n = p.get("genome.n_chromosomes", int, ge=1)
        lengths = [p.get("genome.length", int, ge=1)] * n
    names = [f"{prefix}{i + 1}" for i in range(len(lengths))]
    motifs = p.get("motifs", dict)
    if not motifs:
        raise _bad("motifs", "needs at least one motif", "map a symbol to a JASPAR id, e.g. A: MA0139.2", path)
    motif_specs = {str(k): str(v) for k, v in motifs.items()}
    symbols = set(motif_specs)
    try:
        spec = BinSpec(p.get("bins.bin_size", int, 200, gt=0), p.get("bins.stride", int, 50, gt=0),
                       p.get("bins.context", int, 1000, gt=0), p.get("bins.positive_overlap", float, 0.5, ge=0, lt=1))
    except ArgumentError as e:  # BinSpec names its own argument; here it is the config's bins.<arg>
        raise _bad(f"bins.{e.arg}", e.problem, e.fix, path) from e
    cfg = SimConfig(
        path=path, seed=p.get("seed", int, 0), chrom_names=names, chrom_lengths=lengths,
        background=p.get("background.model", str, "markov", choices=("iid", "markov")),
        gc=p.get("background.gc", float, 0.4, gt=0, lt=1),
        cpg_ratio=p.get("background.cpg_ratio", float, 1.0, gt=0),
        jaspar_release=p.get("jaspar_release", str, DEFAULT_RELEASE),
        motif_specs=motif_specs,
        min_score=p.get("motif_sampling.min_score", float, 0.8, ge=0, le=1),
        pseudocount=p.get("motif_sampling.pseudocount", float, 0.5, ge=0),
        target=_grammar(p, "grammar.target", symbols, True),
        elsewhere=_grammar(p, "grammar.elsewhere", symbols, False),
        n_target=p.get("regions.target", int, ge=0), n_elsewhere=p.get("regions.elsewhere", int, 0, ge=0),
        n_decoy=p.get("regions.decoy", int, 0, ge=0),
        bystander_rate=p.get("regions.bystander_rate", float, 0.0, ge=0, le=1), width=p.get("regions.width", int, 120, gt=0),
        peak_width=p.get("regions.peak_width", int, 200, gt=0), min_gap=p.get("regions.min_gap", int, 1000, ge=0),
        label_noise=p.get("label_noise", float, 0.0, ge=0, lt=0.5),
        n_blacklist=p.get("blacklist.n", int, 0, ge=0), blacklist_width=p.get("blacklist.width", int, 500, gt=0),
        spec=spec, raw=data, signal=_signal_sim(p, path))
    if cfg.min_gap < spec.context:
        log.warning("%s: regions.min_gap %d < bins.context %d: a model input can see two regions", path, cfg.min_gap, spec.context)
    return cfg


# ----------------------------------------------------------------------------- motifs
@dataclass
class PlantedMotif:
    """A matrix that is planted: symbol in the grammar, JASPAR identity and the probabilities sampled from."""

    symbol: str
    motif_id: str
    name: str
    ppm: np.ndarray  # (L, 4) probabilities, ACGT columns (counts + pseudocount, normalised)

    @property
    def length(self) -> int:
        return self.ppm.shape[0]

    @property
    def pwm(self) -> np.ndarray:
        """Log2-odds against a uniform background (``seq2acc.interpret.motifs.log_odds`` of the planted probabilities)."""
        return log_odds(self.ppm, None, pseudocount=0.0)

    def rel_score(self, codes: np.ndarray) -> np.ndarray:
        """Relative PWM score in [0, 1] of (n, L) code arrays read on the motif's own strand (min 0, max 1)."""
        w = self.pwm
        lo, hi = w.min(1).sum(), w.max(1).sum()
        s = w[np.arange(self.length)[None, :], codes].sum(1)
        return (s - lo) / (hi - lo)

    def consensus(self) -> str:
        return "".join(ALPHABET[i] for i in self.ppm.argmax(1))


def load_motifs(cfg: SimConfig) -> dict[str, PlantedMotif]:
    """The configured matrices: JASPAR ids via :func:`seq2acc.interpret.motifs.fetch_jaspar` (offline), or .jaspar files."""
    out = {}
    for sym, spec in cfg.motif_specs.items():
        path = Path(spec)
        if path.suffix in (".jaspar", ".pfm") or path.exists():
            from Bio import motifs as bio_motifs

            if not path.exists():
                raise _bad(f"motifs.{sym}", f"matrix file {spec} does not exist",
                           "give a JASPAR id or an existing .jaspar file", cfg.path)
            try:
                with open(path) as fh:
                    m = bio_motifs.read(fh, "jaspar")
            except Exception as e:  # Biopython raises ValueError/KeyError for malformed files
                raise InputError(path, f"not a JASPAR-format matrix: {e}", "write '>ID NAME' then A/C/G/T [ counts ] rows") from e
            name, mid = str(m.name), path.stem
            counts = np.array([m.counts[b] for b in ALPHABET], dtype=np.float64).T
        else:
            try:
                (jm,) = fetch_jaspar(ids=[spec], release=cfg.jaspar_release)
            except ArgumentError as e:  # bad id or release: e.problem says which
                raise _bad(f"motifs.{sym}", f"cannot load {spec!r} from {cfg.jaspar_release}: {e.problem}",
                           f"use a JASPAR matrix id such as MA0139.2 and a release shipped with pyjaspar ({e.fix})",
                           cfg.path) from e
            name, mid, counts = jm.name, jm.id, jm.counts
        counts = counts + cfg.pseudocount
        out[sym] = PlantedMotif(sym, mid, name, counts / counts.sum(1, keepdims=True))
    return out


def sample_instance(motif: PlantedMotif, rng: np.random.Generator, min_score: float, max_tries: int = 200,
                    path: str = "<sim config>") -> tuple[np.ndarray, float]:
    """Codes (motif strand) drawn column by column from the matrix, resampled until rel. score >= min_score."""
    cum = np.cumsum(motif.ppm, axis=1)
    for _ in range(max_tries):
        u = rng.random((64, motif.length))
        codes = (u[:, :, None] > cum[None, :, :]).sum(-1).clip(0, 3).astype(np.uint8)
        sc = motif.rel_score(codes)
        ok = np.flatnonzero(sc >= min_score)
        if len(ok):
            return codes[ok[0]], float(sc[ok[0]])
    raise _bad("motif_sampling.min_score", f"motif {motif.symbol} ({motif.motif_id}) almost never reaches relative "
               f"score {min_score} when sampled", "lower motif_sampling.min_score (e.g. 0.7)", path)


# ----------------------------------------------------------------------------- background
def _stationary(t: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eig(t.T)
    pi = np.abs(np.real(vecs[:, np.argmin(np.abs(vals - 1))]))
    return pi / pi.sum()


def markov_transitions(gc: float, cpg_ratio: float = 1.0) -> np.ndarray:
    """4x4 transition matrix of a stationary dinucleotide Markov chain with GC fraction ``gc`` and CpG
    observed/expected ratio ``cpg_ratio`` (both exact at stationarity).

    P[a, b] ∝ q_b * w_ab with w_CG = w (else 1) and q = ((1-g)/2, g/2, g/2, (1-g)/2); g and w are found by
    nested bisection (stationary GC increases with g, CpG o/e with w).
    """
    def build(g, w):
        q = np.array([(1 - g) / 2, g / 2, g / 2, (1 - g) / 2])
        wt = np.ones((4, 4))
        wt[1, 2] = w
        t = q[None, :] * wt
        return t / t.sum(1, keepdims=True)

    def fit_g(w):
        lo, hi = 1e-6, 1 - 1e-6
        for _ in range(50):
            mid = (lo + hi) / 2
            pi = _stationary(build(mid, w))
            lo, hi = (mid, hi) if pi[1] + pi[2] < gc else (lo, mid)
        return (lo + hi) / 2

    def oe(w):
        t = build(fit_g(w), w)
        pi = _stationary(t)
        return t[1, 2] / pi[2]  # P(CG) / (P(C) P(G)) = pi_C P[C,G] / (pi_C pi_G)

    if cpg_ratio == 1.0:
        return build(fit_g(1.0), 1.0)
    lo, hi = 1e-4, 1e4
    for _ in range(50):  # bisection on log w
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if oe(mid) < cpg_ratio else (lo, mid)
    w = math.sqrt(lo * hi)
    return build(fit_g(w), w)


def _chain_numba():
    from numba import njit

    @njit(cache=False)
    def run(u, cdf, first):
        out = np.empty(u.shape[0], dtype=np.uint8)
        s = first
        for i in range(u.shape[0]):
            r = u[i]
            k = 0
            while k < 3 and r >= cdf[s, k]:
                k += 1
            out[i] = k
            s = k
        return out

    return run


_CHAIN = None


def background(length: int, model: str, gc: float, cpg_ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Background sequence as codes: i.i.d. with GC ``gc``, or a stationary dinucleotide Markov chain."""
    global _CHAIN
    if model == "iid":
        p = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
        return rng.choice(4, size=length, p=p).astype(np.uint8)
    t = markov_transitions(gc, cpg_ratio)
    pi = _stationary(t)
    first = int(rng.choice(4, p=pi))
    u = rng.random(length)
    if _CHAIN is None:
        _CHAIN = _chain_numba()
    return _CHAIN(u, np.cumsum(t, axis=1), first)


# ----------------------------------------------------------------------------- designs and placement
@dataclass(frozen=True)
class Design:
    """What to plant in one region: blocks of motifs; a block with a gap range is placed contiguously."""

    name: str
    kind: str  # target | elsewhere | decoy | empty | blacklist
    blocks: tuple[tuple[tuple[str, ...], tuple[int, int] | None], ...] = ()


def rule_blocks(rule: Rule):
    if rule.spacing is not None:
        return ((rule.motifs, rule.spacing),)
    return tuple(((m,), None) for m in rule.motifs)


def decoy_designs(g: Grammar) -> list[Design]:
    """Region contents that look like the grammar but do not satisfy it (candidates; checked by evaluation)."""
    out = []
    for r in g.rules:
        if len(r.motifs) > 1:
            for sub in sorted({tuple(m for j, m in enumerate(r.motifs) if j != i) for i in range(len(r.motifs))}):
                blocks = (((sub, r.spacing),) if r.spacing and len(sub) > 1 else tuple(((m,), None) for m in sub))
                out.append(Design(f"partial:{r.name}:{'+'.join(sub)}", "decoy", blocks))
        if r.spacing is not None:
            lo, hi = r.spacing
            span = max(10, hi - lo)
            out.append(Design(f"misspaced:{r.name}", "decoy", ((r.motifs, (hi + 5, hi + 5 + span)),)))
        for d in g.repressors:
            out.append(Design(f"repressed:{r.name}:{d}", "decoy", rule_blocks(r) + (((d,), None),)))
    for d in g.repressors:
        out.append(Design(f"repressor:{d}", "decoy", (((d,), None),)))
    return out


def place(design: Design, lengths: dict[str, int], width: int, rng: np.random.Generator,
          path: str = "<sim config>") -> list[tuple[str, int]]:
    """(motif, offset in window) for each planted motif; blocks do not overlap and stay inside the window."""
    placed: list[tuple[int, int]] = []
    out: list[tuple[str, int]] = []
    for motifs, gap in design.blocks:
        order = list(motifs) if len(motifs) == 1 else [motifs[i] for i in rng.permutation(len(motifs))]
        gaps = [int(rng.integers(gap[0], gap[1] + 1)) if gap else 0 for _ in order[1:]]
        blen = sum(lengths[m] for m in order) + sum(gaps)
        for _ in range(500):
            if blen > width:
                break
            s = int(rng.integers(0, width - blen + 1))
            if all(s + blen <= a or s >= b for a, b in placed):
                break
        else:
            s = None
        if blen > width or s is None:
            raise _bad("regions.width", f"design {design.name!r} needs {blen} bp per block and cannot be placed in a "
                       f"{width}-bp window", "increase regions.width or narrow the spacing ranges", path)
        placed.append((s, s + blen))
        pos = s
        for m, g in zip(order, [0] + gaps):
            pos += g
            out.append((m, pos))
            pos += lengths[m]
    return out


def _layout(lengths: list[int], n_slots: int, slot: int, gap: int, edge: int, rng, path: str) -> list[tuple[int, int]]:
    """Random non-overlapping slot starts: (chrom index, start), slots >= gap apart and >= edge from the ends."""
    usable = np.array([max(0, L - 2 * edge + gap) for L in lengths], dtype=np.float64)
    cap = (usable // (slot + gap)).astype(int)
    if cap.sum() < n_slots:
        raise _bad("regions", f"{n_slots} regions of {slot} bp, {gap} bp apart, do not fit in the genome "
                   f"({sum(lengths)} bp; room for {int(cap.sum())})",
                   "plant fewer regions, lower regions.min_gap or make the genome larger", path)
    share = usable / usable.sum() * n_slots
    n = np.minimum(np.floor(share).astype(int), cap)
    while n.sum() < n_slots:  # largest remainder, within capacity
        rem = np.where(n < cap, share - n, -np.inf)
        n[int(np.argmax(rem))] += 1
    out = []
    for c, (L, k) in enumerate(zip(lengths, n)):
        if k == 0:
            continue
        free = int(usable[c]) - k * (slot + gap)
        offs = np.sort(rng.integers(0, free + 1, size=k)) + np.arange(k) * (slot + gap)
        out += [(c, edge + int(o)) for o in offs]
    return out


# ----------------------------------------------------------------------------- truth -> peaks -> bin scores
def grammar_peaks(truth: pd.DataFrame, grammar: Grammar, peak_width: int) -> pd.DataFrame:
    """Evaluate a grammar on the planted instances of every region: one row per region where it holds
    (region, chrom, rule, span_start, span_end, start, end) with the peak centred on the satisfying span."""
    rows = []
    for region, sub in truth.groupby("region", sort=True):
        res = grammar.evaluate(zip(sub.motif, sub.start, sub.end))
        if res is None:
            continue
        rule, s, e = res
        c = (s + e) // 2
        rows.append((region, sub.chrom.iloc[0], rule, s, e, c - peak_width // 2, c - peak_width // 2 + peak_width))
    return pd.DataFrame(rows, columns=["region", "chrom", "rule", "span_start", "span_end", "start", "end"])


def bayes_optimal(truth: pd.DataFrame, grammar: Grammar, sizes: dict[str, int], spec: BinSpec, peak_width: int,
                  label_noise: float = 0.0) -> pd.DataFrame:
    """Grammar evaluated on every genome-wide bin of ``spec``'s grid: columns chrom, bin_start, grammar (the label
    the grammar's peaks give), score = P(label = 1 | planted truth)."""
    peaks = grammar_peaks(truth, grammar, peak_width)
    frames = []
    for chrom, size in sizes.items():
        grid = spec.grid(size)
        sub = peaks[peaks.chrom == chrom].sort_values("start")
        lab = spec.labels(grid, sub.start.to_numpy(np.int64), sub.end.to_numpy(np.int64))
        frames.append(pd.DataFrame({"chrom": chrom, "bin_start": grid, "grammar": lab}))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["chrom", "bin_start", "grammar"])
    n_flip = int(round(label_noise * len(peaks)))
    per_peak = max(0, math.ceil((peak_width - spec.positive_overlap * spec.bin_size) / spec.stride))
    n_neg = int((df.grammar == 0).sum())
    background = min(1.0, n_flip * per_peak / n_neg) if n_neg else 0.0
    df["score"] = np.where(df.grammar == 1, 1.0 - label_noise, background)
    return df


def signal_profile(truth: pd.DataFrame, grammar: Grammar, sizes: dict[str, int], peak_width: int, scale: float,
                   background: float) -> dict[str, np.ndarray]:
    """Expected signal per base (float64, one array per chromosome): ``background`` plus, for every region where
    ``grammar`` holds, ``scale`` x the mean relative PWM score of the instances inside the span that satisfied its
    rule x exp(-d^2 / (2 sd^2)), d = distance of the base's centre from the span's centre, sd = peak_width / 4
    (cut at 3 sd)."""
    out = {c: np.full(int(n), float(background)) for c, n in sizes.items()}
    peaks = grammar_peaks(truth, grammar, peak_width)
    sd = peak_width / 4.0
    half = int(math.ceil(3 * sd))
    by_region = dict(tuple(truth.groupby("region")))
    for r in peaks.itertuples():
        inst = by_region[r.region]
        inside = inst[(inst.start >= r.span_start) & (inst.end <= r.span_end)]
        strength = float(inside.rel_score.mean()) if len(inside) else 1.0
        centre = (r.span_start + r.span_end) / 2.0
        a, b = max(0, int(centre) - half), min(len(out[r.chrom]), int(centre) + half + 1)
        x = np.arange(a, b) + 0.5
        out[r.chrom][a:b] += scale * strength * np.exp(-0.5 * ((x - centre) / sd) ** 2)
    return out


def signal_counts(profile: dict[str, np.ndarray], resolution: int, rng: np.random.Generator) -> dict:
    """Observed track ``{chrom: (starts, ends, values)}``: per ``resolution``-bp block, Poisson(sum of the expected
    signal over the block) / block width (the last block of a chromosome may be shorter)."""
    out = {}
    for c, lam in profile.items():
        starts = np.arange(0, len(lam), resolution, dtype=np.int64)
        ends = np.minimum(starts + resolution, len(lam))
        expected = np.add.reduceat(lam, starts)
        out[c] = (starts, ends, rng.poisson(expected) / (ends - starts))
    return out


# ----------------------------------------------------------------------------- the simulator
@dataclass
class SimResult:
    out_dir: Path
    fasta: Path
    target_bed: Path
    elsewhere_bed: Path
    blacklist_bed: Path
    truth: Path
    regions: Path
    bayes_optimal: Path
    summary: dict
    signal: Path | None = None  # signal.bw, when the config has a signal section


def _bystander(cfg: SimConfig, design: Design, placed, lengths, rng) -> tuple[str, int] | None:
    """One extra motif instance that changes no verdict (which target rule holds; for elsewhere regions also which
    elsewhere rule holds) on the region, or None:
    gives the combinatorial analyses non-interacting pairs (e.g. A next to a bystander B)."""
    own = {m for motifs, _ in design.blocks for m in motifs}
    cands = sorted(set(cfg.motif_specs) - own - set(cfg.target.repressors) - set(cfg.elsewhere.repressors))
    if not cands:
        return None
    inst = [(m, o, o + lengths[m]) for m, o in placed]
    # Which rule holds (None = none): the target peak stays where it was; an elsewhere region stays one (a target
    # region may become "open elsewhere" too: both sets overlap in real data).
    grammars = (cfg.target, cfg.elsewhere) if design.kind == "elsewhere" else (cfg.target,)

    def verdict(x):
        return tuple((g.evaluate(x) or (None,))[0] for g in grammars)

    before = verdict(inst)
    for m in [cands[i] for i in rng.permutation(len(cands))]:
        for _ in range(50):
            if lengths[m] > cfg.width:
                break
            o = int(rng.integers(0, cfg.width - lengths[m] + 1))
            if any(o < e and o + lengths[m] > s for _, s, e in inst):
                continue
            trial = inst + [(m, o, o + lengths[m])]
            if verdict(trial) == before:
                return m, o
            break
    return None


def _designs(cfg: SimConfig) -> list[Design]:
    plan: list[Design] = []
    for r in cfg.target.rules:
        plan += [Design(r.name, "target", rule_blocks(r))] * cfg.n_target
    for r in cfg.elsewhere.rules:
        plan += [Design(r.name, "elsewhere", rule_blocks(r))] * cfg.n_elsewhere
    return plan


def _write_signal(cfg: SimConfig, truth: pd.DataFrame, sizes: dict, bo: pd.DataFrame, path: Path):
    """Write ``signal.bw`` (:func:`signal_counts` of :func:`signal_profile`, its own random stream, so that the other
    outputs are the same with or without it) and add ``signal_mean`` to the Bayes-optimal table ``bo`` in place."""
    from seq2acc.io.signal import write_bigwig_intervals

    sig = cfg.signal
    profile = signal_profile(truth, cfg.target, sizes, cfg.peak_width, sig.scale, sig.background)
    write_bigwig_intervals(path, signal_counts(profile, sig.resolution, np.random.default_rng([cfg.seed, 21])), sizes)
    means = []
    for chrom, sub in bo.groupby("chrom", sort=False):
        cum = np.r_[0.0, np.cumsum(profile[chrom])]
        b = sub.bin_start.to_numpy(np.int64)
        means.append(pd.Series((cum[b + cfg.spec.bin_size] - cum[b]) / cfg.spec.bin_size, index=sub.index))
    bo["signal_mean"] = pd.concat(means) if means else np.zeros(0)
    pos = bo.grammar == 1
    return path, {"scale": sig.scale, "background": sig.background, "resolution": sig.resolution,
                  "mean_in_grammar_bins": round(float(bo.signal_mean[pos].mean()), 4) if pos.any() else None,
                  "mean_in_other_bins": round(float(bo.signal_mean[~pos].mean()), 4) if (~pos).any() else None}


def _fasta_bytes(name: str, codes: np.ndarray, width: int = 60) -> bytes:
    """One FASTA record, ``width`` letters per line."""
    letters = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)[codes]
    n = len(letters)
    full = n // width
    buf = np.full((full, width + 1), ord("\n"), dtype=np.uint8)
    buf[:, :width] = letters[:full * width].reshape(full, width)
    tail = letters[full * width:].tobytes() + (b"\n" if n % width else b"")
    return f">{name}\n".encode() + buf.tobytes() + tail


def _meme(motifs: dict[str, PlantedMotif]) -> str:
    out = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
           "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]
    for m in motifs.values():
        out += [f"MOTIF {m.symbol} {m.motif_id}_{m.name}", "",
                f"letter-probability matrix: alength= 4 w= {m.length} nsites= 20 E= 0"]
        out += ["  ".join(f"{v:.6f}" for v in row) for row in m.ppm]
        out.append("")
    return "\n".join(out)


def _jaspar_text(m: PlantedMotif) -> str:
    rows = [f">{m.motif_id}\t{m.name}"]
    for j, b in enumerate(ALPHABET):
        rows.append(f"{b} [ " + " ".join(f"{100 * v:.3f}" for v in m.ppm[:, j]) + " ]")
    return "\n".join(rows) + "\n"


def simulate(config, out_dir, seed: int | None = None) -> SimResult:
    """Simulate a genome with a planted grammar into ``out_dir`` (see module docstring). Same seed -> same bytes.

    Parameters
    ----------
    config : SimConfig, str or Path
        A simulation YAML (e.g. ``benchmarks/sim/small.yaml``; read with :func:`load_config`) or a loaded
        :class:`SimConfig`.
    out_dir : str or Path
        Output folder (created if missing; existing files of the same names are replaced atomically).
    seed : int, optional
        Overrides the config's ``seed``. A given ``SimConfig`` is modified in place (its ``seed`` is set).

    Returns
    -------
    SimResult
        ``out_dir`` and the paths of what was written: ``fasta`` (genome.fa), ``target_bed``, ``elsewhere_bed``,
        ``blacklist_bed`` (BED3, 0-based half-open, sorted by chromosome then start), ``truth`` (truth.tsv),
        ``regions`` (regions.tsv), ``bayes_optimal`` (bayes_optimal.tsv.gz); and ``summary`` (dict, also in
        summary.json: seed, genome size, GC, CpG obs/exp, counts of regions, peaks, flips, instances, bins,
        and the planted motifs). Read outputs back with :func:`read_truth`, :func:`read_regions`,
        :func:`read_bayes_optimal`. Coordinates in the outputs are 0-based (intervals half-open; bins by
        their 0-based ``bin_start``). Note: ``config.yaml`` is written from the configuration as given
        (``SimConfig.raw``), so a ``seed`` override appears in ``summary`` / summary.json but not in config.yaml.

    Raises
    ------
    seq2acc.errors.InputError
        A missing or invalid config (naming the file and the key), a motif matrix that cannot be loaded, motifs
        that cannot reach ``motif_sampling.min_score``, or regions that do not fit in the genome.
    """
    from tqdm import tqdm

    cfg = config if isinstance(config, SimConfig) else load_config(config)
    if seed is not None:
        cfg.seed = int(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(cfg.seed)
    motifs = load_motifs(cfg)
    lengths = {s: m.length for s, m in motifs.items()}

    # Which decoys can exist for this grammar: drop the ones that would satisfy it (checked by evaluation).
    decoys = []
    probe = np.random.default_rng([cfg.seed, 99])
    for d in decoy_designs(cfg.target):
        inst = [(m, o, o + lengths[m]) for m, o in place(d, lengths, cfg.width, probe, cfg.path)]
        if cfg.target.evaluate(inst) is None:
            decoys.append(d)
        else:
            log.warning("decoy design %s satisfies the target grammar and is not used", d.name)
    if cfg.n_decoy and not decoys:
        log.warning("grammar has no decoy designs (single-motif rules, no repressors): no decoys planted")
    plan = _designs(cfg)
    if decoys:
        plan += [decoys[i] for i in rng.integers(0, len(decoys), size=cfg.n_decoy)]
    n_possible_true = sum(d.kind in ("target", "elsewhere") for d in plan) + sum(d.kind == "decoy" for d in plan)
    n_empty = math.ceil(cfg.label_noise * n_possible_true) + (1 if cfg.label_noise > 0 else 0)
    plan += [Design("empty", "empty")] * n_empty + [Design("blacklist", "blacklist")] * cfg.n_blacklist
    slot = max(cfg.width, cfg.peak_width, cfg.blacklist_width if cfg.n_blacklist else 0)
    edge = max(cfg.min_gap, cfg.spec.context)
    slots = _layout(cfg.chrom_lengths, len(plan), slot, cfg.min_gap, edge, rng, cfg.path)
    order = rng.permutation(len(plan))
    plan = [plan[i] for i in order]

    # Background, chromosome by chromosome.
    seqs = []
    for c, L in enumerate(tqdm(cfg.chrom_lengths, desc="background", disable=None)):
        seqs.append(background(L, cfg.background, cfg.gc, cfg.cpg_ratio, np.random.default_rng([cfg.seed, 1, c])))

    # Plant.
    truth_rows, region_rows = [], []
    for rid, (design, (c, s0)) in enumerate(tqdm(list(zip(plan, slots)), desc="planting", disable=None)):
        chrom = cfg.chrom_names[c]
        wstart = s0 + (slot - cfg.width) // 2
        placed = place(design, lengths, cfg.width, rng, cfg.path)
        roles = [design.kind] * len(placed)
        if cfg.bystander_rate > 0 and design.kind in ("target", "elsewhere") and rng.random() < cfg.bystander_rate:
            extra = _bystander(cfg, design, placed, lengths, rng)
            if extra is not None:
                placed.append(extra)
                roles.append("bystander")
        for (m, off), role in zip(placed, roles):
            codes, score = sample_instance(motifs[m], rng, cfg.min_score, path=cfg.path)
            strand = "+" if rng.random() < 0.5 else "-"
            planted = codes if strand == "+" else revcomp_codes(codes)
            st = wstart + off
            seqs[c][st:st + len(planted)] = planted
            truth_rows.append((rid, m, motifs[m].motif_id, motifs[m].name, chrom, st, st + len(planted), strand, role,
                               design.name, "".join(ALPHABET[i] for i in planted), round(score, 4)))
        region_rows.append((rid, chrom, s0, s0 + slot, design.kind, design.name))
    truth = pd.DataFrame(truth_rows, columns=TRUTH_COLUMNS)
    regions = pd.DataFrame(region_rows, columns=["region", "chrom", "start", "end", "kind", "design"])

    # Evaluate the grammars on what was planted (never trust the design).
    tpk = grammar_peaks(truth, cfg.target, cfg.peak_width).set_index("region")
    epk = grammar_peaks(truth, cfg.elsewhere, cfg.peak_width).set_index("region") if cfg.elsewhere.rules else tpk.iloc[:0]
    regions["target_rule"] = regions.region.map(tpk.rule).fillna("")
    regions["target_start"] = regions.region.map(tpk.start).fillna(-1).astype(np.int64)
    regions["target_end"] = regions.region.map(tpk.end).fillna(-1).astype(np.int64)
    regions["elsewhere_rule"] = regions.region.map(epk.rule).fillna("")
    true_ids = tpk.index.to_numpy()
    n_flip = int(round(cfg.label_noise * len(true_ids)))
    flip_out = set(rng.choice(true_ids, size=n_flip, replace=False).tolist()) if n_flip else set()
    empty_ids = regions.region[regions.kind == "empty"].to_numpy()
    if n_flip > len(empty_ids):  # cannot happen with the slot count above; kept as a guard
        raise _bad("label_noise", "too few empty slots for the noise peaks", "lower label_noise", cfg.path)
    flip_in = set(rng.choice(empty_ids, size=n_flip, replace=False).tolist()) if n_flip else set()
    regions["noise"] = np.where(regions.region.isin(flip_out), "flip_out", np.where(regions.region.isin(flip_in), "flip_in", ""))
    regions["target_peak"] = ((regions.target_rule != "") & (regions.noise != "flip_out")) | (regions.noise == "flip_in")
    regions["target_peak"] = regions.target_peak.astype(int)
    regions = regions[REGION_COLUMNS]

    centre = (regions.start + regions.end) // 2
    half = cfg.peak_width // 2
    pk_start = np.where(regions.noise == "flip_in", centre - half, regions.target_start)
    target_bed = pd.DataFrame({"chrom": regions.chrom, "start": pk_start, "end": pk_start + cfg.peak_width})[regions.target_peak == 1]
    else_bed = epk.reset_index()[["chrom", "start", "end"]]
    bl_c = centre[regions.kind == "blacklist"] - cfg.blacklist_width // 2
    black_bed = pd.DataFrame({"chrom": regions.chrom[regions.kind == "blacklist"], "start": bl_c, "end": bl_c + cfg.blacklist_width})
    chrom_rank = {c: i for i, c in enumerate(cfg.chrom_names)}

    def sort_bed(df):
        return df.assign(_r=df.chrom.map(chrom_rank)).sort_values(["_r", "start"]).drop(columns="_r")[["chrom", "start", "end"]]

    # Write everything (atomically, deterministic bytes).
    res = SimResult(out, out / "genome.fa", out / "target.bed", out / "elsewhere.bed", out / "blacklist.bed",
                    out / "truth.tsv", out / "regions.tsv", out / "bayes_optimal.tsv.gz", {})
    with atomic_path(res.fasta) as tmp, open(tmp, "wb") as fh:
        for name, codes in zip(cfg.chrom_names, seqs):
            fh.write(_fasta_bytes(name, codes))
    sizes = dict(zip(cfg.chrom_names, cfg.chrom_lengths))
    write_text(out / "chrom.sizes", "".join(f"{c}\t{n}\n" for c, n in sizes.items()))
    for df, path in ((target_bed, res.target_bed), (else_bed, res.elsewhere_bed), (black_bed, res.blacklist_bed)):
        write_text(path, sort_bed(df).to_csv(sep="\t", header=False, index=False))
    write_text(res.truth, truth.to_csv(sep="\t", index=False))
    write_text(res.regions, regions.to_csv(sep="\t", index=False))
    bo = bayes_optimal(truth, cfg.target, sizes, cfg.spec, cfg.peak_width, cfg.label_noise)
    if cfg.signal is not None:
        res.signal, signal_summary = _write_signal(cfg, truth, sizes, bo, out / "signal.bw")
    with atomic_path(res.bayes_optimal) as tmp, open(tmp, "wb") as raw, \
            gzip.GzipFile(filename="bayes_optimal.tsv", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(bo.to_csv(sep="\t", index=False, float_format="%.6g").encode())  # fixed header: same bytes
    write_text(out / "motifs.meme", _meme(motifs))
    for m in motifs.values():
        write_text(out / "motifs" / f"{m.symbol}.jaspar", _jaspar_text(m))
    write_text(out / "config.yaml", yaml.safe_dump(cfg.raw, sort_keys=False))

    allc = np.concatenate(seqs)
    gc = float(np.isin(allc, (1, 2)).mean())
    pc, pg = float((allc == 1).mean()), float((allc == 2).mean())
    cpg = float(((allc[:-1] == 1) & (allc[1:] == 2)).mean())
    summary = {
        "seed": cfg.seed, "genome_bp": cfg.genome_size, "chromosomes": len(sizes), "gc": round(gc, 4),
        "cpg_obs_exp": round(cpg / (pc * pg), 4) if pc * pg else None,
        "regions": {k: int(v) for k, v in regions.kind.value_counts().sort_index().items()},
        "designs": {k: int(v) for k, v in regions.design.value_counts().sort_index().items()},
        "grammar_positive_regions": int(len(true_ids)), "target_peaks": int(len(target_bed)),
        "elsewhere_peaks": int(len(else_bed)), "blacklist_regions": int(len(black_bed)),
        "label_noise": cfg.label_noise, "flip_out": len(flip_out), "flip_in": len(flip_in),
        "planted_instances": int(len(truth)),
        "genomewide_bins": int(len(bo)), "grammar_positive_bins": int(bo.grammar.sum()),
        "motifs": {s: {"id": m.motif_id, "name": m.name, "length": m.length, "consensus": m.consensus()}
                   for s, m in motifs.items()},
        "bins": {"bin_size": cfg.spec.bin_size, "stride": cfg.spec.stride, "context": cfg.spec.context,
                 "positive_overlap": cfg.spec.positive_overlap},
    }
    if cfg.signal is not None:
        summary["signal"] = signal_summary
    write_json(out / "summary.json", summary)
    res.summary = summary
    log.info("simulated %d bp, %d target peaks (%d grammar-positive regions, %d noise flips), %d elsewhere peaks, "
             "%d planted instances -> %s", cfg.genome_size, len(target_bed), len(true_ids), n_flip, len(else_bed),
             len(truth), out)
    return res


# ----------------------------------------------------------------------------- reading outputs back
def read_truth(sim_dir) -> pd.DataFrame:
    return pd.read_csv(Path(sim_dir) / "truth.tsv", sep="\t", dtype={"chrom": str, "rule": str})


def read_regions(sim_dir) -> pd.DataFrame:
    return pd.read_csv(Path(sim_dir) / "regions.tsv", sep="\t", keep_default_na=False,
                       dtype={"chrom": str, "target_rule": str, "elsewhere_rule": str, "noise": str})


def read_bayes_optimal(sim_dir) -> pd.DataFrame:
    return pd.read_csv(Path(sim_dir) / "bayes_optimal.tsv.gz", sep="\t", dtype={"chrom": str})


def sim_config_of(sim_dir) -> SimConfig:
    """The resolved configuration a simulation directory was made with."""
    return config_from_dict(yaml.safe_load((Path(sim_dir) / "config.yaml").read_text()), str(Path(sim_dir) / "config.yaml"))


def planted_variants(sim_dir, n_per_class: int, seed: int) -> pd.DataFrame:
    """SNVs for the variants row: ``n_per_class`` inside planted motif instances of grammar-positive target regions
    (the instances the satisfied rule uses) and as many outside any instance in the same regions (within the
    peak). Columns: id, chrom, pos (1-based), ref, alt, cls ('inside'/'outside'), region, motif."""
    from seq2acc.io.fasta import Genome
    from seq2acc.sim.simulate import read_regions, read_truth

    sim_dir = Path(sim_dir)
    rng = np.random.default_rng([seed, 7])
    truth, regions = read_truth(sim_dir), read_regions(sim_dir)
    pos_regions = regions[regions.target_rule != ""]
    if pos_regions.empty or n_per_class <= 0:
        return pd.DataFrame(columns=["id", "chrom", "pos", "ref", "alt", "cls", "region", "motif"])
    g = Genome(sim_dir / "genome.fa")
    inst = truth[truth.region.isin(pos_regions.region) & (truth.role == "target")]
    rows = []
    pick = rng.choice(len(inst), size=n_per_class, replace=len(inst) < n_per_class)
    seen = set()
    for i in pick:
        r = inst.iloc[int(i)]
        for _ in range(20):
            p0 = int(rng.integers(r.start, r.end))
            if (r.chrom, p0) not in seen:
                break
        seen.add((r.chrom, p0))
        rows.append((r.chrom, p0, "inside", int(r.region), r.motif))
    by_region = {k: v for k, v in truth.groupby("region")}
    reg_pick = rng.choice(len(pos_regions), size=n_per_class, replace=True)
    for i in reg_pick:
        reg = pos_regions.iloc[int(i)]
        sub = by_region.get(int(reg.region))
        for _ in range(100):
            p0 = int(rng.integers(reg.target_start, reg.target_end))
            inside = sub is not None and ((sub.start <= p0) & (p0 < sub.end)).any()
            if not inside and (reg.chrom, p0) not in seen:
                break
        else:
            continue
        seen.add((reg.chrom, p0))
        rows.append((reg.chrom, p0, "outside", int(reg.region), ""))
    out = []
    for k, (chrom, p0, cls, region, motif) in enumerate(rows):
        ref = int(g.codes(chrom)[p0])
        alt = int((ref + rng.integers(1, 4)) % 4)
        out.append((f"{cls}_{k}", chrom, p0 + 1, "ACGT"[ref], "ACGT"[alt], cls, region, motif))
    g.close()
    return pd.DataFrame(out, columns=["id", "chrom", "pos", "ref", "alt", "cls", "region", "motif"])


def shuffle_target_peaks(sim_dir, seed: int) -> int:
    """Broken-pipeline control: move every target peak to a random place (same widths, same chromosomes' share)."""
    from seq2acc.io.fasta import read_chrom_sizes
    from seq2acc.io.bed import read_bed3

    sim_dir = Path(sim_dir)
    sizes = read_chrom_sizes(sim_dir / "chrom.sizes")
    bed = read_bed3(sim_dir / "target.bed").df
    rng = np.random.default_rng([seed, 13])
    names = list(sizes)
    w = np.array([sizes[c] for c in names], dtype=np.float64)
    chroms = rng.choice(len(names), size=len(bed), p=w / w.sum())
    width = (bed.end - bed.start).to_numpy()
    rows = []
    for ci, wd in zip(chroms, width):
        c = names[int(ci)]
        s = int(rng.integers(0, sizes[c] - wd))
        rows.append((c, s, s + int(wd)))
    df = pd.DataFrame(rows, columns=["chrom", "start", "end"])
    df["_r"] = df.chrom.map({c: i for i, c in enumerate(names)})
    df = df.sort_values(["_r", "start"])
    write_text(sim_dir / "target.bed", df[["chrom", "start", "end"]].to_csv(sep="\t", header=False, index=False))
    return len(df)
