"""DVC stage `variants`: ref/alt predictions, shuffled-background p-values and contribution changes of a VCF/TSV."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.variants import score_variants

if __name__ == "__main__":
    stage_main(score_variants)
