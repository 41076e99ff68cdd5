"""DVC stage `peaks`: read, check, widen and merge the target / elsewhere / blacklist interval files."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.data import prepare_peaks

if __name__ == "__main__":
    stage_main(prepare_peaks)
