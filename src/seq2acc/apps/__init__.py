"""Applications of a trained project: what a user runs on their own sequences, regions and variants."""
