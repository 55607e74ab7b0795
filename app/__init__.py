"""The Wordbridge desktop app (PySide6 + pyqtgraph): presents and orchestrates; core/ computes."""
