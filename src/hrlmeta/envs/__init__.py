"""Environments: task samplers and vectorised simulators."""
