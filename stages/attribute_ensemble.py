"""DVC stage `attribute_ensemble`: the fold ensemble of the attribution sets."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.attribute_ensemble import attribute_ensemble

if __name__ == "__main__":
    run_stage(attribute_ensemble)
