"""Thin DVC stage entry points: parse argv paths, read one params section, call the library."""
