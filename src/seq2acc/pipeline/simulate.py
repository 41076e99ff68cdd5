"""DVC stage ``simulate`` of a simulation benchmark project (issue 7), in front of the data stages: the simulated
genome, peaks, planted truth and Bayes-optimal scores in ``simulation.out_dir`` (+ a VCF of planted-motif SNVs).
Only the derived pipelines of :mod:`seq2acc.sim.benchmark` have it; the root dvc.yaml does not."""

from __future__ import annotations

import logging
from pathlib import Path

from seq2acc.config import Params
from seq2acc.errors import ParamsError
from seq2acc.io.atomic import write_json, write_text
from seq2acc.io.vcf import write_vcf
from seq2acc.sim.simulate import planted_variants, shuffle_target_peaks, simulate

log = logging.getLogger(__name__)


def simulate_stage(p: Params) -> None:
    """DVC stage ``simulate``: the simulated genome, peaks and truth in ``simulation.out_dir`` (+ a VCF of SNVs)."""
    cfg = p.get("simulation.config", str)
    out = Path(p.get("simulation.out_dir", str))
    if not Path(cfg).exists():
        raise ParamsError("simulation.config", f"{cfg} does not exist", "point it at a simulation YAML, e.g. ../small.yaml", p.path)
    res = simulate(cfg, out)
    summary = dict(res.summary)
    if p.get("simulation.shuffle_labels", bool):
        n = shuffle_target_peaks(out, res.summary["seed"])
        log.warning("simulation.shuffle_labels: %d target peaks moved to random places (broken-pipeline control)", n)
        summary["shuffled_labels"] = True
        write_json(out / "summary.json", summary)
    var = planted_variants(out, p.get("simulation.variants_per_class", int, ge=0), res.summary["seed"])
    write_vcf(var, out / "variants.vcf")
    write_text(out / "variants.tsv", var.to_csv(sep="\t", index=False))
