"""Genome-wide evaluation (protocol 3.3): streaming scorers, baselines (PWM, k-mer), metrics and curves."""
