"""Ground-truth simulator (issue 7): determinism, truth vs FASTA, grammar semantics, Bayes-optimal labels, noise."""

from __future__ import annotations

import copy
import filecmp
import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seq2acc.data.bins import BinSpec
from seq2acc.errors import InputError
from seq2acc.io.fasta import Genome
from seq2acc.seq.encoding import encode
from seq2acc.io.bed import read_bed3
from seq2acc.sim.simulate import (Grammar, Rule, _stationary, config_from_dict, load_motifs, markov_transitions,
                              read_bayes_optimal, read_regions, read_truth, simulate)

BASE = {
    "seed": 3,
    "genome": {"n_chromosomes": 3, "length": 60000},
    "background": {"model": "markov", "gc": 0.42, "cpg_ratio": 0.4},
    "motifs": {"A": "MA0139.2", "B": "MA0035.4", "C": "MA0466.3", "D": "MA0138.3", "E": "MA0080.6"},
    "grammar": {
        "target": {"rules": [{"name": "A", "motifs": ["A"]},
                             {"name": "B+C", "motifs": ["B", "C"], "spacing": [5, 25]}],
                   "repressors": ["D"]},
        "elsewhere": {"rules": [{"name": "E", "motifs": ["E"]}]},
    },
    "regions": {"target": 20, "elsewhere": 10, "decoy": 40, "width": 120, "peak_width": 200, "min_gap": 1000,
                "bystander_rate": 0.5},
    "label_noise": 0.1,
    "blacklist": {"n": 3, "width": 400},
}
SPEC = BinSpec(200, 50, 1000, 0.5)


def cfg(**over):
    d = copy.deepcopy(BASE)
    for dotted, v in over.items():
        node = d
        *head, last = dotted.split(".")
        for h in head:
            node = node[h]
        node[last] = v
    return config_from_dict(d, "test-sim.yaml")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    res = simulate(cfg(), out)
    return res


def test_same_seed_gives_identical_files_and_another_seed_differs(sim, tmp_path):
    again = simulate(cfg(), tmp_path / "again")
    names = ["genome.fa", "chrom.sizes", "target.bed", "elsewhere.bed", "blacklist.bed", "truth.tsv", "regions.tsv",
             "bayes_optimal.tsv.gz", "motifs.meme", "summary.json", "config.yaml"]
    match, mismatch, errors = filecmp.cmpfiles(sim.out_dir, again.out_dir, names, shallow=False)
    assert not mismatch and not errors, (mismatch, errors)
    other = simulate(cfg(seed=4), tmp_path / "other")
    assert not filecmp.cmp(sim.fasta, other.fasta, shallow=False)
    assert not filecmp.cmp(sim.truth, other.truth, shallow=False)


def test_planted_sequences_are_at_the_stated_coordinates(sim):
    g = Genome(sim.fasta)
    truth = read_truth(sim.out_dir)
    assert len(truth) > 0 and set(truth.strand) == {"+", "-"}
    motifs = load_motifs(cfg())
    for row in truth.itertuples():
        got = g.codes(row.chrom)[row.start:row.end]
        assert (got == encode(row.sequence)).all(), row
        assert row.end - row.start == motifs[row.motif].length
        own = got if row.strand == "+" else (3 - got[::-1])
        assert motifs[row.motif].rel_score(own[None])[0] == pytest.approx(row.rel_score, abs=1e-3)
        assert row.rel_score >= 0.8 - 1e-6
    # instances never overlap each other and stay inside their region
    regions = read_regions(sim.out_dir).set_index("region")
    for reg, sub in truth.groupby("region"):
        s = sub.sort_values("start")
        assert (s.start.to_numpy()[1:] >= s.end.to_numpy()[:-1]).all()
        assert s.start.min() >= regions.start[reg] and s.end.max() <= regions.end[reg]


def test_planted_instances_follow_the_jaspar_matrix(sim):
    truth = read_truth(sim.out_dir)
    motifs = load_motifs(cfg())
    for sym in ("A", "C"):
        rows = truth[truth.motif == sym]
        onehot = np.zeros((motifs[sym].length, 4))
        for r in rows.itertuples():
            c = encode(r.sequence)
            c = c if r.strand == "+" else 3 - c[::-1]
            onehot[np.arange(len(c)), c] += 1
        freq = onehot / len(rows)
        corr = np.corrcoef(freq.ravel(), motifs[sym].ppm.ravel())[0, 1]
        assert corr > 0.9, (sym, corr)


def test_grammar_rules_spacing_and_repressor():
    pair = Rule("B+C", ("B", "C"), (5, 25))
    g = Grammar((Rule("A", ("A",)), pair), ("D",))
    assert g.evaluate([("A", 10, 25)])[0] == "A"
    assert g.evaluate([("A", 10, 25), ("D", 50, 70)]) is None  # repressed
    assert g.evaluate([("B", 0, 11)]) is None  # partial
    # gap = start of second - end of first, inclusive bounds, either order
    assert g.evaluate([("B", 0, 11), ("C", 16, 28)]) == ("B+C", 0, 28)  # gap 5
    assert g.evaluate([("C", 0, 12), ("B", 37, 48)]) == ("B+C", 0, 48)  # gap 25
    assert g.evaluate([("B", 0, 11), ("C", 15, 27)]) is None  # gap 4
    assert g.evaluate([("B", 0, 11), ("C", 37, 49)]) is None  # gap 26
    # one correctly spaced pair among badly spaced instances is enough
    assert g.evaluate([("B", 0, 11), ("C", 100, 112), ("C", 20, 32)])[0] == "B+C"
    # homotypic rule needs two distinct instances
    homo = Grammar((Rule("AA", ("A", "A"), (0, 50)),))
    assert homo.evaluate([("A", 0, 15)]) is None
    assert homo.evaluate([("A", 0, 15), ("A", 30, 45)]) == ("AA", 0, 45)


def test_regions_are_labelled_by_evaluating_the_grammar(sim):
    regions = read_regions(sim.out_dir)
    # every target design satisfies its rule; no decoy, elsewhere, empty or blacklist region does
    t = regions[regions.kind == "target"]
    assert (t.target_rule == t.design).all()
    assert (regions[regions.kind != "target"].target_rule == "").all()
    kinds = set(regions[regions.kind == "decoy"].design.str.split(":").str[0])
    assert kinds == {"partial", "misspaced", "repressed", "repressor"}
    # bystanders: extra motifs in target/elsewhere regions that change no verdict (non-interacting pairs exist)
    truth = read_truth(sim.out_dir)
    by = truth[truth.role == "bystander"]
    assert len(by) > 5 and not set(by.motif) & {"D"}
    kind = regions.set_index("region").kind
    assert set(kind[by.region]) <= {"target", "elsewhere"}
    assert len(by) == by.region.nunique()
    e = regions[regions.kind == "elsewhere"]
    assert (e.elsewhere_rule == "E").all()
    assert len(read_bed3(sim.elsewhere_bed)) == (regions.elsewhere_rule != "").sum() >= len(e)
    # a bystander may make a target region "open elsewhere" too, never the reverse
    both = regions[(regions.elsewhere_rule != "") & (regions.kind != "elsewhere")]
    assert (both.kind == "target").all() and set(by[by.region.isin(both.region)].motif) == {"E"}
    assert len(read_bed3(sim.blacklist_bed)) == 3


def test_label_noise_rate_is_respected(sim):
    regions = read_regions(sim.out_dir)
    true = regions[regions.target_rule != ""]
    n_flip = round(0.1 * len(true))
    assert (regions.noise == "flip_out").sum() == n_flip and (regions.noise == "flip_in").sum() == n_flip
    assert set(regions[regions.noise == "flip_out"].region) <= set(true.region)
    assert (regions[regions.noise == "flip_in"].kind == "empty").all()
    # the BED: same number of peaks as true regions, a fraction `label_noise` of them wrong
    bed = read_bed3(sim.target_bed).df
    assert len(bed) == len(true)
    peaks = set(zip(bed.chrom, bed.start))
    at_true = sum((r.chrom, r.target_start) in peaks for r in true.itertuples())
    assert (len(bed) - at_true) / len(bed) == pytest.approx(n_flip / len(true))


def _bed_labels(sim, spec, bo):
    bed = read_bed3(sim.target_bed)
    out = []
    for chrom, sub in bo.groupby("chrom", sort=False):
        out.append(spec.labels(sub.bin_start.to_numpy(), *bed.chrom(chrom)))
    return np.concatenate(out)


def test_bayes_optimal_matches_labels_without_noise(tmp_path):
    res = simulate(cfg(label_noise=0.0), tmp_path / "clean")
    bo = read_bayes_optimal(res.out_dir)
    sizes = dict(zip(cfg().chrom_names, cfg().chrom_lengths))
    assert len(bo) == sum(len(SPEC.grid(n)) for n in sizes.values())  # every bin of the pipeline's grid
    labels = _bed_labels(res, SPEC, bo)
    assert labels.sum() > 0
    assert (labels == bo.grammar.to_numpy()).all()
    assert ((bo.score > 0.5) == (bo.grammar == 1)).all() and set(bo.score.unique()) <= {0.0, 1.0}


def test_bayes_optimal_with_noise_differs_only_at_flipped_regions(sim):
    bo = read_bayes_optimal(sim.out_dir)
    labels = _bed_labels(sim, SPEC, bo)
    assert np.allclose(bo.score[bo.grammar == 1], 0.9)
    assert (bo.score[bo.grammar == 0] < 0.05).all()
    regions = read_regions(sim.out_dir)
    flipped = regions[regions.noise != ""]
    diff = bo[labels != bo.grammar.to_numpy()]
    assert len(diff) > 0
    for r in diff.itertuples():  # every disagreement lies at a flipped region
        near = flipped[(flipped.chrom == r.chrom) & (flipped.start < r.bin_start + 200) & (flipped.end > r.bin_start)]
        assert len(near) == 1, r


@settings(max_examples=15, deadline=None)
@given(gc=st.floats(0.2, 0.7), cpg=st.floats(0.1, 1.5))
def test_markov_background_has_the_requested_gc_and_cpg(gc, cpg):
    t = markov_transitions(gc, cpg)
    pi = _stationary(t)
    assert np.allclose(t.sum(1), 1) and (t > 0).all()
    assert pi[1] + pi[2] == pytest.approx(gc, abs=1e-6)
    assert t[1, 2] / pi[2] == pytest.approx(cpg, rel=1e-4)


def test_simulated_genome_composition(sim):
    import json

    s = json.loads((sim.out_dir / "summary.json").read_text())
    assert s["gc"] == pytest.approx(0.42, abs=0.01)
    assert s["cpg_obs_exp"] == pytest.approx(0.4, abs=0.05)


def test_iid_background_and_empty_blacklist(tmp_path):
    res = simulate(cfg(**{"background.model": "iid", "background.gc": 0.3, "blacklist.n": 0, "label_noise": 0.0}),
                   tmp_path / "iid")
    assert res.blacklist_bed.read_text() == ""
    assert res.summary["gc"] == pytest.approx(0.3, abs=0.01)
    assert res.summary["cpg_obs_exp"] == pytest.approx(1.0, abs=0.1)


def test_bad_configs_name_the_key(tmp_path):
    with pytest.raises(InputError, match=r"test-sim.yaml.*grammar.target.rules\[0\].*'Z'"):
        cfg(**{"grammar.target.rules": [{"name": "Z", "motifs": ["Z"]}]})
    with pytest.raises(InputError, match="spacing"):
        cfg(**{"grammar.target.rules": [{"name": "BC", "motifs": ["B", "C"], "spacing": [30, 5]}]})
    with pytest.raises(InputError, match=r"test-sim.yaml: parameter 'regions'.*do not fit"):
        simulate(cfg(**{"regions.target": 500}), tmp_path / "full")
    with pytest.raises(InputError, match="regions.width"):
        simulate(cfg(**{"regions.width": 20}), tmp_path / "narrow")
    with pytest.raises(InputError, match="motifs.A"):
        load_motifs(cfg(**{"motifs.A": "MA9999.9"}))


def test_cli_writes_the_files(tmp_path):
    import yaml

    from seq2acc.cli import main

    conf = tmp_path / "sim.yaml"
    d = copy.deepcopy(BASE)
    d["regions"].update(target=5, elsewhere=5, decoy=10)
    conf.write_text(yaml.safe_dump(d))
    main(["simulate", "--config", str(conf), "--out", str(tmp_path / "out"), "--seed", "11"])
    for f in ("genome.fa", "target.bed", "elsewhere.bed", "blacklist.bed", "truth.tsv", "bayes_optimal.tsv.gz"):
        assert (tmp_path / "out" / f).exists()
    with gzip.open(tmp_path / "out" / "bayes_optimal.tsv.gz", "rt") as fh:
        assert fh.readline().strip().split("\t") == ["chrom", "bin_start", "grammar", "score"]
    with pytest.raises(SystemExit):
        main(["simulate", "--config", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "x")])


# ----------------------------------------------------------------------------- the optional signal track
SIGNAL = {"scale": 20.0, "background": 0.5, "resolution": 10}


def test_the_signal_track_is_high_where_the_grammar_holds_and_changes_no_other_output(sim, tmp_path):
    """signal.bw follows the planted grammar: bins where it holds read far above decoy regions (motifs that do not
    satisfy it) and the background; the observed counts are unbiased for signal_mean, the known ceiling; every
    other output is byte-identical to the run without a signal section."""
    import contextlib

    from seq2acc.io.signal import bigwig_bin_sums, open_bigwig

    res = simulate(cfg(signal=SIGNAL), tmp_path / "signal")
    assert res.signal == tmp_path / "signal" / "signal.bw" and sim.signal is None
    assert not (sim.out_dir / "signal.bw").exists()
    same = ["genome.fa", "target.bed", "elsewhere.bed", "blacklist.bed", "truth.tsv", "regions.tsv", "motifs.meme"]
    _, mismatch, errors = filecmp.cmpfiles(sim.out_dir, res.out_dir, same, shallow=False)
    assert not mismatch and not errors
    bo = read_bayes_optimal(res.out_dir)
    plain = read_bayes_optimal(sim.out_dir)
    assert list(bo.columns) == [*plain.columns, "signal_mean"]
    assert bo[plain.columns].equals(plain)
    observed = []
    with contextlib.closing(open_bigwig(res.signal)) as bw:
        for chrom, sub in bo.groupby("chrom", sort=False):
            b = sub.bin_start.to_numpy()
            sums, covered = bigwig_bin_sums(bw, res.signal, chrom, bw.chroms()[chrom], b, b + 200)
            assert (covered == 200).all()                        # the track covers every base
            observed.append(sums / 200)
    bo["observed"] = np.concatenate(observed)
    regions = read_regions(res.out_dir)
    decoy = regions[regions.kind == "decoy"]
    in_decoy = np.zeros(len(bo), bool)
    for r in decoy.itertuples():
        in_decoy |= ((bo.chrom == r.chrom) & (bo.bin_start < r.end) & (bo.bin_start + 200 > r.start)).to_numpy()
    active = (bo.grammar == 1).to_numpy()
    assert active.sum() > 50 and in_decoy.sum() > 50
    assert bo.observed[active].mean() > 5 * bo.observed[in_decoy].mean()
    assert bo.observed[in_decoy].mean() == pytest.approx(SIGNAL["background"], rel=0.1)   # decoys: no bump
    assert np.corrcoef(bo.observed, bo.signal_mean)[0, 1] > 0.9
    assert bo.observed.mean() == pytest.approx(bo.signal_mean.mean(), rel=0.02)          # Poisson: unbiased
    assert res.summary["signal"]["mean_in_grammar_bins"] > 5 * res.summary["signal"]["mean_in_other_bins"]
    again = simulate(cfg(signal=SIGNAL), tmp_path / "again")
    assert filecmp.cmp(res.signal, again.signal, shallow=False)                          # same seed, same bytes


def test_a_bad_signal_section_names_the_key():
    from seq2acc.errors import ParamsError

    with pytest.raises(ParamsError, match=r"test-sim.yaml: parameter 'signal.scale'.*must be > 0"):
        cfg(signal={"scale": 0})
    with pytest.raises(InputError, match=r"parameter 'signal.sacle'.*not a key"):
        cfg(signal={"sacle": 3})
    with pytest.raises(InputError, match=r"parameter 'signal'.*must be a mapping"):
        cfg(signal=5)
