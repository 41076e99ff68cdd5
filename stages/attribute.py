"""DVC stage `attribute@<fold>`: contribution scores, shuffled null and p-values of the fold's sequences of interest."""
import sys

from seq2acc.cli import stage_main
from seq2acc.pipeline.attribute import attribute_fold

if __name__ == "__main__":
    stage_main(lambda p: attribute_fold(p, int(sys.argv[1])))
