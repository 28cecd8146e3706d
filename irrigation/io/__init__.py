"""Readers and writers of external formats. The science modules never import this package."""
