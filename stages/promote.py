"""DVC stage `promote`: move the registry alias `champion` to the best fold model if it beats the champion."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.promote import promote

if __name__ == "__main__":
    stage_main(promote)
