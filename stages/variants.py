"""DVC stage `variants`: variant effects of a VCF/TSV with every fold model -> variants/."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.variants import score_variants

if __name__ == "__main__":
    run_stage(score_variants)
