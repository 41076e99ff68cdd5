"""DVC stage `motif_summary`: motif enrichment pooled over folds."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.motif_scan import motif_summary

if __name__ == "__main__":
    stage_main(motif_summary)
