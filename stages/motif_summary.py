"""DVC stage `motif_summary`: motif enrichment pooled over folds -> motifs/summary.*."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.motif_summary import motif_summary

if __name__ == "__main__":
    run_stage(motif_summary)
