"""gongwen — paperless official-document exchange platform (电子公文无纸化传输平台)."""

__version__ = "0.1.0"
