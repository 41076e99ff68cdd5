"""DVC stage `evaluate@<fold>`: fold K's model and the baselines on every bin of its test chromosomes."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.evaluate import evaluate_fold

if __name__ == "__main__":
    run_stage(evaluate_fold, int)
