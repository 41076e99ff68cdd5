"""DVC stage `cv_summary`: per-fold and pooled genome-wide metrics, CNN next to the baselines."""
from seq2acc.cli import stage_main
from seq2acc.pipeline.cv_summary import cv_summary

if __name__ == "__main__":
    stage_main(cv_summary)
