"""DVC stage `attribute@<fold>`: contribution scores + shuffled null of fold K's held-out positives."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.attribute import attribute_fold

if __name__ == "__main__":
    run_stage(attribute_fold, int)
