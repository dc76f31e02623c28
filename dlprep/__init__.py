"""dlprep: deep-learning interview preparation in the terminal."""

__version__ = "0.1.0"
