"""Stage bodies: each function reads params, calls the library and writes one stage's outputs."""
