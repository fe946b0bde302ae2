"""The layer: its supported runtimes, its reproducible build, and its proof in the emulator."""
