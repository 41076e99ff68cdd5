"""DVC stage `folds`: greedy chromosome folds (protocol note 13) + per-bucket counts as metrics."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.data import build_folds

if __name__ == "__main__":
    stage_main(build_folds)
