"""DNA as arrays: integer codes, one-hot encoding, reverse complement, dinucleotide-preserving shuffles."""
