"""DVC stage `genome`: the reference genome -> data/genome/{genome.fa, .fai, chrom.sizes}."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.genome import prepare_genome

if __name__ == "__main__":
    run_stage(prepare_genome)
