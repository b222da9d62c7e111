"""Task adapters for the shared training loop: batches, predictions, renderer losses, discriminator inputs."""
