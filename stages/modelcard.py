"""DVC stage `modelcard`: one model card per registered model version -> reports/modelcards/."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.modelcard import model_cards

if __name__ == "__main__":
    run_stage(model_cards)
