"""Preparation of raw datasets (real or synthetic) into webdataset shards."""
