"""TF-MoDISco on a small planted-motif attribution set: finds the motifs, matches REB1 in JASPAR, maps seqlets back."""

from __future__ import annotations

import numpy as np
import pytest

from seq2acc.interpret.modisco import (consensus, pattern_table, plot_pattern_logos, read_patterns, run_modisco,
                                 seqlet_sites, trim_bounds, write_meme, write_report)
from seq2acc.seq.encoding import onehot

REB1 = "TTACCCGG"
MOTIFS = [REB1, "AGATAAGA", "TCACGTGA"]  # Reb1, GATA, Cbf1-like E-box
L, WINDOW = 200, 160


def _rc(s):
    return s[::-1].translate(str.maketrans("ACGT", "TGCA"))


def planted(n=150, seed=0, noise=0.05):
    """Random sequences, one motif each near the centre (either strand); hypothetical contributions = a PWM-like
    +1 / -1/3 pattern at the motif (scaled per site) plus Gaussian noise everywhere."""
    rng = np.random.default_rng(seed)
    xs, hs, where = [], [], []
    for i in range(n):
        s = list(rng.choice(list("ACGT"), L))
        m = MOTIFS[i % len(MOTIFS)]
        m = m if rng.random() < 0.5 else _rc(m)
        p = int(rng.integers(L // 2 - 25, L // 2 + 17))
        s[p:p + 8] = m
        x = onehot("".join(s))
        h = rng.normal(0, noise, (L, 4)).astype(np.float32)
        o = onehot(m)
        h[p:p + 8] += rng.uniform(0.5, 1.5) * (o - (1 - o) / 3)
        xs.append(x)
        hs.append(h)
        where.append((p, MOTIFS[i % len(MOTIFS)]))
    return np.stack(xs), np.stack(hs), where


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from seq2acc.interpret.motifs import fetch_jaspar

    d = tmp_path_factory.mktemp("modisco")
    x, h, where = planted()
    summary = run_modisco(x, h, d / "modisco.h5", window=WINDOW, max_seqlets=1000, n_leiden_runs=2,
                          min_metacluster_size=50)
    meme = write_meme(d / "jaspar.meme", fetch_jaspar(tax_group=("fungi",)))
    return d, summary, meme, where


@pytest.mark.slow  # TF-MoDISco JIT-compiles its numba kernels on first use (~20-30 s on 2 cores)
def test_modisco_finds_the_planted_motifs_and_tomtom_names_reb1(result):
    d, summary, meme, _ = result
    assert summary["offset"] == (L - WINDOW) // 2 and summary["n_pos_patterns"] >= 3
    table = pattern_table(d / "modisco.h5", meme)
    pos = table[table.sign == "+"]
    cons = pos.consensus.str.upper()
    found = {m: any(m in c or _rc(m) in c for c in cons) for m in MOTIFS}
    assert all(found.values()), (found, pos[["pattern", "consensus"]])
    reb1 = pos[cons.apply(lambda c: REB1 in c or _rc(REB1) in c)].iloc[0]
    # JASPAR has two proteins with this motif (Reb1 and its paralog Nsi1): REB1 must be a significant top match
    top = {reb1[f"match{j}_name"].upper(): reb1[f"match{j}_q"] for j in range(3)}
    assert top.get("REB1", 1.0) < 0.05, top
    assert reb1.q_value < 0.05 and reb1.n_seqlets >= 40
    # modisco's HTML report (one pattern, to keep the test short: logomaker renders every logo)
    import h5py

    with h5py.File(d / "modisco.h5") as src, h5py.File(d / "one.h5", "w") as dst:
        dst.attrs.update(src.attrs)
        src.copy(f"pos_patterns/{reb1.pattern.split('.')[1]}", dst.create_group("pos_patterns"), name="pattern_0")
    report = write_report(d / "one.h5", d / "report", meme, top_n=3, n_examples=1)
    html = report.read_text()
    assert "REB1" in html and "<img" in html
    plot_pattern_logos(d / "logos.png", d / "modisco.h5", table)
    assert (d / "logos.png").stat().st_size > 1000


@pytest.mark.slow
def test_seqlet_sites_map_back_to_the_planted_positions(result):
    d, _, _, where = result
    pats = read_patterns(d / "modisco.h5")
    sites = seqlet_sites(d / "modisco.h5", labels={p["name"]: f"motif{i}" for i, p in enumerate(pats)})
    assert len(sites) >= 120 and set(sites.strand) == {"+", "-"}
    planted_start = np.array([where[s][0] for s in sites.seq])
    # the trimmed core overlaps the 8-bp planted site in full-sequence coordinates, on both strands
    overlap = np.minimum(sites.end, planted_start + 8) - np.maximum(sites.start, planted_start)
    assert (overlap >= 5).mean() > 0.95
    assert ((sites.end - sites.start) <= 20).all()


def test_meme_file_round_trips_through_memelite(tmp_path):
    from memelite.io import read_meme

    counts = np.array([[10, 0, 0, 0], [0, 5, 5, 0], [1, 1, 1, 7]], float)
    write_meme(tmp_path / "db.meme", [("MA0001.1", "ABC 1", counts)])
    db = read_meme(str(tmp_path / "db.meme"))
    assert list(db) == ["MA0001.1 ABC_1"]
    np.testing.assert_allclose(db["MA0001.1 ABC_1"].T, counts / counts.sum(1, keepdims=True), atol=1e-6)
    assert trim_bounds(np.array([[0.01, 0, 0, 0], [1, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 0.1, 0]])) == (1, 3)
    assert consensus(np.array([[0.9, 0.1, 0, 0], [0.3, 0.3, 0.4, 0]])) == "Ag"
