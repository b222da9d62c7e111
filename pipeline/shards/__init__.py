"""Webdataset shards: atomic writing with a manifest, and streaming reading with OpenCV decoders.

A sample is a dict `{"__key__": str, "<field>.<ext>": value}`. The extension picks the codec both ways:
`.png`/`.jpg` images (OpenCV), `.npy` arrays (`np.save`, no pickle), `.json` metadata. Keys must not contain dots:
webdataset splits a member name at the first dot of its basename into key and field.
"""

from pipeline.shards.codecs import decode_field, decode_npy, decode_sample, encode_field, encode_sample
from pipeline.shards.reader import iterate_split, open_shards, read_manifest, split_urls
from pipeline.shards.writer import MANIFEST, SHARD_PATTERN, ShardSet, SplitWriter, sha256_file

__all__ = ["MANIFEST", "SHARD_PATTERN", "ShardSet", "SplitWriter", "decode_field", "decode_npy", "decode_sample",
           "encode_field", "encode_sample", "iterate_split", "open_shards", "read_manifest", "sha256_file",
           "split_urls"]
