"""Structural mining: real functions of a corpus become tasks whose reference is the real function."""
