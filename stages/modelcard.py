"""DVC stage `modelcard`: a model card (markdown + self-contained HTML) per registered model version."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.modelcard import model_cards

if __name__ == "__main__":
    stage_main(model_cards)
