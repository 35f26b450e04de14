"""Sanji (三级): the software of a city's three-level public service network."""

__version__ = "0.1.0"
