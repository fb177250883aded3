"""newsletter: assemble and mail The UN-Business Focal Point."""

__version__ = "0.1.0"
