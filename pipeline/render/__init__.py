"""Renderers: parameter-free maps from latent factors back to observations."""
