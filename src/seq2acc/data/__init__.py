"""Training data of the protocol (3.1-3.2.1): bins and labels, the per-chromosome HDF5 store, chromosome folds, the one training input loader, great-expectations checks."""
