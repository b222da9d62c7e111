"""AIGN pipeline library: readers, synthetic stand-ins, shards, geometry, renderers and models.

The library never reads params.yaml or argv; stages/ does that and calls in here.
"""
