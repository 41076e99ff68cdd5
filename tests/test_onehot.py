import numpy as np
from hypothesis import given, strategies as st

from seq2acc.seq.encoding import decode, onehot, reverse_complement


def test_alphabetical_order_protocol_note_9():
    x = onehot("ACGT")
    assert x.tolist() == np.eye(4).tolist()


def test_lowercase_equals_uppercase_and_n_iupac_are_zero_rows():
    assert (onehot("acgt") == onehot("ACGT")).all()
    x = onehot("NRYKMSWBDHVn-")
    assert x.shape == (13, 4) and x.sum() == 0


@given(st.text(alphabet="ACGTN", min_size=1, max_size=200))
def test_decode_roundtrip_and_rc_involution(s):
    x = onehot(s)
    assert decode(x) == s
    assert (reverse_complement(reverse_complement(x)) == x).all()
    comp = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N"}
    assert decode(reverse_complement(x)) == "".join(comp[b] for b in reversed(s))
