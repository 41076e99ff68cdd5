"""DVC stage `modisco_ensemble`: TF-MoDISco on the fold ensemble -> modisco/ensemble/."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.modisco_ensemble import modisco_ensemble

if __name__ == "__main__":
    run_stage(modisco_ensemble)
