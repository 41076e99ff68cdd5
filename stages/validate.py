"""DVC stage `validate`: great-expectations checks of the datasets and folds -> data/validation/."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.validate import validate

if __name__ == "__main__":
    run_stage(validate)
