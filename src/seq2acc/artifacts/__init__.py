"""The pipeline's own file formats: fold model directories, scores.h5, contrib.h5 and result tables (read + write)."""
