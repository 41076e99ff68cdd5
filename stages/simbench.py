"""DVC stage `simbench` (simulation benchmark projects only): score the pipeline's outputs against the truth."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.simulation import simbench_stage

if __name__ == "__main__":
    stage_main(simbench_stage)
