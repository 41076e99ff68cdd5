"""DVC stages: one module per stage of dvc.yaml, named exactly like it; the only layer that reads params.yaml."""
