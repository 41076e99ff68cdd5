"""DVC stage `simbench`: (simulation projects) the benchmark table against the planted truth."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.simbench import simbench_stage

if __name__ == "__main__":
    run_stage(simbench_stage)
