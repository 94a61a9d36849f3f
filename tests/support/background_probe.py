"""Imported by tests/test_cli.py to see a background import happen."""
