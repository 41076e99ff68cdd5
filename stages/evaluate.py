"""DVC stage `evaluate@<fold>`: score every genome-wide bin of the fold's test chromosomes (CNN + baselines)."""
import sys

from seq2acc.cli import stage_main
from seq2acc.pipeline.evaluate import evaluate_fold

if __name__ == "__main__":
    stage_main(lambda p: evaluate_fold(p, int(sys.argv[1])))
