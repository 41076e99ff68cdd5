"""Stages of a simulation benchmark project (issue 7): ``simulate`` (in front of the data stages) and ``simbench``
(after every other stage). Only the derived pipelines of :mod:`seq2acc.sim.benchmark` use them; the root dvc.yaml
does not."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.io.atomic import write_text
from seq2acc.errors import ParamsError
from seq2acc.config import Params
from seq2acc.sim.benchmark import SIM_DIR

log = logging.getLogger(__name__)


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


def write_vcf(df: pd.DataFrame, path) -> None:
    lines = ["##fileformat=VCFv4.2", "##source=seq2acc.sim.simulate planted-motif SNVs",
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    lines += [f"{r.chrom}\t{r.pos}\t{r.id}\t{r.ref}\t{r.alt}\t.\t.\tCLS={r.cls}" for r in df.itertuples()]
    write_text(path, "\n".join(lines) + "\n")


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


def simulate_stage(p: Params) -> None:
    """DVC stage ``simulate``: the simulated genome, peaks and truth in ``simulation.out_dir`` (+ a VCF of SNVs)."""
    from seq2acc.io.atomic import write_json
    from seq2acc.sim.simulate import simulate

    cfg = p.get("simulation.config", str)
    out = Path(p.get("simulation.out_dir", str, SIM_DIR))
    if not Path(cfg).exists():
        raise ParamsError("simulation.config", f"{cfg} does not exist", "point it at a simulation YAML, e.g. ../small.yaml", p.path)
    res = simulate(cfg, out)
    summary = dict(res.summary)
    if p.get("simulation.shuffle_labels", bool, False):
        n = shuffle_target_peaks(out, res.summary["seed"])
        log.warning("simulation.shuffle_labels: %d target peaks moved to random places (broken-pipeline control)", n)
        summary["shuffled_labels"] = True
        write_json(out / "summary.json", summary)
    var = planted_variants(out, p.get("simulation.variants_per_class", int, 200, ge=0), res.summary["seed"])
    write_vcf(var, out / "variants.vcf")
    write_text(out / "variants.tsv", var.to_csv(sep="\t", index=False))


def simbench_stage(p: Params) -> None:
    """DVC stage ``simbench``: the benchmark table (see :func:`seq2acc.sim.benchmark.run_benchmark`)."""
    from seq2acc.sim.benchmark import run_benchmark

    run_benchmark(p)
