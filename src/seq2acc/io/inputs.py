"""Reading a user's input file line by line (plain text, gzip or bgzip), with every OS, decoding and compression
error turned into an :class:`~seq2acc.errors.InputError` that names the file, the cause and the fix.

Every io-level reader (FASTA, BED/narrowPeak, VCF/TSV, chrom.sizes) opens its file through :func:`read_lines`:
a directory, an unreadable file, a truncated or corrupt gzip stream, a binary or non-UTF-8 file, UTF-16 text,
old-Mac (CR-only) line ends or another compression format each get one message instead of a traceback. A UTF-8
byte-order mark (BOM) at the start of the file is removed (with a warning): it would otherwise become part of the
first chromosome name.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import zlib
from pathlib import Path
from typing import Iterator

from seq2acc.errors import InputError

log = logging.getLogger(__name__)

UTF8_BOM = b"\xef\xbb\xbf"

_OTHER_FORMATS = (  # magic bytes -> (what it is, how to get plain text or gzip)
    (b"BZh", "bzip2-compressed", "decompress it (`bunzip2 FILE`) or recompress it with gzip/bgzip"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it (`unxz FILE`) or recompress it with gzip/bgzip"),
    (b"(\xb5/\xfd", "zstd-compressed", "decompress it (`zstd -d FILE`) or recompress it with gzip/bgzip"),
    (b"PK\x03\x04", "a ZIP archive", "unzip it and give the file inside"),
)
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_BINARY_FIX = ("give a text file; a binary format (BAM, bigWig, bigBed, 2bit, ...) must be converted first "
               "(e.g. `bedtools bamtobed`, `bigBedToBed`, `twoBitToFa`)")


def os_error(path, e: OSError, what: str) -> InputError:
    """The :class:`InputError` for an OS error on reading ``path`` (``what`` says what the file is)."""
    if isinstance(e, FileNotFoundError):
        return InputError(path, f"{what} does not exist", "check the path in params.yaml")
    if isinstance(e, IsADirectoryError):
        return InputError(path, f"{what} is a directory, not a file", "give the path of a file (e.g. one inside it)")
    if isinstance(e, PermissionError):
        return InputError(path, f"{what} cannot be read: permission denied",
                          "make it readable (`chmod a+r FILE`) or copy it to a folder you can read")
    if isinstance(e, gzip.BadGzipFile):
        return InputError(path, f"{what} is not valid gzip data ({e})",
                          "the file is damaged: download or compress it again (`gzip -t FILE` checks a file)")
    return InputError(path, f"{what} cannot be read: {e.strerror or e}", "check the file and its disk")


def _sniff(path: Path, what: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError as e:
        raise os_error(path, e, what) from None


def is_gzip(path, what: str = "file") -> bool:
    """Whether ``path`` starts with the gzip magic bytes (gzip and bgzip); OS errors become InputError."""
    return _sniff(Path(path), what)[:2] == b"\x1f\x8b"


@contextlib.contextmanager
def read_lines(path, what: str = "file", *, binary: bool = False) -> Iterator[Iterator]:
    """Open ``path`` (plain, gzip or bgzip: detected from its first bytes) and yield an iterator over its lines.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is ("target peak file", "FASTA", ...), for the messages.
    binary : bool, default False
        Yield ``bytes`` lines instead of ``str`` (decoded as UTF-8, strictly). Line ends are kept either way.

    Yields
    ------
    lines : iterator of str or bytes
        The lines, the first one without a UTF-8 BOM.

    Raises
    ------
    seq2acc.errors.InputError
        The file is missing, a directory, unreadable, compressed with something other than gzip, a truncated or
        corrupt gzip stream, UTF-16, binary (NUL bytes), not UTF-8 (text mode) or uses CR-only line ends. The
        message names the file, the line (where there is one), the cause and the fix.
    """
    path = Path(path)
    head = _sniff(path, what)
    for magic, kind, fix in _OTHER_FORMATS:
        if head.startswith(magic):
            raise InputError(path, f"{what} is {kind}; only plain text and gzip/bgzip are read", fix)
    if head.startswith(_UTF16):
        raise InputError(path, f"{what} is UTF-16 text (it starts with a UTF-16 byte-order mark)",
                         "save it as plain ASCII/UTF-8 text, e.g. `iconv -f UTF-16 -t UTF-8 FILE > FILE.txt`")
    gz = head[:2] == b"\x1f\x8b"
    try:
        fh = gzip.open(path, "rb") if gz else open(path, "rb")
    except OSError as e:
        raise os_error(path, e, what) from None
    with fh:
        yield _lines(fh, path, what, binary, gz)


def _lines(fh, path: Path, what: str, binary: bool, gz: bool):
    lineno = 0
    it = iter(fh)
    while True:
        try:
            raw = next(it)
        except StopIteration:
            return
        except EOFError:
            raise InputError(path, f"{what} is a truncated gzip file: the compressed data ends before its end "
                             f"marker ({f'after line {lineno}' if lineno else 'before the first line'})",
                             "the file is incomplete (interrupted download or copy): fetch or compress it again "
                             "(`gzip -t FILE` checks a file)") from None
        except (zlib.error, gzip.BadGzipFile) as e:
            raise InputError(path, f"{what} has corrupt gzip data {f'after line {lineno}' if lineno else 'at its start'} ({e})",
                             "the file is damaged: fetch or compress it again (`gzip -t FILE` checks a file)") from None
        except OSError as e:
            raise os_error(path, e, what) from None
        lineno += 1
        if lineno == 1:
            if raw.startswith(UTF8_BOM):
                log.warning("%s: starts with a UTF-8 byte-order mark (BOM); ignored", path)
                raw = raw[len(UTF8_BOM):]
            if b"\r" in raw.rstrip(b"\r\n"):
                raise InputError(path, f"{what} uses CR-only (old Mac) line ends: the whole file reads as one line",
                                 "convert the line ends, e.g. `tr '\\r' '\\n' < FILE > FILE.unix`", 1)
        if b"\x00" in raw:
            raise InputError(path, f"{what} looks like a binary file, not text (NUL bytes on line {lineno})"
                             + (" although it is gzip-compressed" if gz else ""), _BINARY_FIX, lineno)
        if binary:
            yield raw
            continue
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(path, f"{what} is not UTF-8 text: byte {raw[e.start]:#04x} at column {e.start + 1}",
                             "save the file as plain ASCII/UTF-8 text (e.g. `iconv -f latin1 -t utf-8 FILE`) or remove "
                             "the non-ASCII characters; a binary file must be converted to text first",
                             lineno, raw.decode("utf-8", errors="replace")) from None


def read_text(path, what: str = "file") -> str:
    """The whole text of a (small) file through :func:`read_lines`."""
    with read_lines(path, what) as lines:
        return "".join(lines)
