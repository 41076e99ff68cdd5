"""File formats in and out: FASTA, BED/narrowPeak, VCF/TSV variants, bigWig/bedGraph, MEME; atomic writes; line-precise input errors."""
