"""DVC stage `attribute_ensemble`: fold models' contribution scores combined into one TF-MoDISco input."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.attribute import attribute_ensemble

if __name__ == "__main__":
    stage_main(attribute_ensemble)
