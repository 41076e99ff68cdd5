"""DVC stage `dataset@<chrom>`: bins, labels and sampled examples of one chromosome -> HDF5."""
import sys

from seq2acc.cli import stage_main
from seq2acc.pipeline.data import build_dataset

if __name__ == "__main__":
    stage_main(lambda p: build_dataset(p, sys.argv[1]))
