"""Bad inputs to the data stages (issue 13, items 3-5): every one stops with ONE message that names the file (and the
1-based line where there is one) and the fix, and leaves nothing half-written anywhere (no temporary file, no
partial output, nothing written next to the user's files).

Each case builds a tiny project in tmp_path (FASTA, BED, VCF/TSV written by the test), runs the stages before the one
under test with good params, breaks one input or param, and calls that stage's body directly.
"""

from __future__ import annotations

import bz2
import gzip
import io
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import random_seqs, shipped_params, write_bed, write_fasta
from seq2acc.config import Params
from seq2acc.errors import DataValidationError, InputError, ParamsError

SIZES = {"chr1": 5000, "chr2": 4500, "chr3": 4000}
TARGET = [("chr1", 2000, 2001), ("chr1", 3500, 3501), ("chr2", 2000, 2001), ("chr3", 2200, 2201)]
OTHER = [("chr1", 1000, 1001), ("chr2", 3000, 3001)]
BLACK = [("chr2", 1000, 1300)]
SEQS = random_seqs({**SIZES, "chr4": 3000, "tiny": 500}, seed=7)

DIR = object()      # files value: make a directory at that path
DELETE = object()   # files / over value: remove the file / the params key


def fasta(names=("chr1", "chr2", "chr3"), width=60, **extra) -> str:
    seqs = {**{n: SEQS[n] for n in names}, **extra}
    return "".join(f">{n}\n" + "".join(s[i:i + width] + "\n" for i in range(0, len(s), width)) for n, s in seqs.items())


FA = fasta()
BED = "".join(f"{c}\t{s}\t{e}\n" for c, s, e in TARGET)
TSV = "chrom\tpos\tref\talt\n" + f"chr1\t10\t{SEQS['chr1'][9]}\t{'A' if SEQS['chr1'][9] != 'A' else 'C'}\n"


def _gz_truncated(text: str) -> bytes:
    data = gzip.compress(text.encode())
    return data[: len(data) * 2 // 3]


def _zip(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x", text)
    return buf.getvalue()


def _fasta_lines(n_chr1_lines: int):
    return FA.splitlines()[: n_chr1_lines]


# ----------------------------------------------------------------------------- the project and the checks
def base_params(root: Path) -> dict:
    return shipped_params({
        "genome": {"fasta": "raw/genome.fa"},
        "peaks": {"target": "raw/target.bed", "elsewhere": ["raw/other.bed"], "blacklist": "raw/black.bed"},
        "dataset": {"chromosomes": list(SIZES)},
        "folds": {"n_folds": 3},
    })


def set_dotted(d: dict, dotted: str, val) -> None:
    *head, last = dotted.split(".")
    for h in head:
        d = d.setdefault(h, {})
    if val is DELETE:
        d.pop(last, None)
    else:
        d[last] = val


def write_params(root: Path, over: dict | None = None) -> Params:
    data = base_params(root)
    for k, v in (over or {}).items():
        set_dotted(data, k, v)
    (root / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return Params.load("params.yaml")


def put(root: Path, name: str, content) -> None:
    path = root / "raw" / name
    if content is DELETE:
        path.unlink(missing_ok=True)
    elif content is DIR:
        path.unlink(missing_ok=True)
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def run(stage: str, p: Params, item: str | None = None):
    from seq2acc.pipeline.dataset import build_dataset
    from seq2acc.pipeline.folds import build_folds
    from seq2acc.pipeline.genome import prepare_genome
    from seq2acc.pipeline.peaks import prepare_peaks

    if stage == "genome":
        return prepare_genome(p)
    if stage == "peaks":
        return prepare_peaks(p)
    if stage == "dataset":
        return [build_dataset(p, c) for c in ([item] if item else p.get("dataset.chromosomes", list))]
    if stage == "folds":
        return build_folds(p)
    if stage == "validate":
        from seq2acc.pipeline.validate import validate

        return validate(p)
    raise AssertionError(stage)


ORDER = ["genome", "peaks", "dataset", "folds", "validate"]


def snapshot(root: Path) -> dict:
    """Every file and folder under the project (inputs included: nothing may appear next to them either)."""
    return {p.relative_to(root).as_posix(): (p.is_dir(), None if p.is_dir() else (p.stat().st_size, p.stat().st_mtime_ns))
            for p in root.rglob("*") if p.name != "params.yaml"}


def assert_nothing_written(before: dict, after: dict) -> None:
    new = sorted(set(after) - set(before))
    changed = sorted(k for k in before if k in after and before[k] != after[k])
    gone = sorted(set(before) - set(after))
    tmp = [k for k in after if k.endswith(".tmp") or ".tmp." in k]
    assert not (new or changed or gone or tmp), f"half-written: new {new}, changed {changed}, removed {gone}, tmp {tmp}"


def check_message(e: Exception, where: str, line: int | None, words) -> str:
    msg = str(e)
    assert where in msg, msg
    if line is not None:
        assert f"{where}:{line}: " in msg, msg
        if isinstance(e, InputError):
            assert e.line == line
    assert "\n    fix: " in msg and len(msg.split("fix:", 1)[1].strip()) > 10, msg
    for w in words:
        assert w in msg, f"{w!r} not in:\n{msg}"
    return msg


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "raw").mkdir()
    write_fasta(tmp_path / "raw/genome.fa", {n: SEQS[n] for n in SIZES})
    write_bed(tmp_path / "raw/target.bed", TARGET)
    write_bed(tmp_path / "raw/other.bed", OTHER)
    write_bed(tmp_path / "raw/black.bed", BLACK)
    return tmp_path


@dataclass
class Case:
    id: str
    stage: str
    files: dict = field(default_factory=dict)   # raw/<name> -> content, written before any stage runs
    over: dict = field(default_factory=dict)    # dotted params overrides for the stage under test
    exc: type = InputError
    where: str = ""                             # the file the message must name
    line: int | None = None                     # the 1-based line it must name
    words: tuple = ()                           # user-relevant content of the message
    pre: dict = field(default_factory=dict)     # dotted overrides for the stages before it
    item: str | None = None                     # dataset stage: the chromosome (default: the first listed)


def fa_case(id, content, line=None, words=(), where="raw/genome.fa", **kw):
    return Case(id, "genome", {"genome.fa": content}, where=where, line=line, words=words, **kw)


def bed_case(id, content, line=None, words=(), name="target.bed", **kw):
    return Case(id, "peaks", {name: content}, where=f"raw/{name}", line=line, words=words, **kw)


def par_case(id, stage, over, key, words=(), **kw):
    return Case(id, stage, over=over, exc=ParamsError, where="params.yaml", words=(f"parameter '{key}'", *words), **kw)


def _task(name, peaks, min_width=200):
    return {"name": name, "peaks": peaks, "signal": None, "jaspar_id": None, "min_width": min_width}


TRUNCATED = "".join(l + "\n" for l in FA.splitlines()[:120])[:-25]  # cut mid-chr2 (mid-line, no final newline)


def _bigwig(per_chrom: dict, sizes: dict | None = None) -> bytes:
    """The bytes of a bigWig written with pyBigWig: ``per_chrom[chrom] = [(start, end, value), ...]`` as given (NaN
    and negative values included); the header lists ``sizes`` (default SIZES)."""
    import tempfile

    import pyBigWig

    sizes = SIZES if sizes is None else sizes
    with tempfile.TemporaryDirectory() as d:
        path = f"{d}/t.bw"
        bw = pyBigWig.open(path, "w")
        bw.addHeader(list(sizes.items()))
        for c in sizes:
            rows = per_chrom.get(c, [])
            if rows:
                bw.addEntries([c] * len(rows), [r[0] for r in rows], ends=[r[1] for r in rows],
                              values=[float(r[2]) for r in rows])
        bw.close()
        return Path(path).read_bytes()


GOOD_SIGNAL = {c: [(0, n, 1.0)] for c, n in SIZES.items()}


def _signal_tasks(signal: str) -> dict:
    return {"peaks.target": None, "peaks.tasks": [{**_task("Reb1", "raw/target.bed"), "signal": signal}]}


def signal_case(id, name, content, stage="peaks", line=None, words=()):
    """A bad signal track of task 'Reb1' (peaks.tasks[0].signal): the message names the task, the file and the fix."""
    tasks = _signal_tasks(f"raw/{name}")
    return Case(id, stage, {name: content}, over=tasks, pre=tasks if stage != "peaks" else {}, where=f"raw/{name}",
                line=line, words=("signal track of task 'Reb1' (peaks.tasks[0].signal)", *words))
CASES = [
    # --- FASTA ------------------------------------------------------------------------------------------------
    fa_case("fasta-is-bed", BED, 1, ("first line must start with '>'",)),
    fa_case("fasta-is-fastq", "@read1\nACGT\n+\nIIII\n", 1, ("FASTQ",)),
    fa_case("fasta-empty", "", None, ("FASTA is empty",)),
    fa_case("fasta-duplicate-name", FA + ">chr2 again\nACGTACGT\n", FA.count("\n") + 1,
            ("duplicate sequence name 'chr2'", "first on line", "unique name")),
    fa_case("fasta-empty-record", ">chr0\n" + FA, 1, ("'chr0' has no bases", "genome stage stops")),
    fa_case("fasta-header-without-name", FA + ">\nACGT\n", FA.count("\n") + 1, ("header without a name",)),
    fa_case("fasta-digits-in-sequence", FA.replace("\n", "\nAC1T\n", 1), 2, ("not IUPAC nucleotide",)),
    fa_case("fasta-protein", ">p1\nMEEPQSDPSVEPPLSQETFSDLWKLL\n", 2, ("protein FASTA",)),
    fa_case("fasta-name-not-utf8", b">chr\xff1\nACGT\n", 1, ("not UTF-8",)),
    fa_case("fasta-binary", b">chr1\nAC\x00\x01GT\n", 2, ("binary file",)),
    fa_case("fasta-gz-truncated", _gz_truncated(FA), None, ("truncated gzip", "incomplete", "gzip -t")),
    fa_case("fasta-gz-corrupt", gzip.compress(FA.encode())[:20] + b"\x00garbage" * 40, None, ("gzip",)),
    fa_case("fasta-bzip2", bz2.compress(FA.encode()), None, ("bzip2-compressed", "bunzip2")),
    fa_case("fasta-zip", _zip(FA), None, ("ZIP archive", "unzip")),
    fa_case("fasta-utf16", FA.encode("utf-16"), None, ("UTF-16", "iconv")),
    fa_case("fasta-cr-line-ends", FA.replace("\n", "\r"), 1, ("CR-only",)),
    fa_case("fasta-directory", DIR, None, ("is a directory",)),
    fa_case("fasta-missing", DELETE, None, ("does not exist", "genome.fasta")),
    # the FASTA is fine, but the params that need it are not: reported by the genome stage, before any dataset
    Case("chroms-not-in-fasta", "genome", over={"dataset.chromosomes": ["chr1", "chr2", "chrX"]}, exc=ParamsError,
         where="params.yaml", words=("parameter 'dataset.chromosomes'", "chrX", "raw/genome.fa", "seq2acc chroms")),
    Case("chroms-truncated-fasta", "genome", {"genome.fa": TRUNCATED}, exc=ParamsError, where="params.yaml",
         words=("parameter 'dataset.chromosomes'", "chr3", "no line end", "cut short after 'chr2'",
                "replace it with the complete file")),
    Case("chroms-shorter-than-context", "genome", {"genome.fa": fasta(tiny=SEQS["tiny"])},
         over={"dataset.chromosomes": ["chr1", "chr2", "chr3", "tiny"]}, exc=ParamsError, where="params.yaml",
         words=("parameter 'dataset.chromosomes'", "tiny (500 bp)", "shorter than the 1000-bp context",
                "--min-length 1000")),
    Case("chroms-empty-record-listed", "genome", {"genome.fa": ">chr4\n\n" + FA}, where="raw/genome.fa", line=1,
         words=("'chr4' has no bases",)),
    par_case("chroms-duplicate", "genome", {"dataset.chromosomes": ["chr1", "chr2", "chr2", "chr3"]},
             "dataset.chromosomes", ("more than once: chr2",)),
    par_case("chroms-numbers", "genome", {"dataset.chromosomes": [1, 2, 3]}, "dataset.chromosomes", ("quote",)),
    par_case("chroms-empty-list", "genome", {"dataset.chromosomes": []}, "dataset.chromosomes", ("non-empty list",)),
    par_case("chroms-not-a-list", "genome", {"dataset.chromosomes": "chr1"}, "dataset.chromosomes", ("expected list",)),
    par_case("chroms-missing", "genome", {"dataset.chromosomes": DELETE}, "dataset.chromosomes", ("is missing",)),
    par_case("folds-more-than-chroms", "genome", {"folds.n_folds": 10}, "folds.n_folds",
             ("only 3 chromosomes", "folds.n_folds <= 3")),
    Case("folds-one-chromosome", "genome", over={"dataset.chromosomes": ["chr1"], "folds.n_folds": 10},
         exc=ParamsError, where="params.yaml",
         words=("parameter 'folds.n_folds'", "add chromosomes", "folds.n_folds >= 3 and <= the number of chromosomes")),
    par_case("folds-two", "genome", {"folds.n_folds": 2}, "folds.n_folds", ("at least 3",)),
    par_case("genome-fasta-not-a-string", "genome", {"genome.fasta": 12}, "genome.fasta", ("expected str",)),
    par_case("dataset-context-missing-at-genome", "genome", {"dataset.context": DELETE}, "dataset.context",
             ("is missing",)),
    # --- BED / narrowPeak -------------------------------------------------------------------------------------
    bed_case("bed-not-utf8", "chr1\t10\t20\tpe\xe4k\n".encode("latin-1"), 1, ("not UTF-8", "iconv")),
    bed_case("bed-binary", b"chr1\t10\t20\n\x00\x01\x02", 2, ("binary file", "bigBedToBed")),
    bed_case("bed-directory", DIR, None, ("target peak file is a directory",)),
    bed_case("bed-missing", DELETE, None, ("target peak file does not exist",)),
    bed_case("bed-gz-truncated", _gz_truncated(BED * 200), None, ("truncated gzip",)),
    bed_case("bed-utf16", BED.encode("utf-16"), None, ("UTF-16",)),
    bed_case("bed-bzip2", bz2.compress(BED.encode()), None, ("bzip2",)),
    bed_case("bed-is-vcf", "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\nchr1\t100\t.\tA\tG\n", 1,
             ("looks like a VCF", "variants.input")),
    bed_case("bed-is-vcf-no-header", "chr1\t100\trs1\tA\tG\t50\tPASS\t.\n", 1, ("looks like a VCF",)),
    bed_case("bed-is-fasta", FA, 1, ("looks like a FASTA", "genome.fasta")),
    bed_case("bed-is-gff", "chr1\tensembl\tgene\t100\t200\t.\t+\t.\tID=g1\n", 1, ("GFF/GTF", "awk")),
    bed_case("bed-two-columns", "chr1\t100\t200\nchr1\t300\n", 2, ("2 column(s)",)),
    bed_case("bed-region-strings", "chr1:100-200\n", 1, ("chr:start-end",)),
    bed_case("bed-decimal", "chr1\t100\t200\nchr1\t1.5\t20\n", 2, ("integers",)),
    bed_case("bed-negative-start", "chr1\t-5\t100\n", 1, ("negative start",)),
    bed_case("bed-start-after-end", "chr1\t500\t100\n", 1, ("not before end",)),
    bed_case("bed-past-chrom-end", "chr1\t100\t200\nchr3\t3900\t4100\n", 2,
             ("past the end of chr3", "last sequence", "cut short")),
    bed_case("narrowpeak-summit-outside", "chr1\t100\t200\tp\t0\t.\t1\t2\t3\t500\n", 1, ("summit",)),
    bed_case("narrowpeak-summit-not-int", "chr1\t100\t200\tp\t0\t.\t1\t2\t3\tmid\n", 1, ("summit", "-1")),
    bed_case("bed-roman-names", "chrI\t100\t200\nchrII\t100\t200\n", 1, ("chrI -> chr1", "roman")),
    bed_case("bed-chrom-missing-from-fasta", BED + "chr4\t100\t200\n", 5,
             ("not in the FASTA", "lacks these sequences", "incomplete", "drop_unknown_chroms")),
    bed_case("bed-empty", "# nothing\n", None, ("no intervals",)),
    bed_case("bed-bom-header-only", "\ufefftrack name=x\n", None, ("no intervals",)),
    bed_case("elsewhere-bad-line", "chr1\t100\t200\nchr2\tx\t300\n", 2, ("integers",), name="other.bed"),
    bed_case("blacklist-not-utf8", b"chr1\t10\t20\xff\n", 1, ("not UTF-8",), name="black.bed"),
    bed_case("blacklist-directory", DIR, None, ("blacklist is a directory",), name="black.bed"),
    Case("blacklist-is-the-target", "peaks", {"black.bed": BED}, where="raw/black.bed",
         words=("blacklist overlaps every one of the 4 target peak", "no bin could be positive",
                "peaks.blacklist")),
    Case("target-not-on-listed-chroms", "peaks", {"genome.fa": fasta(("chr1", "chr2", "chr3", "chr4")),
                                                   "target.bed": "chr4\t1000\t1001\n"},
         where="raw/target.bed", words=("none of the 1 target peak", "dataset.chromosomes")),
    par_case("elsewhere-glob-matches-nothing", "peaks", {"peaks.elsewhere": ["raw/nothing*.bed"]}, "peaks.elsewhere",
             ("matches no file",)),
    par_case("elsewhere-not-a-list", "peaks", {"peaks.elsewhere": 5}, "peaks.elsewhere", ("list of paths",)),
    par_case("peaks-min-width-negative", "peaks", {"peaks.min_width": -1}, "peaks.min_width", (">= 0",)),
    par_case("peaks-drop-unknown-not-bool", "peaks", {"peaks.drop_unknown_chroms": "maybe"},
             "peaks.drop_unknown_chroms", ("expected bool",)),
    par_case("peaks-target-missing", "peaks", {"peaks.target": DELETE}, "peaks.target", ("is missing",)),
    par_case("peaks-chroms-changed", "peaks", {"dataset.chromosomes": ["chr1", "chr2", "chr9"]},
             "dataset.chromosomes", ("chr9",)),
    # --- several tasks (peaks.tasks) ----------------------------------------------------------------------------
    Case("task-peak-file-missing", "peaks", over={"peaks.target": None, "peaks.tasks": [
        _task("Reb1", "raw/target.bed"), _task("Abf1", "raw/abf1.bed")]}, where="raw/abf1.bed",
        words=("peak file of task 'Abf1' (peaks.tasks[1].peaks) does not exist", "remove task 'Abf1'")),
    Case("task-peak-file-empty", "peaks", {"abf1.bed": "# no peaks\n"}, over={"peaks.target": None, "peaks.tasks": [
        _task("Reb1", "raw/target.bed"), _task("Abf1", "raw/abf1.bed")]}, where="raw/abf1.bed",
        words=("peak file of task 'Abf1' has no intervals", "remove task 'Abf1' from peaks.tasks")),
    Case("task-peak-file-bad-line", "peaks", {"abf1.bed": "chr1\t100\t300\nchr2\t5\n"}, over={
        "peaks.target": None, "peaks.tasks": [_task("Reb1", "raw/target.bed"), _task("Abf1", "raw/abf1.bed")]},
        where="raw/abf1.bed", line=2, words=("peak file of task 'Abf1' line has 2 column(s)",)),
    par_case("task-names-duplicate", "peaks", {"peaks.target": None, "peaks.tasks": [
        _task("Reb1", "raw/target.bed"), _task("reb1", "raw/other.bed")]}, "peaks.tasks[1].name",
        ("'reb1' is used twice", "peaks.tasks[0] ('Reb1')", "own name")),
    par_case("task-name-unusable", "peaks", {"peaks.target": None, "peaks.tasks": [_task("Reb 1", "raw/target.bed")]},
             "peaks.tasks[0].name", ("not a usable task name",)),
    par_case("task-key-missing", "peaks", {"peaks.target": None, "peaks.tasks": [
        {k: v for k, v in _task("Reb1", "raw/target.bed").items() if k != "jaspar_id"}]},
        "peaks.tasks[0].jaspar_id", ("task 'Reb1' lacks 'jaspar_id'", "null when there is none")),
    par_case("task-key-unknown", "peaks", {"peaks.target": None, "peaks.tasks": [
        {**_task("Reb1", "raw/target.bed"), "minwidth": 200}]}, "peaks.tasks[0].minwidth", ("unknown key",)),
    par_case("task-min-width-negative", "peaks", {"peaks.target": None, "peaks.tasks": [
        {**_task("Reb1", "raw/target.bed"), "min_width": -5}]}, "peaks.tasks[0].min_width", (">= 0",)),
    par_case("tasks-and-target", "peaks", {"peaks.tasks": [_task("Reb1", "raw/target.bed")]}, "peaks.target",
             ("ambiguous", "peaks.target: null")),
    par_case("tasks-empty-list", "peaks", {"peaks.target": None, "peaks.tasks": []}, "peaks.tasks",
             ("non-empty list",)),
    par_case("task-signal-not-a-track", "peaks", {"peaks.target": None, "peaks.tasks": [
        {**_task("Reb1", "raw/target.bed"), "signal": "raw/target.bed"}]}, "peaks.tasks[0].signal",
        ("neither a bigWig nor a bedGraph",)),
    Case("task-signal-missing", "peaks", over={"peaks.target": None, "peaks.tasks": [
        {**_task("Reb1", "raw/target.bed"), "signal": "raw/reb1.bw"}]}, where="raw/reb1.bw",
        words=("signal track of task 'Reb1' (peaks.tasks[0].signal) does not exist",)),
    Case("task-events-not-widened", "peaks", over={"peaks.target": None, "peaks.tasks": [
        {**_task("Reb1", "raw/target.bed"), "min_width": 0}]}, where="raw/target.bed",
        words=("task 'Reb1' peak(s)", "task 'Reb1' would have no positive example",
               "set peaks.tasks[0].min_width to at least 200")),
    Case("target-events-not-widened", "peaks", over={"peaks.min_width": 0}, where="raw/target.bed",
         words=("no 200-bp window is covered by more than 100 bp", "target would have no positive example",
                "set peaks.min_width to at least 200")),
    Case("elsewhere-events-not-widened", "peaks", over={"peaks.elsewhere_min_width": 0}, where="raw/other.bed",
         words=("'elsewhere' peak(s)", "no bin could be an 'elsewhere' negative",
                "set peaks.elsewhere_min_width to at least 200")),
    par_case("elsewhere-min-width-missing", "peaks", {"peaks.elsewhere_min_width": DELETE},
             "peaks.elsewhere_min_width", ("is missing",)),
    # --- signal tracks (bigWig checked by the peaks stage, its values by the dataset stage; bedGraph by peaks) ---
    signal_case("signal-bigwig-chrom-names-differ", "sig.bw",
                _bigwig({c[3:]: r for c, r in GOOD_SIGNAL.items()}, {c[3:]: n for c, n in SIZES.items()}),
                words=("chromosome names differ from the FASTA", "rename (1 -> chr1, 2 -> chr2, 3 -> chr3)")),
    signal_case("signal-bigwig-other-assembly", "sig.bw", _bigwig({}, {**SIZES, "chr2": 4600}),
                words=("chr2: 4600 bp in the track, 4500 bp in the FASTA", "same assembly")),
    signal_case("signal-bigwig-lacks-a-chromosome", "sig.bw", _bigwig({}, {"chr1": 5000, "chr2": 4500}),
                words=("no data for 1 chromosome(s) of dataset.chromosomes: chr3", "remove those chromosomes")),
    signal_case("signal-bigwig-empty-file", "sig.bw", b"", words=("is empty (0 bytes)",)),
    signal_case("signal-bigwig-no-data", "sig.bw", _bigwig({}), words=("no data on any chromosome", "null")),
    signal_case("signal-bigwig-is-text", "sig.bw", "chr1\t0\t100\t1\n",
                words=("not a bigWig file", ".bedGraph")),
    signal_case("signal-bigwig-nan", "sig.bw", _bigwig({**GOOD_SIGNAL, "chr1": [(0, 100, 1.0), (100, 200, math.nan)]}),
                stage="dataset", words=("NaN value (nan) at chr1:100-200", "instead of writing NaN",
                                        "set peaks.tasks[0].signal: null")),
    signal_case("signal-bigwig-negative", "sig.bw", _bigwig({**GOOD_SIGNAL, "chr1": [(0, 4000, 1.0), (4000, 4100, -2.5)]}),
                stage="dataset", words=("negative value (-2.5) at chr1:4000-4100", "not a log ratio")),
    signal_case("signal-bedgraph-nan", "sig.bedGraph", "track type=bedGraph\nchr1\t0\t10\t1\nchr1\t10\t20\tnan\n",
                line=3, words=("NaN value",)),
    signal_case("signal-bedgraph-negative", "sig.bg", "chr2\t0\t10\t-1\nchr1\t0\t10\t1\n", line=1,
                words=("negative value (-1) at chr2:0-10", "clip it at 0")),
    signal_case("signal-bedgraph-overlap", "sig.bedGraph", "chr1\t0\t100\t1\nchr1\t50\t150\t2\n", line=2,
                words=("lines 1 and 2 overlap (chr1:0-100 and chr1:50-150)",)),
    signal_case("signal-bedgraph-empty", "sig.bedGraph", "track type=bedGraph\n", words=("no data lines",)),
    signal_case("signal-bedgraph-chrom-names-differ", "sig.bedGraph.gz",
                gzip.compress(b"1\t0\t10\t1\n2\t0\t10\t1\n"), words=("rename (1 -> chr1, 2 -> chr2)",)),
    signal_case("signal-bedgraph-past-chrom-end", "sig.bg", "chr3\t3990\t4010\t1\n", line=1,
                words=("past the end of chr3 (length 4000",)),
    signal_case("signal-bedgraph-is-bed", "sig.bg", BED, line=1, words=("4 columns", "this one 3")),
    # --- dataset / folds params -------------------------------------------------------------------------------
    par_case("stride-above-bin-size", "dataset", {"dataset.stride": 300}, "dataset.stride",
             ("larger than bin_size 200", "never be in a bin", "stride <= bin_size")),
    par_case("fractions-sum", "dataset", {"dataset.negatives.fractions": {"flank": 0.9, "elsewhere": 0.9, "random": 0.9}},
             "dataset.negatives.fractions", ("sum to 2.7", "= 1")),
    par_case("fractions-unknown-key", "dataset",
             {"dataset.negatives.fractions": {"flanks": 0.4, "elsewhere": 0.3, "random": 0.3}},
             "dataset.negatives.fractions", ("needs exactly",)),
    par_case("fractions-negative", "dataset", {"dataset.negatives.fractions.flank": -0.1},
             "dataset.negatives.fractions.flank", (">= 0",)),
    par_case("fractions-not-a-mapping", "dataset", {"dataset.negatives.fractions": [0.4, 0.3, 0.3]},
             "dataset.negatives.fractions", ("expected dict",)),
    par_case("context-odd", "dataset", {"dataset.context": 1001}, "dataset.context", ("even",)),
    par_case("bin-size-zero", "dataset", {"dataset.bin_size": 0}, "dataset.bin_size", ("> 0",)),
    par_case("positive-overlap-above-1", "dataset", {"dataset.positive_overlap": 1.5}, "dataset.positive_overlap",
             ("< 1",)),
    par_case("max-n-fraction-above-1", "dataset", {"dataset.max_n_fraction": 2}, "dataset.max_n_fraction", ("<= 1",)),
    par_case("ratio-not-a-number", "dataset", {"dataset.negatives.ratio": "lots"}, "dataset.negatives.ratio",
             ("expected float",)),
    par_case("stride-a-string", "dataset", {"dataset.stride": "50bp"}, "dataset.stride", ("expected int",)),
    par_case("flank-bins-missing", "dataset", {"dataset.negatives.flank_bins": DELETE},
             "dataset.negatives.flank_bins", ("is missing",)),
    par_case("seed-missing", "dataset", {"seed": DELETE}, "seed", ("is missing",)),
    par_case("dataset-chroms-changed", "dataset", {"dataset.chromosomes": ["chr1", "chr2", "chr3", "chr7"]},
             "dataset.chromosomes", ("chr7", "seq2acc chroms")),
    Case("chrom-all-n", "dataset", {"genome.fa": fasta(("chr1", "chr2"), chr3="N" * 4000)}, exc=ParamsError,
         where="params.yaml", words=("parameter 'dataset.chromosomes'", "chr3 (4000 bp) has no usable bin",
                                     "with more than 0.1 N", "remove chr3"), item="chr3"),
    par_case("balance-by-unknown", "folds", {"folds.balance_by": "size"}, "folds.balance_by", ("one of",)),
    par_case("n-folds-missing", "folds", {"folds.n_folds": DELETE}, "folds.n_folds", ("is missing",)),
    par_case("n-folds-above-chroms-at-folds", "folds", {"folds.n_folds": 4}, "folds.n_folds",
             ("only 3 chromosomes", "folds.n_folds <= 3")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_stops_with_file_line_fix_and_nothing_written(project, case):
    for name, content in case.files.items():
        put(project, name, content)
    p = write_params(project, case.pre)
    for stage in ORDER[:ORDER.index(case.stage)]:
        run(stage, p)
    p = write_params(project, case.over)
    before = snapshot(project)
    with pytest.raises(case.exc) as e:
        run(case.stage, p, case.item or "chr1")
    check_message(e.value, case.where, case.line, case.words)
    assert_nothing_written(before, snapshot(project))


@pytest.mark.parametrize("stage,missing,words", [
    ("peaks", "data/genome/chrom.sizes", ("does not exist", "dvc repro genome")),
    ("dataset", "data/peaks/summary.json", ("does not exist", "dvc repro peaks")),
    ("folds", "data/datasets/chr1.h5", ("dataset file missing", "dvc repro dataset@chr1")),
], ids=["peaks-before-genome", "dataset-before-peaks", "folds-before-datasets"])
def test_stage_run_before_its_inputs_names_the_stage_to_run(project, stage, missing, words):
    p = write_params(project)
    for s in ORDER[:ORDER.index(stage)]:
        if s != ORDER[ORDER.index(stage) - 1]:
            run(s, p)
    before = snapshot(project)
    with pytest.raises(InputError) as e:
        run(stage, p)
    check_message(e.value, missing, None, words)
    assert_nothing_written(before, snapshot(project))


def test_unreadable_file_is_named_with_the_fix(project, monkeypatch):
    import builtins

    from seq2acc.io import inputs

    real_open = builtins.open

    def guarded(path, *a, **kw):
        if str(path).endswith("target.bed"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **kw)

    p = write_params(project)
    run("genome", p)
    monkeypatch.setattr(inputs, "open", guarded, raising=False)  # running as root: chmod 000 would not stop us
    before = snapshot(project)
    with pytest.raises(InputError) as e:
        run("peaks", p)
    check_message(e.value, "raw/target.bed", None, ("permission denied", "chmod"))
    assert_nothing_written(before, snapshot(project))


def test_all_positives_under_n_get_one_message_naming_the_cause(project):
    """Peaks in N-masked sequence: every positive bin is left out; the data checks stop with one message saying
    why, not a failed 'positive examples exist' line per fold."""
    seqs = {n: SEQS[n] for n in SIZES}
    for c, s, _ in TARGET:
        seqs[c] = seqs[c][:s - 600] + "N" * 1200 + seqs[c][s + 600:]
    write_fasta(project / "raw/genome.fa", seqs)
    p = write_params(project, {"peaks.blacklist": None})
    for stage in ORDER[:-1]:
        run(stage, p)
    before = snapshot(project)
    with pytest.raises(DataValidationError) as e:
        run("validate", p)
    msg = str(e.value)
    assert msg.count("\n") == 1 and "no positive example" in msg and "more than dataset.max_n_fraction N" in msg
    assert "fix: raise dataset.max_n_fraction" in msg and "positive examples exist" not in msg
    assert_nothing_written(before, snapshot(project))


# ----------------------------------------------------------------------------- VCF / TSV variants
VCF_HEAD = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
REF10 = SEQS["chr1"][9]
ALT10 = "A" if REF10 != "A" else "C"
VARIANT_CASES = [
    ("tsv-not-utf8", "v.tsv", "chrom\tpos\tref\talt\tid\nchr1\t10\tA\tG\tr\xe9s\n".encode("latin-1"), 2, ("not UTF-8",)),
    ("tsv-binary", "v.tsv", b"\x00\x01\x02\x03", 1, ("binary file",)),
    ("tsv-directory", "v.tsv", DIR, None, ("variant file is a directory",)),
    ("tsv-missing", "v.tsv", DELETE, None, ("does not exist",)),
    ("tsv-utf16", "v.tsv", TSV.encode("utf-16"), None, ("UTF-16",)),
    ("vcf-gz-truncated", "v.vcf.gz", _gz_truncated(VCF_HEAD + "chr1\t10\t.\tA\tG\t.\t.\t.\n" * 300), None,
     ("truncated gzip",)),
    ("tsv-three-columns", "v.tsv", "chr1\t10\tA\n", 1, ("3 column(s)",)),
    ("tsv-pos-zero", "v.tsv", "chrom\tpos\tref\talt\nchr1\t0\tA\tG\n", 2, ("1-based",)),
    ("tsv-pos-not-int", "v.tsv", "chr1\t10.5\tA\tG\n", 1, ("not an integer",)),
    ("tsv-symbolic-allele", "v.tsv", "chr1\t10\tA\t<DEL>\n", 1, ("symbolic", "skip_unsupported")),
    ("tsv-alt-equals-ref", "v.tsv", "chr1\t10\tA\ta\n", 1, ("ALT equals REF",)),
    ("tsv-header-lacks-pos", "v.tsv", "chrom\tlocation\tref\talt\nchr1\t1\tA\tG\n", 1, ("lacks column(s) ['pos']",)),
    ("tsv-ragged", "v.tsv", "chrom\tpos\tref\talt\tid\nchr1\t10\tA\tG\n", 2, ("expected 5",)),
    ("vcf-spaces", "v.vcf", VCF_HEAD + "chr1 10 . A G . . .\n", 3, ("tab-separated",)),
    ("vcf-empty", "v.vcf", VCF_HEAD, None, ("no variants",)),
]


@pytest.mark.parametrize("name,content,line,words", [c[1:] for c in VARIANT_CASES], ids=[c[0] for c in VARIANT_CASES])
def test_bad_variant_file(project, name, content, line, words):
    from seq2acc.io.vcf import read_variants

    put(project, name, content)
    before = snapshot(project)
    with pytest.raises(InputError) as e:
        read_variants(project / "raw" / name)
    check_message(e.value, f"raw/{name}", line, words)
    assert_nothing_written(before, snapshot(project))


@pytest.mark.parametrize("text,line,words", [
    (f"chrom\tpos\tref\talt\nchr1\t10\t{REF10}\t{ALT10}\nchrX\t5\tA\tC\n", 3, ("'chrX' is not in",)),
    ("chrom\tpos\tref\talt\nchr3\t4000\tAC\tA\n", 2, ("has 4000 bases",)),
    (f"chrom\tpos\tref\talt\nchr1\t10\t{ALT10}\t{REF10}\n", 2, ("does not match the genome", f"has '{REF10}'")),
], ids=["unknown-chrom", "past-chrom-end", "ref-mismatch"])
def test_variant_against_the_genome(project, text, line, words):
    from seq2acc.io.fasta import Genome
    from seq2acc.io.vcf import check_variants, read_variants

    run("genome", write_params(project))
    put(project, "v.tsv", text)
    g = Genome("data/genome/genome.fa")
    before = snapshot(project)
    with pytest.raises(InputError) as e:
        check_variants(read_variants(project / "raw/v.tsv"), g, project / "raw/v.tsv")
    check_message(e.value, "raw/v.tsv", line, words)
    assert_nothing_written(before, snapshot(project))


# ----------------------------------------------------------------------------- inputs accepted, and said so
def test_utf8_bom_and_irregular_fasta_lines_are_accepted(project, caplog):
    caplog.set_level("INFO")
    """A UTF-8 BOM (FASTA, BED, TSV) is dropped with a warning instead of turning into 'chr1 not in the FASTA'; a
    FASTA with one short line, CRLF line ends and a blank line is re-wrapped: the genome stage's three outputs are
    complete and consistent."""
    from seq2acc.io.fasta import Genome, read_chrom_sizes
    from seq2acc.io.vcf import read_variants

    lines = FA.splitlines()
    lines[3] = lines[3][:17]                                  # one short line inside chr1
    text = "\ufeff" + "\r\n".join(lines[:10] + [""] + lines[10:]) + "\r\n"
    put(project, "genome.fa", text.encode())
    put(project, "target.bed", ("\ufeff" + BED).encode())
    p = write_params(project)
    run("genome", p)
    run("peaks", p)
    want = {**SIZES, "chr1": SIZES["chr1"] - (60 - 17)}
    assert read_chrom_sizes("data/genome/chrom.sizes") == want
    assert Genome("data/genome/genome.fa").sizes == want
    assert "byte-order mark" in caplog.text and "re-wrapped" in caplog.text
    assert (project / "data/peaks/target.bed").read_text().startswith("chr1\t")
    put(project, "v.tsv", "\ufeff" + TSV)
    assert read_variants(project / "raw/v.tsv").chrom.tolist() == ["chr1"]


def test_dropped_bins_are_counted_and_logged(project, caplog):
    seqs = {n: SEQS[n] for n in SIZES}
    seqs["chr1"] = seqs["chr1"][:1000] + "N" * 600 + seqs["chr1"][1600:]
    write_fasta(project / "raw/genome.fa", seqs)
    p = write_params(project)
    for stage in ("genome", "peaks"):
        run(stage, p)
    caplog.set_level("INFO")
    from seq2acc.data.store import read_meta
    from seq2acc.pipeline.dataset import build_dataset

    bins = read_meta(build_dataset(p, "chr1"))["bins"]
    assert bins["too_many_n"] > 0 and bins["grid"] == bins["kept"] + bins["blacklisted"] + bins["too_many_n"]
    assert f"{bins['too_many_n']} with more than 0.1 N in their context (dataset.max_n_fraction)" in caplog.text
    assert read_meta(build_dataset(p, "chr2"))["bins"]["blacklisted"] > 0


def test_truncated_fasta_is_blamed_on_the_fasta_not_the_peaks(project, caplog):
    """A FASTA cut mid-file (complete chr1-3, chr4 cut mid-line): the genome stage warns and names it; a peak past
    the cut or on a lost chromosome gets a fix that points at the FASTA, not only at the peak file."""
    put(project, "genome.fa", fasta() + ">chr4\n" + SEQS["chr4"][:2000])
    p = write_params(project)
    run("genome", p)
    assert "last line has no line end" in caplog.text and "'chr4' is incomplete" in caplog.text
    for bed, line, words in ((BED + "chr4\t2500\t2600\n", 5, ("past the end of chr4", "last sequence", "cut short")),
                             (BED + "chr5\t2500\t2600\n", 5, ("lacks these sequences", "incomplete",
                                                               "its last sequence is 'chr4'"))):
        put(project, "target.bed", bed)
        before = snapshot(project)
        with pytest.raises(InputError) as e:
            run("peaks", p)
        check_message(e.value, "raw/target.bed", line, words)
        assert_nothing_written(before, snapshot(project))


def test_seq2acc_chroms_writes_nothing_next_to_the_fasta(project, capsys):
    from seq2acc.cli import main

    fa = project / "raw/genome.fa"
    main(["chroms", str(fa), "--sizes", "--min-length", "4200"])
    assert capsys.readouterr().out.split("\n")[:2] == ["chr1\t5000", "chr2\t4500"]
    assert sorted(x.name for x in (project / "raw").iterdir()) == ["black.bed", "genome.fa", "other.bed", "target.bed"]
    put(project, "genome.fa", FA + ">chr1\nACGT\n")
    with pytest.raises(SystemExit):
        main(["chroms", str(fa)])
    err = capsys.readouterr().err
    assert f"{fa}:{FA.count(chr(10)) + 1}: duplicate sequence name 'chr1'" in err and "fix:" in err
    assert not (project / "raw/genome.fa.fai").exists()


def test_index_of_a_bad_fasta_leaves_no_fai(project):
    from seq2acc.io.fasta import Genome

    put(project, "dup.fa", ">a\nACGT\n>a\nACGT\n")
    with pytest.raises(InputError) as e:
        Genome(project / "raw/dup.fa")
    check_message(e.value, "raw/dup.fa", None, ("duplicate sequence name",))
    assert not (project / "raw/dup.fa.fai").exists()



def test_dvc_repro_reports_a_bad_chromosome_list_before_any_dataset_stage(tmp_path):
    """The one real `dvc repro`: a name missing from the FASTA stops the first stage (genome) with one message; no
    dataset stage runs and the genome stage leaves no output."""
    from conftest import dvc, make_project

    d = make_project(tmp_path / "proj", SIZES, TARGET, n_folds=3,
                     extra_params={"dataset.chromosomes": ["chr1", "chr2", "chr3", "chrZ"]})
    res = dvc(d, "repro", check=False)
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "Running stage 'genome'" in out and "Running stage 'dataset@" not in out
    assert "seq2acc error: params.yaml: parameter 'dataset.chromosomes': 1 name(s) not in data/raw/genome.fa: chrZ" in out
    assert "fix: use names from the FASTA" in out and "Traceback" not in out
    assert not (d / "data/genome").exists() or not any((d / "data/genome").iterdir())
