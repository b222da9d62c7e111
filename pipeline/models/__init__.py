"""Generators and discriminators, one module per task."""
