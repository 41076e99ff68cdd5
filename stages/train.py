"""DVC stage `train@<fold>`: train, track (MLflow) and register one fold's model -> models/fold<K>/."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.train import train_fold

if __name__ == "__main__":
    run_stage(train_fold, int)
