"""Dataset-scope filters: dedup (one example per task), later near-duplicates and decontamination."""
