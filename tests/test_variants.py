"""Variant effects: input formats, 1-based coordinates at both chromosome ends, REF checks, windows, null."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from seq2acc.errors import InputError
from seq2acc.io.fasta import Genome
from seq2acc.seq.encoding import decode
from seq2acc.seq.shuffle import dinuc_counts
from seq2acc.interpret.variants import (contribution_change, empirical_pvalue, null_windows, score_alleles,
                                        variant_windows, window_start)
from seq2acc.io.vcf import check_variants, read_variants

from conftest import random_seqs, shipped_params, write_fasta

L = 50


@pytest.fixture
def genome(tmp_path):
    seqs = random_seqs({"chr1": 300, "chr2": 120, "tiny": 30}, seed=3)
    fa = write_fasta(tmp_path / "g.fa", seqs)
    return Genome(fa), seqs


def _tsv(tmp_path, text, name="v.tsv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_tsv_with_and_without_header_and_vcf(tmp_path):
    df = read_variants(_tsv(tmp_path, "chrom\tpos\tref\talt\tid\nchr1\t5\ta\tg\trs1\n# comment\n\nchr2\t7\tC\tT\t.\n"))
    assert df[["id", "chrom", "pos", "ref", "alt", "line"]].values.tolist() == [
        ["rs1", "chr1", 5, "A", "G", 2], ["chr2:7:C>T", "chr2", 7, "C", "T", 5]]
    df = read_variants(_tsv(tmp_path, "chr1 5 A G\n", "nohead.tsv"))
    assert df.iloc[0][["chrom", "pos", "ref", "alt"]].tolist() == ["chr1", 5, "A", "G"]
    vcf = tmp_path / "v.vcf.gz"
    with gzip.open(vcf, "wt") as fh:
        fh.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                 "chr1\t10\tv1\tA\tC,T\t.\t.\t.\nchr1\t20\t.\tAC\tA\t.\t.\t.\n")
    df = read_variants(vcf)
    assert df[["id", "pos", "ref", "alt", "line"]].values.tolist() == [
        ["v1_1", 10, "A", "C", 3], ["v1_2", 10, "A", "T", 3], ["chr1:20:AC>A", 20, "AC", "A", 4]]


def test_bad_records_fail_with_file_line_and_fix(tmp_path):
    with pytest.raises(InputError, match=r"v.tsv:2.*1-based"):
        read_variants(_tsv(tmp_path, "chrom\tpos\tref\talt\nchr1\t0\tA\tG\n"))
    with pytest.raises(InputError, match=r":1: .*not an integer"):
        read_variants(_tsv(tmp_path, "chr1\t5.5\tA\tG\n"))
    with pytest.raises(InputError, match=r"symbolic|<DEL>"):
        read_variants(_tsv(tmp_path, "chr1\t5\tA\t<DEL>\n"))
    assert len(read_variants(_tsv(tmp_path, "chr1\t5\tA\t<DEL>\nchr1\t6\tA\tC\n"), skip_unsupported=True)) == 1
    with pytest.raises(InputError, match="ALT equals REF"):
        read_variants(_tsv(tmp_path, "chr1\t5\tA\ta\n"))


def test_mismatching_ref_fails_naming_the_variant_and_line(tmp_path, genome):
    g, seqs = genome
    base = seqs["chr1"][99]  # 1-based position 100
    wrong = next(b for b in "ACGT" if b != base)
    p = _tsv(tmp_path, f"chrom\tpos\tref\talt\tid\nchr1\t50\t{seqs['chr1'][49]}\tN\tok\nchr1\t100\t{wrong}\t{base}\tbadref\n")
    v = read_variants(p)
    with pytest.raises(InputError) as e:
        check_variants(v, g, p)
    msg = str(e.value)
    assert "badref" in msg and "chr1:100" in msg and f"{p}:3" in msg and f"has '{base}'" in msg and "fix:" in msg
    # a 0-based file: REF matches one base to the right -> hint
    s = seqs["chr1"]
    i = next(i for i in range(10, 200) if s[i] != s[i - 1])
    p0 = _tsv(tmp_path, f"chr1\t{i}\t{s[i]}\t{'A' if s[i] != 'A' else 'C'}\n", "zero.tsv")
    with pytest.raises(InputError, match="0-based"):
        check_variants(read_variants(p0), g, p0)
    # unknown chromosome and past-the-end
    for text, pat in (("chrX\t5\tA\tC\n", "not in"), ("chr2\t121\tA\tC\n", "has 120 bases")):
        pp = _tsv(tmp_path, text, "x.tsv")
        with pytest.raises(InputError, match=pat):
            check_variants(read_variants(pp), g, pp)


def test_one_based_positions_at_both_chromosome_ends(tmp_path, genome):
    g, seqs = genome
    s = seqs["chr1"]
    first_alt = next(b for b in "ACGT" if b != s[0])
    last_alt = next(b for b in "ACGT" if b != s[-1])
    p = _tsv(tmp_path, f"chr1\t1\t{s[0]}\t{first_alt}\nchr1\t300\t{s[-1]}\t{last_alt}\nchr1\t150\t{s[149]}\t{'A' if s[149] != 'A' else 'C'}\n")
    v = read_variants(p)
    check_variants(v, g, p)  # the first and last base are valid 1-based positions
    w = variant_windows(v, g, L)
    # first base: window is the chromosome's first L bases, variant at offset 0
    assert w.start[0] == 0 and w.offset[0] == 0
    assert decode(w.ref[0]) == s[:L] and decode(w.alt[0]) == first_alt + s[1:L]
    # last base: window is the last L bases, variant at offset L-1
    assert w.start[1] == 300 - L and w.offset[1] == L - 1
    assert decode(w.ref[1]) == s[-L:] and decode(w.alt[1]) == s[-L:-1] + last_alt
    # interior: centred (offset L//2)
    assert w.offset[2] == L // 2 and decode(w.ref[2]) == s[149 - L // 2:149 - L // 2 + L]
    assert window_start(0, 300, L) == 0 and window_start(299, 300, L) == 250 and window_start(5, 30, L) == 0


def test_indels_and_short_chromosomes(tmp_path, genome):
    g, seqs = genome
    s, t = seqs["chr1"], seqs["tiny"]
    p = _tsv(tmp_path, f"chr1\t100\t{s[99]}\t{s[99]}GG\nchr1\t100\t{s[99:102]}\t{s[99]}\ntiny\t3\t{t[2]}\t"
             f"{'A' if t[2] != 'A' else 'C'}\n")
    v = read_variants(p)
    check_variants(v, g, p)
    w = variant_windows(v, g, L)
    o = w.offset[0]
    assert decode(w.alt[0]) == (s[99 - o:100] + "GG" + s[100:])[:L]  # insertion shifts the right flank
    assert decode(w.alt[1]) == (s[99 - o:100] + s[102:])[:L]  # deletion pulls in bases from the right
    assert decode(w.ref[2]) == t + "N" * (L - 30)  # chromosome shorter than the window: N padded


def test_scores_null_and_pvalues(tmp_path, genome):
    import keras

    g, seqs = genome
    s = seqs["chr1"]
    p = _tsv(tmp_path, "".join(f"chr1\t{k}\t{s[k - 1]}\t{'G' if s[k - 1] != 'G' else 'T'}\n" for k in (60, 120, 200)))
    v = read_variants(p)
    w = variant_windows(v, g, L)
    # linear model: logit = sum of G's weighted by position -> effects are known exactly
    inp = keras.Input((L, 4))
    out = keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(inp))
    model = keras.Model(inp, out)
    wts = np.zeros((L * 4, 1), np.float32)
    wts[2::4, 0] = 1.0  # +1 per G anywhere
    model.layers[-1].set_weights([wts])
    sc = score_alleles(model, w)
    # alt adds a G (ref was not G) or turns a G into T: +-1 on the forward strand; rc counts C's instead
    ref_fwd = np.array([decode(x).count("G") for x in w.ref])
    alt_fwd = np.array([decode(x).count("G") for x in w.alt])
    np.testing.assert_allclose(sc.delta_fwd, alt_fwd - ref_fwd, atol=1e-5)
    np.testing.assert_allclose(sc.delta, (sc.delta_fwd + sc.delta_rc) / 2, atol=1e-6)
    nr, na = null_windows(v, w, n_null=7, seed=0, length=L)
    assert nr.shape == (3, 7, L, 4)
    for i in range(3):
        o = w.offset[i]
        for j in range(7):
            a, b = decode(nr[i, j]), decode(na[i, j])
            assert a[o] == v.ref[i] and b[o] == v.alt[i]
            assert a[:o] + a[o + 1:] == b[:o] + b[o + 1:]  # same background, only the substitution differs
        # the background is a dinucleotide shuffle of the real window (up to the re-written REF base)
        assert dinuc_counts(np.array(["ACGTN".index(c) for c in decode(nr[i, 0])])).sum() == L - 1
    again = null_windows(v, w, n_null=7, seed=0, length=L)[0]
    assert np.array_equal(again, nr)  # seeded
    pv = empirical_pvalue(np.array([5.0, 0.0]), np.array([[1.0, -2, 6], [0.0, 1.0, -1.0]]))
    np.testing.assert_allclose(pv, [2 / 4, 4 / 4])


def test_contribution_change_window():
    ref = np.zeros((2, 10, 4))
    alt = np.zeros((2, 10, 4))
    alt[0, 3, 1] = 2.0
    alt[1, 0, 0] = -1.0
    rw, aw, tot = contribution_change(ref, alt, np.array([3, 0]), flank=2)
    assert rw.shape == (2, 5) and tot.tolist() == [2.0, 1.0]
    assert np.isnan(aw[1, 0]) and aw[1, 2] == -1.0


# ----------------------------------------------------------------------------- the `variants` stage
def _reb1_model(L):
    """logit = max(Reb1 match on either strand) - 0.5: 0.5 with an intact TTACCCGG, -0.5 without."""
    import keras

    m = "TTACCCGG"
    rc = m[::-1].translate(str.maketrans("ACGT", "TGCA"))
    w = -np.ones((8, 4, 2), np.float32)
    for j, s in enumerate((m, rc)):
        w[np.arange(8), ["ACGT".index(b) for b in s], j] = 1.0
    inp = keras.Input((L, 4))
    conv = keras.layers.Conv1D(2, 8, name="det")
    h = keras.layers.GlobalMaxPooling1D()(keras.layers.ReLU()(conv(inp)))
    dense = keras.layers.Dense(1, name="logit")
    out = dense(h)
    model = keras.Model(inp, out)
    conv.set_weights([w, np.full(2, -7.0, np.float32)])
    dense.set_weights([np.ones((2, 1), np.float32), np.array([-0.5], np.float32)])
    return model


def test_variants_stage_end_to_end(tmp_path, monkeypatch):
    import json

    import pandas as pd
    import yaml

    from seq2acc.config import Params
    from seq2acc.pipeline.variants import score_variants

    monkeypatch.chdir(tmp_path)
    seqs = random_seqs({"chrA": 600, "chrB": 500}, seed=11)
    s = seqs["chrA"]
    s = s[:300] + "TTACCCGG" + s[308:]
    seqs["chrA"] = s
    write_fasta(tmp_path / "g.fa", seqs)
    (tmp_path / "folds.json").write_text(json.dumps({"folds": [
        {"fold": 0, "test": ["chrA"], "valid": ["chrB"], "train": []},
        {"fold": 1, "test": ["chrB"], "valid": ["chrA"], "train": []}]}))
    model = _reb1_model(100)
    for k in (0, 1):
        (tmp_path / f"models/fold{k}").mkdir(parents=True)
        model.save(tmp_path / f"models/fold{k}/model.keras")
    b = seqs["chrB"]
    (tmp_path / "v.tsv").write_text(
        "chrom\tpos\tref\talt\tid\n"
        f"chrA\t305\tC\tA\tin_motif\n"  # 1-based 305 = 0-based 304 = the central C of TTAC[C]CGG
        f"chrB\t250\t{b[249]}\t{'A' if b[249] != 'A' else 'C'}\tbackground\n"
        f"chrA\t1\t{s[0]}\t{'G' if s[0] != 'G' else 'T'}\tfirst_base\n"
        f"chrB\t500\t{b[-1]}\t{'G' if b[-1] != 'G' else 'T'}\tlast_base\n")
    params = shipped_params({"seed": 0, "genome": {"fasta_out": "g.fa"}, "folds": {"out": "folds.json"},
                             "train": {"folds": [0, 1]},
                             "variants": {"input": "v.tsv", "n_null": 19, "method": "grad_x_input", "flank": 5,
                                          "top_plots": 2}})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    out = score_variants(Params.load("params.yaml"))
    sc = pd.read_csv(out / "scores.tsv", sep="\t", skiprows=1).set_index("id")
    assert sc.loc["in_motif", "delta"] == pytest.approx(-1.0, abs=1e-5)  # motif destroyed on both strands
    assert sc.loc["in_motif", "delta_fwd"] == pytest.approx(sc.loc["in_motif", "delta_rc"], abs=1e-5)
    assert sc.loc["in_motif", "p_value"] == pytest.approx(1 / 20)  # no shuffled background reacts as strongly
    assert sc.loc["background", "delta"] == pytest.approx(0.0, abs=1e-6) and sc.loc["background", "p_value"] == 1.0
    assert sc.loc["in_motif", "heldout_fold"] == 0 and sc.loc["background", "heldout_fold"] == 1
    assert sc.loc["in_motif", "contrib_change"] > 1.0 and sc.loc["background", "contrib_change"] < 1e-6
    assert sc.loc[["first_base", "last_base"], "delta"].abs().max() < 1e-6  # both chromosome ends scored
    folds = pd.read_csv(out / "fold_scores.tsv", sep="\t", skiprows=1)
    assert len(folds) == 8 and folds.heldout.sum() == 4
    assert len(list((out / "plots").glob("*.png"))) == 2 and (out / "volcano.png").stat().st_size > 1000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_variants"] == 4 and summary["top"][0]["id"] == "in_motif"
    # a REF that does not match the genome stops the stage and names the variant and line
    (tmp_path / "v.tsv").write_text("chrom\tpos\tref\talt\tid\nchrA\t305\tG\tA\tbad\n")
    with pytest.raises(InputError, match=r"v.tsv:2.*bad"):
        score_variants(Params.load("params.yaml"))


def test_every_bad_record_is_reported_at_once_and_can_be_skipped(tmp_path):
    from seq2acc.errors import InputError

    s = "ACGTACGTAC" * 10
    fa = write_fasta(tmp_path / "g.fa", {"chr1": s})
    g = Genome(fa)
    body = ("chrom\tpos\tref\talt\tid\n"
            f"chr1\t5\t{s[4]}\t{s[4]}\tsame\n"          # line 2: ALT = REF
            f"chr1\t6\t{s[5]}\tG\tok1\n"                  # line 3: fine (unless s[5] == G)
            "chr1\t7\tA\t<DEL>\tsymbolic\n"               # line 4: symbolic allele
            f"chr1\t8\t{s[7]}\t{'A' if s[7] != 'A' else 'C'}\tok2\n")
    p = _tsv(tmp_path, body)
    with pytest.raises(InputError) as e:
        read_variants(p)
    msg = str(e.value)
    assert "2 bad variant record(s)" in msg and f"{p}:2:" in msg and "line 4:" in msg and "skip_unsupported" in msg
    v = read_variants(p, skip_unsupported=True)
    assert list(v.id) == ["ok1", "ok2"]
    # genome checks: a record past the end and one with the wrong REF, both at once; skipped on request
    p2 = _tsv(tmp_path, f"chr1\t100\t{s[99]}\tA\tlast\nchr1\t101\tA\tC\tpast_end\nchr1\t10\tN\tA\twrong_ref\n"
                        "chrX\t1\tA\tC\tno_chrom\n", "g.tsv")
    v2 = read_variants(p2)
    with pytest.raises(InputError) as e:
        check_variants(v2, g, p2)
    msg = str(e.value)
    assert "3 bad variant(s)" in msg and "line 2:" in msg and "line 3:" in msg and "line 4:" in msg
    kept = check_variants(v2, g, p2, skip=True)
    assert list(kept.id) == ["last"]
