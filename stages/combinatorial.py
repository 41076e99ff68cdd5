"""DVC stage `combinatorial`: motif scrambling (single sites, pairs) and DFIM on the top motifs, with controls."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.combinatorial import combinatorial

if __name__ == "__main__":
    stage_main(combinatorial)
