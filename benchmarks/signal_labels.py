"""Signal labels (issue 16, data layer): wall time of the ``peaks`` and the 16 ``dataset`` stages on the real yeast
genome with a signal task, against the same run without a track, for a worst-case dense bigWig (one entry per
base, 12 M entries), a 10-bp-block bigWig and the same blocks as a gzip bedGraph (converted by the peaks stage).

The tracks are synthetic (a Gamma-distributed value per base or block, seeded), written into a scratch folder that
links the project's ``data/raw`` and ``data/genome`` (run ``dvc repro genome`` first), with this checkout's
params.yaml; writes nothing into the project but the results row.

    .venv/bin/python benchmarks/signal_labels.py [--project .] [--out benchmarks/results/signal_labels.jsonl]

Checks on the way: every chromosome's genome-wide signal labels equal log1p of the mean of the per-base array over
each bin (computed here with numpy), and the bedGraph gives the same labels as the bigWig of the same blocks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("TQDM_DISABLE", "1")

from multitask_data import machine  # noqa: E402  (same folder)


def tracks(root: Path, sizes: dict, seed: int = 5) -> dict:
    """Per-base arrays (float32: what a bigWig stores) and the three track files."""
    import numpy as np
    import pyBigWig

    rng = np.random.default_rng(seed)
    base, blocks = {}, {}
    for c, n in sizes.items():
        base[c] = rng.gamma(0.5, 2.0, size=n).astype(np.float32)
        b = rng.gamma(0.5, 2.0, size=-(-n // 10)).astype(np.float32)
        blocks[c] = b
    files = {"dense.bw": root / "dense.bw", "blocks.bw": root / "blocks.bw", "blocks.bedGraph.gz": root / "blocks.bedGraph.gz"}
    for name, per in (("dense.bw", None), ("blocks.bw", 10)):
        bw = pyBigWig.open(str(files[name]), "w")
        bw.addHeader(list(sizes.items()), maxZooms=10)
        for c, n in sizes.items():
            if per is None:
                bw.addEntries(c, 0, values=base[c].astype(np.float64).tolist(), span=1, step=1)
            else:
                full = n // 10
                bw.addEntries(c, 0, values=blocks[c][:full].astype(np.float64).tolist(), span=10, step=10)
                if n % 10:
                    bw.addEntries([c], [full * 10], ends=[n], values=[float(blocks[c][full])])
        bw.close()
    with gzip.open(files["blocks.bedGraph.gz"], "wt", compresslevel=1) as fh:
        for c, n in sizes.items():
            starts = np.arange(0, n, 10)
            ends = np.minimum(starts + 10, n)
            fh.write("".join(f"{c}\t{s}\t{e}\t{v!r}\n" for s, e, v in zip(starts.tolist(), ends.tolist(),
                                                                          blocks[c].astype(np.float64).tolist())))
    per_base = {"dense.bw": base, "blocks.bw": {c: np.repeat(b, 10)[:sizes[c]] for c, b in blocks.items()}}
    per_base["blocks.bedGraph.gz"] = per_base["blocks.bw"]
    return files, per_base


def run(project: Path, track: Path | None, per_base: dict | None) -> dict:
    import numpy as np
    import yaml

    from seq2acc.config import Params
    from seq2acc.data.store import read_genomewide
    from seq2acc.pipeline.dataset import build_dataset
    from seq2acc.pipeline.peaks import prepare_peaks

    params = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())  # this code's params
    target = params["peaks"]["target"]
    params["peaks"]["target"] = None
    params["peaks"]["tasks"] = [{"name": "Reb1", "peaks": target, "signal": str(track) if track else None,
                                 "jaspar_id": "MA0363", "min_width": params["peaks"]["min_width"]}]
    with tempfile.TemporaryDirectory(prefix="sig_bench_") as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        for d in ("raw", "genome"):
            (root / "data" / d).symlink_to((project / "data" / d).resolve())
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        cwd = os.getcwd()
        os.chdir(root)
        try:
            p = Params.load("params.yaml")
            chroms = p.get("dataset.chromosomes", list)
            t0 = time.perf_counter()
            prepare_peaks(p)
            t1 = time.perf_counter()
            for c in chroms:
                build_dataset(p, c)
            t2 = time.perf_counter()
            labels, worst = {}, 0.0
            for c in chroms:
                _, _, spec, gw = read_genomewide(Path(p.get("dataset.out_dir", str)) / f"{c}.h5", tasks=True)
                if track is not None:
                    b = gw.bin_start.to_numpy()
                    cum = np.r_[0.0, np.cumsum(per_base[c].astype(np.float64))]
                    want = np.log1p((cum[b + spec.bin_size] - cum[b]) / spec.bin_size)
                    got = gw["signal:Reb1"].to_numpy(np.float64)
                    worst = max(worst, float(np.max(np.abs(got - want) / (1 + want))))
                    labels[c] = got
            size = sum((Path(p.get("dataset.out_dir", str)) / f"{c}.h5").stat().st_size for c in chroms)
        finally:
            os.chdir(cwd)
    if track is not None:
        assert worst < 1e-5, worst
    return {"track": track.name if track else None, "peaks_s": round(t1 - t0, 2), "dataset_s": round(t2 - t1, 2),
            "max_rel_error_vs_numpy": worst, "datasets_bytes": size, "_labels": labels}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", default=".", help="project root with data/raw and data/genome (the params are "
                    "this checkout's params.yaml)")
    ap.add_argument("--out", default="benchmarks/results/signal_labels.jsonl")
    a = ap.parse_args()
    project = Path(a.project).resolve()
    from seq2acc.io.fasta import read_chrom_sizes

    sizes = read_chrom_sizes(project / "data/genome/chrom.sizes")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                            text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="sig_tracks_") as tmp:
        t0 = time.perf_counter()
        files, per_base = tracks(Path(tmp), sizes)
        write_s = round(time.perf_counter() - t0, 2)
        rows = []
        for name in (None, "dense.bw", "blocks.bw", "blocks.bedGraph.gz"):
            load_before = os.getloadavg()
            row = run(project, files[name] if name else None, per_base[name] if name else None)
            row.update(track_bytes=files[name].stat().st_size if name else 0, tracks_written_s=write_s,
                       genome_bp=sum(sizes.values()), chromosomes=len(sizes), machine=machine(),
                       load_before=[round(x, 2) for x in load_before],
                       load_after=[round(x, 2) for x in os.getloadavg()], commit=commit)
            rows.append(row)
        import numpy as np

        same = all(np.array_equal(rows[2]["_labels"][c], rows[3]["_labels"][c]) for c in rows[2]["_labels"])
        assert same, "bedGraph and bigWig of the same blocks give different labels"
        for row in rows:
            row.pop("_labels")
            row["bedgraph_equals_bigwig"] = same
            print(json.dumps(row))
            with open(a.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
