"""DVC stage `dataset@<chrom>`: bins, labels and sampled examples of one chromosome -> data/datasets/<chrom>.h5."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.dataset import build_dataset

if __name__ == "__main__":
    run_stage(build_dataset, str)
