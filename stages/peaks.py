"""DVC stage `peaks`: checked, widened, merged target / elsewhere / blacklist peaks -> data/peaks/."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.peaks import prepare_peaks

if __name__ == "__main__":
    run_stage(prepare_peaks)
