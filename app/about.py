"""Help ▸ About: what Wordbridge is, its version, and the honesty notes the README states."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

HONESTY_NOTES = [
    "The bundled demo's speech is <b>synthetic</b> (espeak-ng, 24 voices), not recorded from people; "
    "projects with synthetic speech show a banner saying so.",
    "Speech2Vec, the paper's speech learner, did not reproduce its semantic claims in later work "
    "(Chen, ICASSP 2023); Wordbridge implements it faithfully and a second learner, and reports both "
    "(docs/RESULTS.md).",
    "The demo's maps are learned without supervision; a map that fell back to a supervised dictionary "
    "is labelled as such.",
    "Scores are similarities (cosine or CSLS), not probabilities: a high score is not a guarantee.",
]


def about_text() -> str:
    """The About box's rich text: purpose, paper, version and honesty notes."""
    from core import __version__

    notes = "".join(f"<li>{note}</li>" for note in HONESTY_NOTES)
    return (f"<h3>Wordbridge {__version__}</h3>"
            "<p>Say a word and see which written word, or which word of another language, it is, without "
            "parallel data: a space of spoken words and a space of written words lined up by an unsupervised "
            "linear map (Chung, Weng, Tong &amp; Glass, NeurIPS 2018).</p>"
            f"<p><b>Honesty notes</b></p><ul>{notes}</ul>")


def show_about(parent) -> QMessageBox:
    """Show the About box (not modal, so tests and scripts can inspect and close it)."""
    box = QMessageBox(QMessageBox.Information, "About Wordbridge", about_text(), QMessageBox.Ok, parent)
    box.setModal(False)
    box.show()
    return box
