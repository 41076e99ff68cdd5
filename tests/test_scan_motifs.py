"""seq2acc.scan_motifs / `seq2acc scan` (issue 15): JASPAR hits in DNA strings, FASTA records, regions and
chromosomes, in the coordinates users give, with the project's motif_scan settings; bad input is a clear error."""

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT
from seq2acc.errors import ArgumentError, InputError
from seq2acc.seq.encoding import decode_codes, onehot

REB1 = "GTTACCCGG"  # MA0363 consensus
REB1_RC = "CCGGGTAAC"


@pytest.fixture(scope="module")
def proj(tmp_path_factory):
    """A project directory: the shipped params.yaml and a two-chromosome genome with planted REB1 sites."""
    root = tmp_path_factory.mktemp("scanproj")
    rng = np.random.default_rng(0)
    seqs = {c: list(decode_codes(rng.integers(0, 4, size=n).astype(np.uint8))) for c, n in (("c1", 3000), ("c2", 800))}
    for a in (100, 1500, 2990 - 9):
        seqs["c1"][a:a + 9] = REB1
    seqs["c1"][700:709] = REB1_RC
    seqs["c2"][300:320] = "N" * 20
    (root / "data/genome").mkdir(parents=True)
    with open(root / "data/genome/genome.fa", "w") as fh:
        for c, s in seqs.items():
            fh.write(f">{c}\n{''.join(s)}\n")
    (root / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    return root, {c: "".join(s) for c, s in seqs.items()}


@pytest.fixture
def at(proj, monkeypatch):
    monkeypatch.chdir(proj[0])
    return proj


def test_dna_strings_fasta_and_onehot(at):
    import seq2acc
    from seq2acc.interpret.motifs import PWMScanner, fetch_jaspar

    s1 = "A" * 20 + REB1 + "T" * 30 + REB1_RC + "ACGTN" * 3
    s2 = "C" * 5  # shorter than the motif: no windows, no error
    h = seq2acc.scan_motifs({"one": s1, "two": s2}, ["MA0363"])
    assert list(h.columns) == ["sequence", "start", "end", "strand", "motif_id", "motif_name", "score", "p_value"]
    sites = h[h.p_value < 1e-5]
    assert sites[["sequence", "start", "end", "strand"]].values.tolist() == [["one", 20, 29, "+"], ["one", 59, 68, "-"]]
    assert (h.motif_name.str.upper() == "REB1").all() and (h.p_value < 1e-4).all()  # the project's motif_scan.pvalue
    # the same hits as the scanner on the one-hot sequence (the project's pseudocount, grid and look-up)
    p = yaml.safe_load(open("params.yaml"))["motif_scan"]
    sc = PWMScanner.from_motifs(fetch_jaspar(ids=["MA0363"]), pseudocount=p["pseudocount"], pvalue_bin=p["pvalue_bin"],
                                pvalue_lookup=p["pvalue_lookup"])
    ref = sc.hits(onehot(s1), p["pvalue"])
    assert h[["start", "end", "strand"]].values.tolist() == ref[["start", "end", "strand"]].values.tolist()
    assert np.allclose(h.score, ref.score) and np.array_equal(h.p_value, ref.p_value)
    assert seq2acc.scan_motifs(onehot(s1), ["MA0363"]).drop(columns="sequence").equals(h.drop(columns="sequence"))
    fa = at[0] / "seqs.fa"
    fa.write_text(f">first desc\n{s1[:40]}\n{s1[40:]}\n>second\n{s2}\n")
    hf = seq2acc.scan_motifs(str(fa), ["MA0363"], pvalue=1e-5)
    assert hf.sequence.tolist() == ["first", "first"] and hf.start.tolist() == [20, 59]
    # every motif of the project's collection (JASPAR2024 CORE fungi): REB1 among them, strictly thresholded
    every = seq2acc.scan_motifs(s1, pvalue=1e-5)
    assert every.motif_id.nunique() >= 1 and (every.p_value < 1e-5).all()
    assert ((every.start == 20) & every.motif_id.str.startswith("MA0363")).any()


def test_regions_and_chromosomes_in_genome_coordinates(at):
    import seq2acc

    root, seqs = at
    chrom = seq2acc.scan_motifs(chrom="c1", motifs=["MA0363"], pvalue=1e-5)
    assert list(chrom.columns)[:4] == ["chrom", "start", "end", "region"]
    assert chrom[["start", "strand"]].values.tolist() == [[100, "+"], [700, "-"], [1500, "+"], [2981, "+"]]
    assert (chrom.region == "c1").all()
    for _, r in chrom.iterrows():  # coordinates are the genome's: the site is there
        site = seqs["c1"][r.start:r.end]
        assert site == (REB1 if r.strand == "+" else REB1_RC)
    bed = root / "r.bed"
    bed.write_text("c1\t90\t120\tpeak1\nc1\t1000\t2000\tpeak2\nc2\t0\t800\tpeak3\n")
    reg = seq2acc.scan_motifs(str(bed), ["MA0363"], pvalue=1e-5)
    assert reg[["start", "region"]].values.tolist() == [[100, "c1:90-120"], [1500, "c1:1000-2000"]]
    cut = seq2acc.scan_motifs(["c1:95-108", "c1:1495-1520"], ["MA0363"], pvalue=1e-5)  # 95-108 cuts the site off
    assert cut.start.tolist() == [1500]
    table = seq2acc.scan_motifs(pd.DataFrame({"chrom": ["c1"], "start": [600], "end": [800]}), ["MA0363"], pvalue=1e-5)
    assert table.start.tolist() == [700] and table.strand.tolist() == ["-"]


def test_cli_scan_writes_the_table(at, capsys):
    from seq2acc.artifacts.tables import read_table
    from seq2acc.cli import main

    main(["--params", "params.yaml", "scan", "--region", "c1:0-3000", "--motif", "MA0363", "--pvalue", "1e-5",
          "--out", "hits.tsv"])
    assert "hits.tsv: 4 hit(s) of 1 motif(s)" in capsys.readouterr().out
    t = read_table(at[0] / "hits.tsv")
    assert t.start.tolist() == [100, 700, 1500, 2981] and set(t.columns) >= {"chrom", "end", "strand", "p_value"}
    main(["--params", "params.yaml", "scan", "--chrom", "c1,c2", "--motif", "MA0363,MA0265", "--out", "all.tsv"])
    assert set(read_table(at[0] / "all.tsv").chrom) <= {"c1", "c2"}


def test_bad_input_is_a_clear_error(at):
    import seq2acc

    with pytest.raises(ArgumentError, match=r"argument 'motifs': 'MA9999' is not in"):
        seq2acc.scan_motifs("ACGT" * 10, ["MA9999"])
    with pytest.raises(InputError, match=r"runs off the chromosome"):
        seq2acc.scan_motifs("c2:700-900", ["MA0363"])
    with pytest.raises(InputError, match=r"chrX.*not in"):
        seq2acc.scan_motifs("chrX:1-100", ["MA0363"])
    with pytest.raises(InputError, match="not a sequence of"):
        seq2acc.scan_motifs(chrom="chr9", motifs=["MA0363"])
    with pytest.raises(InputError, match="characters other than DNA"):
        seq2acc.scan_motifs(["ACGTXZ"], ["MA0363"])
    with pytest.raises(ArgumentError, match="pvalue"):
        seq2acc.scan_motifs("ACGT" * 10, ["MA0363"], pvalue=2.0)
    with pytest.raises(ArgumentError, match="background"):
        seq2acc.scan_motifs("ACGT" * 10, ["MA0363"], background="gc-rich")
    with pytest.raises(InputError, match="not 0/1 one-hot"):
        seq2acc.scan_motifs(onehot("ACGTACGTACGT") * 0.5, ["MA0363"])
