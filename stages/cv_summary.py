"""DVC stage `cv_summary`: per-fold table and pooled held-out metrics -> metrics/summary.*."""
from seq2acc.pipeline import run_stage
from seq2acc.pipeline.cv_summary import cv_summary

if __name__ == "__main__":
    run_stage(cv_summary)
