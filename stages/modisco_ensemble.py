"""DVC stage `modisco_ensemble`: TF-MoDISco on the fold ensemble's contribution scores (attribute_ensemble)."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.modisco import modisco_ensemble

if __name__ == "__main__":
    stage_main(modisco_ensemble)
