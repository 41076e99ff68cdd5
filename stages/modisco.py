"""DVC stage `modisco@<fold>`: TF-MoDISco on fold K's contribution scores -> modisco/folds/fold<K>/."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.modisco import modisco_fold

if __name__ == "__main__":
    run_stage(modisco_fold, int)
