"""Chromosome naming conventions (``chr1`` / ``1`` / ``chrI`` / ``I`` ...) and rename suggestions for mismatched files."""

from __future__ import annotations



_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11,
          "XII": 12, "XIII": 13, "XIV": 14, "XV": 15, "XVI": 16, "XVII": 17, "XVIII": 18, "XIX": 19, "XX": 20,
          "XXI": 21, "XXII": 22}


def naming_convention(names) -> str:
    """Describe a set of chromosome names: 'chr1-style', 'chrI-style (roman)', '1-style (no prefix)', ..."""
    names = list(names)
    if not names:
        return "no names"
    kinds = []
    for n in names:
        core = n[3:] if n.lower().startswith("chr") else n
        prefix = "chr" if n.lower().startswith("chr") else ""
        if core.isdigit():
            kinds.append(f"'{prefix}1'-style (arabic numbers{', chr prefix' if prefix else ', no chr prefix'})")
        elif core.upper() in _ROMAN:
            kinds.append(f"'{prefix}I'-style (roman numerals{', chr prefix' if prefix else ', no chr prefix'})")
        else:
            kinds.append(f"other ('{n}'-like)")
    most = max(set(kinds), key=kinds.count)
    return most


def suggest_rename(missing, available) -> str:
    """Map names of one convention onto another when they differ only by prefix/numerals."""
    def key(n):
        core = n[3:] if n.lower().startswith("chr") else n
        if core.upper() in _ROMAN:
            return str(_ROMAN[core.upper()])
        return core.upper().lstrip("0") or core
    by_key = {key(a): a for a in available}
    pairs = [(m, by_key[key(m)]) for m in missing if key(m) in by_key]
    if not pairs:
        return ""
    shown = ", ".join(f"{a} -> {b}" for a, b in pairs[:4])
    return f"rename ({shown}{', ...' if len(pairs) > 4 else ''}), e.g. with `sed` or a chromosome alias table"
