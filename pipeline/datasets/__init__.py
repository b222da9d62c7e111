"""Readers of the real on-disk dataset formats. They iterate lazily and raise `DataError` on bad input."""
