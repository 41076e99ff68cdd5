"""Interpretation (protocol 3.4): attribution and its shuffled null, motifs and PWM scanning, TF-MoDISco, combinatorial logic, variant effects."""
