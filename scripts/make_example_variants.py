"""Write data/variants/example.tsv: SNVs at real yeast positions for the `variants` stage demo.

- ``motif``: the central C of Reb1 motif matches (TTACCCG / CGGGTAA, JASPAR MA0363) inside Reb1 target peaks,
  mutated to A (a change the model should notice);
- ``random``: random positions outside every target peak (mostly expected to do little);
- ``end``: the first and the last base of a chromosome (1-based positions 1 and size), to show both ends work.

Positions are 1-based (VCF convention); REF is read from the genome. Run from the project root after the genome and
peaks stages:  .venv/bin/python scripts/make_example_variants.py [--n 20] [--seed 6]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from seq2acc.io.fasta import Genome
from seq2acc.io.bed import read_bed3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genome", default="data/genome/genome.fa")
    ap.add_argument("--peaks", default="data/peaks/target.bed")
    ap.add_argument("--out", default="data/variants/example.tsv")
    ap.add_argument("--n", type=int, default=20, help="variants per class (motif, random)")
    ap.add_argument("--seed", type=int, default=6)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    g = Genome(a.genome)
    peaks = read_bed3(a.peaks)
    seqs = {c: "".join("ACGTN"[i] for i in g.codes(c)) for c in g.sizes}
    motif = []
    for r in peaks.df.itertuples(index=False):
        s = seqs[r.chrom][r.start:r.end]
        for m in re.finditer("(?=(TTACCCG|CGGGTAA))", s):
            core = r.start + m.start() + (4 if m.group(1) == "TTACCCG" else 2)  # the central C (G on '-')
            motif.append((r.chrom, core))
    motif = sorted(set(motif))
    pick = rng.choice(len(motif), min(a.n, len(motif)), replace=False)
    rows = []
    for i in sorted(pick):
        c, p0 = motif[i]
        ref = seqs[c][p0]
        rows.append((c, p0 + 1, ref, "A" if ref == "C" else "T", f"reb1_site_{c}_{p0 + 1}"))
    inside = {c: np.zeros(n, bool) for c, n in g.sizes.items()}
    for r in peaks.df.itertuples(index=False):
        inside[r.chrom][r.start:r.end] = True
    chroms = list(g.sizes)
    w = np.array([g.sizes[c] for c in chroms], float)
    while sum(1 for r in rows if r[4].startswith("random")) < a.n:
        c = chroms[rng.choice(len(chroms), p=w / w.sum())]
        p0 = int(rng.integers(0, g.sizes[c]))
        ref = seqs[c][p0]
        if inside[c][p0] or ref not in "ACGT":
            continue
        alt = str(rng.choice([b for b in "ACGT" if b != ref]))
        rows.append((c, p0 + 1, ref, alt, f"random_{c}_{p0 + 1}"))
    first, last = chroms[0], chroms[-1]
    for c, p0 in ((first, 0), (last, g.sizes[last] - 1)):
        ref = seqs[c][p0]
        rows.append((c, p0 + 1, ref, "G" if ref != "G" else "C", f"end_{c}_{p0 + 1}"))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as fh:
        fh.write("chrom\tpos\tref\talt\tid\n")
        for r in rows:
            fh.write("\t".join(map(str, r)) + "\n")
    print(f"{out}: {len(rows)} variants ({len(motif)} Reb1 motif matches in target peaks)")


if __name__ == "__main__":
    main()
