"""DVC stage `train@<fold>`: train, track (MLflow) and register one fold's model -> models/fold<K>/."""
import sys

from seq2acc.cli import stage_main
from seq2acc.pipeline.train import train_fold

if __name__ == "__main__":
    stage_main(lambda p: train_fold(p, int(sys.argv[1])))
