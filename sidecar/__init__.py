"""mug-sidecar: keeps a Discourse forum in line with the Mitel User Group's privacy policy."""

__version__ = "0.1.0"
