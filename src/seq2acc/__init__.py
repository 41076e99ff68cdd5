"""seq2acc: DNA sequence -> binarized accessibility, versioned with DVC, tracked with MLflow."""

__version__ = "0.1.0"
