"""Models: the architecture zoo, fitting one fold, the one predict primitive, loading saved models, distribution strategies."""
