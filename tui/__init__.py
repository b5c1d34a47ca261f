"""Routebook: write an LLM routing policy and see its consequences per segment."""

__version__ = "0.1.0"
