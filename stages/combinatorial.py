"""DVC stage `combinatorial`: motif scrambling and DFIM on the top motifs -> combinatorial/."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.combinatorial import combinatorial

if __name__ == "__main__":
    run_stage(combinatorial)
