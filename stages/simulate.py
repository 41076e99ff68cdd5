"""DVC stage `simulate`: (simulation projects) the simulated genome, peaks and truth."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.simulate import simulate_stage

if __name__ == "__main__":
    run_stage(simulate_stage)
