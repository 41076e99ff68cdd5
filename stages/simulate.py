"""DVC stage `simulate` (simulation benchmark projects only): simulated genome, peaks, truth and SNVs."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.simulation import simulate_stage

if __name__ == "__main__":
    stage_main(simulate_stage)
