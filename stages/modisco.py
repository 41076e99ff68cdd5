"""DVC stage `modisco@<fold>`: TF-MoDISco on the fold's contribution scores, TOMTOM matches to JASPAR, HTML report."""
import sys

from seq2acc.cli import stage_main
from seq2acc.pipeline.modisco import modisco_fold

if __name__ == "__main__":
    stage_main(lambda p: modisco_fold(p, int(sys.argv[1])))
