"""One-hot encoding on the fly: A,C,G,T in alphabetical order (protocol note 9); N/IUPAC -> all-zero rows."""

from __future__ import annotations

import numpy as np

ALPHABET = "ACGT"
_CODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(ALPHABET):
    _CODE[ord(_b)] = _i
    _CODE[ord(_b.lower())] = _i


def encode(seq: str | bytes) -> np.ndarray:
    """Sequence -> uint8 codes (A0 C1 G2 T3, other 4); lower case is upper case."""
    if isinstance(seq, str):
        seq = seq.encode("ascii", errors="replace")
    return _CODE[np.frombuffer(seq, dtype=np.uint8)]


# Lookup table: code (0..4) -> one-hot row; code 4 (N and other IUPAC) -> zeros.
_TABLE = np.concatenate([np.eye(4, dtype=np.float32), np.zeros((1, 4), dtype=np.float32)])


def onehot_codes(codes: np.ndarray, dtype=np.float32) -> np.ndarray:
    """uint8 codes (..., L) -> one-hot (..., L, 4)."""
    return _TABLE.astype(dtype, copy=False)[codes]


def onehot(seq: str, dtype=np.float32) -> np.ndarray:
    """DNA string -> (L, 4) one-hot; lower case equals upper case; N and IUPAC codes are all-zero."""
    return onehot_codes(encode(seq), dtype)


def decode(x: np.ndarray) -> str:
    """(L, 4) one-hot -> string ('N' for all-zero rows)."""
    x = np.asarray(x)
    out = np.array(list(ALPHABET))[x.argmax(-1)]
    out[x.sum(-1) == 0] = "N"
    return "".join(out.tolist())


_RC_CODE = np.array([3, 2, 1, 0, 4], dtype=np.uint8)


def decode_codes(codes: np.ndarray) -> str:
    """uint8 codes (L,) -> string (A C G T, N for code 4)."""
    return np.frombuffer(b"ACGTN", dtype=np.uint8)[np.asarray(codes)].tobytes().decode("ascii")


def revcomp_codes(codes: np.ndarray) -> np.ndarray:
    """Reverse complement of uint8 codes (L,): reversed, A<->T and C<->G, N stays N."""
    return _RC_CODE[np.asarray(codes)[::-1]]


def reverse_complement(x: np.ndarray) -> np.ndarray:
    """Reverse complement of one-hot (..., L, 4) in ACGT order: flip length and channel axes."""
    return x[..., ::-1, ::-1]
