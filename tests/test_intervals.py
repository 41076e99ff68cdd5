"""Bad interval input gets a clear error naming file, line and fix; good variants of BED are all read."""

import gzip

import pytest

from seq2acc.errors import InputError
from seq2acc.data.intervals import merge
from seq2acc.io.bed import read_intervals

SIZES = {"chr1": 10000, "chr2": 8000}


def _w(tmp_path, text, name="p.bed"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _err(tmp_path, text, sizes=SIZES, **kw) -> InputError:
    p = _w(tmp_path, text)
    with pytest.raises(InputError) as e:
        read_intervals(p, sizes, **kw)
    assert str(p) in str(e.value)
    return e.value


def test_bed3_bed6_narrowpeak_and_headers(tmp_path):
    txt = ("track name=x\nbrowser position chr1:1-10\n# comment\n\nchrom\tstart\tend\n"
           "chr1\t100\t200\nchr1\t150\t160\tn\t5\t+\nchr2\t1000\t1500\tp\t0\t.\t1\t2\t3\t250\n")
    iv = read_intervals(_w(tmp_path, txt), SIZES)
    assert iv.df[["chrom", "start", "end"]].values.tolist() == [["chr1", 100, 200], ["chr1", 150, 160], ["chr2", 1000, 1500]]
    assert iv.df.summit.tolist() == [-1, -1, 1250]
    m = merge(iv).df
    assert m[["chrom", "start", "end"]].values.tolist() == [["chr1", 100, 200], ["chr2", 1000, 1500]]


def test_gzip_bed(tmp_path):
    p = tmp_path / "p.bed.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("chr1\t1\t5\n")
    assert len(read_intervals(p, SIZES)) == 1


def test_duplicates_and_overlaps_merge(tmp_path):
    iv = read_intervals(_w(tmp_path, "chr1\t10\t20\nchr1\t10\t20\nchr1\t15\t30\nchr1\t30\t40\nchr1\t50\t60\n"), SIZES)
    assert merge(iv).df[["start", "end"]].values.tolist() == [[10, 40], [50, 60]]


@pytest.mark.parametrize("text,line,words", [
    ("chr1\t100\n", 1, "at least 3"),
    ("chr1\t1\t5\nchr1\t1.5\t20\n", 2, "integers"),
    ("chr1\t1\t5\nchr1\t1,000\t2000\n", 2, "integers"),
    ("chr1\t500\t100\n", 1, "not before"),
    ("chr1\t-5\t100\n", 1, "negative"),
    ("chr1\t9000\t10001\n", 1, "past the end"),
    ("chr1\t100\t200\tx\t0\t.\t1\t2\t3\t500\n", 1, "summit"),
])
def test_malformed_lines_name_file_line_and_fix(tmp_path, text, line, words):
    e = _err(tmp_path, text)
    assert e.line == line and words in str(e) and "fix:" in str(e)


def test_empty_file(tmp_path):
    e = _err(tmp_path, "# only a comment\n")
    assert "no intervals" in str(e)


def test_roman_vs_arabic_names_are_explained(tmp_path):
    e = _err(tmp_path, "chrI\t1\t50\nchrII\t5\t60\n")
    msg = str(e)
    assert "roman" in msg and "arabic" in msg and "chrI -> chr1" in msg


def test_missing_chr_prefix_is_explained(tmp_path):
    e = _err(tmp_path, "1\t1\t50\n")
    assert "no chr prefix" in str(e) and "1 -> chr1" in str(e)


def test_unknown_chroms_can_be_dropped_on_request(tmp_path):
    p = _w(tmp_path, "chr1\t1\t50\nchrM\t5\t60\n")
    with pytest.raises(InputError):
        read_intervals(p, SIZES)
    assert len(read_intervals(p, SIZES, drop_unknown_chroms=True)) == 1
