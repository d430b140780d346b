"""vault: privacy redaction for document collections, built on speculative decoding."""

__version__ = "0.1.0"
