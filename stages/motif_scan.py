"""DVC stage `motif_scan@<fold>`: JASPAR PWM scan of fold K's sequences and contribution scores."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.motif_scan import motif_scan_fold

if __name__ == "__main__":
    run_stage(motif_scan_fold, int)
