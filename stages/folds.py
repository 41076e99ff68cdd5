"""DVC stage `folds`: greedy chromosome folds -> data/folds.json."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.folds import build_folds

if __name__ == "__main__":
    run_stage(build_folds)
