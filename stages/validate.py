"""DVC stage `validate`: great-expectations data checks that must pass before training reads the data."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.validate import validate

if __name__ == "__main__":
    stage_main(validate)
