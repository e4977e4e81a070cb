"""Sealing and verification of PDF documents (pure core: no Django)."""
