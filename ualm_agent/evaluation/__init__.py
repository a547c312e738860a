"""Objective evaluation: prompt sets with expectations, metrics, and the evaluator that grades a clip."""
