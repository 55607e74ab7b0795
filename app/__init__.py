"""Wordbridge desktop app (PySide6 + pyqtgraph): presents and orchestrates what core computes."""
