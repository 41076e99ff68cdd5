"""DVC stage `promote`: move the registry alias `champion` to the best fold model -> reports/train.json."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.promote import promote

if __name__ == "__main__":
    run_stage(promote)
