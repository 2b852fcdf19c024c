"""Evaluation of code models and harnesses (HumanEval, pass@k), on top of the sandbox."""
