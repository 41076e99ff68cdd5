"""MLOps: MLflow tracking and store, lineage (git, dvc.lock), model registry, model cards, the MLflow UI, CI retraining."""
