"""DVC stage `motif_scan@<fold>`: JASPAR PWM scan (Conv1D) of sequences and contribution scores, enrichment."""
import sys

from seq2acc.cli import stage_main
from seq2acc.pipeline.motif_scan import motif_scan_fold

if __name__ == "__main__":
    stage_main(lambda p: motif_scan_fold(p, int(sys.argv[1])))
