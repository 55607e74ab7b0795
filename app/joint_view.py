"""The joint space: cached UMAP/PCA layout of speech types and text words, with the live clip.

Layouts come from the project's cache (core.projection.compute_joint_projection, run here only in
a background worker with progress and Cancel); the current clip is placed from its nearest
neighbours' cached coordinates, never by re-running UMAP.
"""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from app.chunked_draw import ChunkedDraw
from app.neighbour_list import NeighbourList
from app.progress_panel import ProgressPanel
from app.workers import Worker
from core import projection as proj

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
SYMBOLS = {"speech": "o", "text": "t"}
DRAW_CHUNK = 2000  # points added to the plot per event-loop turn (about 15 ms each on a 2-core CPU)


def match_rows(cached, points):
    """(rows, their vectors, transforms, number of missing rows) of a cached layout matched to the
    current spaces' points; run in the loading worker (20,000 look-ups)."""
    lookup = {}
    for sid, words in points.groups:
        for w in words:
            lookup[(sid, w)] = len(lookup)
    rows = [(g.space, w) for g in cached.groups for w in g.words]
    missing = sum(1 for r in rows if r not in lookup)
    if missing:
        return rows, None, points.transforms, missing
    return rows, points.vectors[[lookup[r] for r in rows]], points.transforms, 0


class JointSpaceView(QWidget):
    """Scatter + controls + neighbour list; follows a ProjectSession."""

    loaded = Signal()  # a layout was drawn

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.method_box = QComboBox()
        self.method_box.addItems(["umap", "pca"])
        self.stage_box = QComboBox()
        self.stage_box.addItems(["after alignment", "before alignment"])
        self.search = QLineEdit(placeholderText="regex search…")
        buttons = {name: QPushButton(name) for name in ("Isolate", "Clear", "Recompute", "PNG…", "CSV…")}
        self.buttons = buttons
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.legend = self.plot.addLegend(offset=(5, 5))
        self.neighbours = NeighbourList()
        self.progress = ProgressPanel()
        controls = QHBoxLayout()
        for w in (self.method_box, self.stage_box, self.search):
            controls.addWidget(w)
        for b in buttons.values():
            controls.addWidget(b)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.plot)
        split.addWidget(self.neighbours)
        split.setSizes([700, 260])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.info)
        layout.addWidget(split, 1)
        layout.addWidget(self.progress)
        self.method_box.currentTextChanged.connect(lambda _t: self.load())
        self.stage_box.currentTextChanged.connect(lambda _t: self.load())
        self.search.returnPressed.connect(self.apply_search)
        buttons["Isolate"].clicked.connect(self.isolate)
        buttons["Clear"].clicked.connect(self.clear_selection)
        buttons["Recompute"].clicked.connect(self.recompute)
        buttons["PNG…"].clicked.connect(lambda: self.export_png())
        buttons["CSV…"].clicked.connect(lambda: self.export_csv())
        self.neighbours.row_activated.connect(self.select_row)
        for widget, tip in ((self.method_box, "Layout method of the cached joint map"),
                            (self.stage_box, "The spaces as they were before or after alignment"),
                            (self.search, "Regular expression: press Enter to select matching words"),
                            (buttons["Isolate"], "Show only the selected points"),
                            (buttons["Clear"], "Clear the selection and show every point"),
                            (buttons["Recompute"], "Compute this layout again in the background (Cancel stops it)"),
                            (buttons["PNG…"], "Save the plot as a PNG image"),
                            (buttons["CSV…"], "Save the coordinates of the points shown as CSV")):
            widget.setToolTip(tip)
        self.apply_palette()
        self._overlay = pg.ScatterPlotItem(size=16, pen=pg.mkPen("#000", width=2), brush=None, symbol="o")
        self._clip_item = pg.ScatterPlotItem(size=22, symbol="star", brush=pg.mkBrush("#ffd600"),
                                             pen=pg.mkPen("#000"), name="current clip")
        self._clip_lines = pg.PlotDataItem(pen=pg.mkPen("#888", width=1, style=Qt.DashLine), connect="pairs")
        self.coords = np.zeros((0, 2), np.float32)
        self.vectors = np.zeros((0, 1), np.float32)
        self.rows: list[tuple[str, str]] = []  # (space id, word) per row
        self.transforms: dict = {}  # space id → raw vectors to rows like self.vectors (JointPoints)
        self.visible = np.zeros(0, bool)
        self.selection: set[int] = set()
        self.clip_position: np.ndarray | None = None
        self.mapping_id: str | None = None
        self._fresh_view = False
        self._drawing = ChunkedDraw(self._add_points, self._finish_drawing, parent=self)
        self._load_generation = 0
        self._loader: Worker | None = None
        self.worker: Worker | None = None
        session.project_changed.connect(self._project_changed)
        session.mapping_changed.connect(self.load)
        session.classified.connect(self.show_clip)

    def apply_palette(self) -> None:
        """Plot background, axes and text follow the widget palette (dark themes included)."""
        palette = self.palette()
        background, foreground = palette.color(QPalette.Base), palette.color(QPalette.Text)
        self.plot.setBackground(background)
        for name in ("left", "bottom"):
            axis = self.plot.getPlotItem().getAxis(name)
            axis.setPen(foreground)
            axis.setTextPen(foreground)
        self.legend.setLabelTextColor(foreground)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.type() == QEvent.PaletteChange:
            self.apply_palette()
        super().changeEvent(event)

    # loading
    @property
    def aligned(self) -> bool:
        return self.stage_box.currentIndex() == 0

    def _project_changed(self, project) -> None:
        """Start on a layout that is cached, UMAP first (without loading twice)."""
        if project is not None:
            cached = {p.id for p in project.manifest.projections}
            for method in ("umap", "pca"):
                if proj.projection_id(method, True) in cached:
                    self.method_box.blockSignals(True)
                    self.method_box.setCurrentText(method)
                    self.method_box.blockSignals(False)
                    break
        self.load()

    def load(self) -> None:
        """Show the cached layout for the chosen method and stage (or say how to make one)."""
        self._load_generation += 1  # a load still running for the previous choice is ignored
        self._drawing.cancel()
        self.plot.clear()
        self.legend.clear()
        self.neighbours.clear()
        self.coords, self.rows, self.selection, self.clip_position = np.zeros((0, 2), np.float32), [], set(), None
        project = self.session.project
        if project is None:
            self.info.setText("No project open.")
            return
        method = self.method_box.currentText()
        pid = proj.projection_id(method, self.aligned)
        if pid not in {p.id for p in project.manifest.projections}:
            self.info.setText(f"No cached {method.upper()} layout {'after' if self.aligned else 'before'} "
                              "alignment yet: click Recompute (runs in the background).")
            return
        self.info.setText(f"Loading the {method.upper()} layout…")
        aligned = self.aligned
        self._load_generation += 1
        generation = self._load_generation

        def gather(progress=None):  # off the GUI thread: reading arrays may import torch (slow)
            cached = project.projection(pid)
            return cached, match_rows(cached, proj.joint_points(project, cached.entry.mapping, aligned, max_points=0))

        worker = Worker(gather, parent=self)
        worker.finished.connect(lambda res: generation == self._load_generation and self._populate(*res))
        worker.failed.connect(lambda m: generation == self._load_generation and self.info.setText(m))
        self._loader = worker
        worker.start()

    def _populate(self, cached, matched) -> None:
        rows, vectors, transforms, missing = matched
        if missing:
            self.info.setText(f"The cached layout is out of date ({missing} points no longer exist): Recompute.")
            return
        self.rows = rows
        self.vectors = vectors
        self.transforms = transforms
        self.mapping_id = cached.entry.mapping
        self.coords = cached.coords
        self.visible = np.ones(len(self.rows), bool)
        self._describe(cached)
        # A zoom in the previous layout turned auto-range off; the new coordinates need a fresh view.
        self._fresh_view = True
        self.redraw()

    def _finish_drawing(self) -> None:
        """All points are drawn: fit the view (after a new layout), place the clip, say so."""
        self._draw_selection()
        if self._fresh_view:
            self._fresh_view = False
            self.plot.getPlotItem().enableAutoRange()
            self.plot.getPlotItem().autoRange()
            if self.session.latest is not None:
                self.show_clip(self.session.latest)
            self.loaded.emit()

    def _describe(self, cached) -> None:
        e = cached.entry
        parts = [f"{e.method.upper()} of {e.n_points} points, {e.alignment} alignment"]
        if e.explained_variance:
            parts.append("PC1 {:.1f}%, PC2 {:.1f}% of variance".format(*[100 * v for v in e.explained_variance[:2]]))
        if e.params.get("sampled"):
            parts.append(f"⚠ sampled down from {e.params.get('total_points')} points (most frequent words kept)")
        if self.is_stale():
            parts.append("⚠ stale: drawn with a map that has since been replaced (Align, Refine or Revert) — "
                         "click Recompute")
        self.info.setText(" · ".join(parts))

    def is_stale(self) -> bool:
        """True when the layout shown was drawn with a map that has since been replaced."""
        from core.mapping_history import stale_layouts

        project = self.session.project
        return project is not None and proj.projection_id(self.method_box.currentText(), self.aligned) \
            in stale_layouts(project)

    def redraw(self) -> None:
        """Draw one scatter item per space (symbol by modality, colour by space), visible rows only.

        The items are created empty and filled DRAW_CHUNK points per event-loop turn (app.chunked_draw):
        20,000 points at once kept the window frozen about 200 ms."""
        self._drawing.cancel()
        self.plot.clear()
        self.legend.clear()
        entries = {s.id: s for s in self.session.project.manifest.spaces}
        spaces = list(dict.fromkeys(sid for sid, _ in self.rows))
        index = {sid: i for i, sid in enumerate(spaces)}
        space_of = np.fromiter((index[sid] for sid, _ in self.rows), np.int64, len(self.rows))
        pieces = []
        for i, sid in enumerate(spaces):
            idx = np.flatnonzero((space_of == i) & self.visible)
            entry = entries.get(sid)
            kind = entry.kind if entry else "text"
            item = pg.ScatterPlotItem(
                size=7 if kind == "speech" else 8, symbol=SYMBOLS.get(kind, "s"),
                brush=pg.mkBrush(COLOURS[i % len(COLOURS)]), pen=None, hoverable=True, tip=self._tip,
                name=f"{kind} · {entry.language if entry else ''} ({sid})")
            item.sigClicked.connect(self._clicked)
            self.plot.addItem(item)
            pieces.append((item, idx))
        self.plot.addItem(self._overlay)
        self.plot.addItem(self._clip_lines)
        self.plot.addItem(self._clip_item)
        self._overlay.setData([], [])
        self._drawing.start([(item, idx[k:k + DRAW_CHUNK]) for item, idx in pieces
                             for k in range(0, len(idx), DRAW_CHUNK)])

    def _add_points(self, piece) -> None:
        item, idx = piece
        item.addPoints(x=self.coords[idx, 0], y=self.coords[idx, 1], data=idx)

    @property
    def drawing(self) -> bool:
        """True while points are still being added to the plot."""
        return self._drawing.active

    def _tip(self, x, y, data) -> str:
        sid, word = self.rows[int(data)]
        return f"{word}\n{sid}"

    # selection
    def _clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.select_row(int(points[0].data()))

    def select_row(self, row: int, k: int = 10) -> None:
        """Select a point and list its k nearest neighbours in the original space."""
        near = proj.nearest_rows(self.vectors, row, k)
        sid, word = self.rows[row]
        self.neighbours.show_neighbours(f"Nearest to <b>{word}</b> ({sid}):",
                                        [(r, self.rows[r][1], self.rows[r][0], d) for r, d in near])
        self.selection = {row} | {r for r, _ in near}
        self._draw_selection()

    def apply_search(self) -> int:
        """Select every point whose word matches the regex; returns how many."""
        text = self.search.text().strip()
        try:
            pattern = re.compile(text, re.IGNORECASE)
        except re.error as exc:
            self.info.setText(f"bad regex: {exc}")
            return 0
        self.selection = {i for i, (_s, w) in enumerate(self.rows) if text and pattern.search(w)}
        self._draw_selection()
        return len(self.selection)

    def _draw_selection(self) -> None:
        rows = sorted(r for r in self.selection if self.visible[r]) if len(self.visible) else []
        self._overlay.setData(self.coords[rows, 0] if rows else [], self.coords[rows, 1] if rows else [])

    def isolate(self) -> None:
        """Show only the selected points."""
        if self.selection:
            self.visible = np.zeros(len(self.rows), bool)
            self.visible[list(self.selection)] = True
            self.redraw()

    def clear_selection(self) -> None:
        """Show every point again and forget the selection."""
        self.selection = set()
        self.visible = np.ones(len(self.rows), bool)
        self.neighbours.clear()
        self.search.clear()
        if self.rows:
            self.redraw()

    # the live clip
    def show_clip(self, result) -> None:
        """Place the current clip among the cached points, with lines to its nearest text words."""
        c = getattr(result, "classification", None)
        classifier = self.session.classifier
        if c is None or classifier is None or not self.rows:
            return
        query = self._clip_query(c.vector, classifier)
        if query is None:
            return
        coords, _ = proj.place_points(query, self.vectors, self.coords, k=10)
        self.clip_position = coords[0]
        self._clip_item.setData([coords[0, 0]], [coords[0, 1]])
        index = {r: i for i, r in enumerate(self.rows)}
        ends = [index[(sid, cand.word)] for sid in c.direct for cand in c.by_space.get(sid, [])[:5]
                if (sid, cand.word) in index]
        xs = np.ravel([[coords[0, 0], self.coords[e, 0]] for e in ends]) if ends else []
        ys = np.ravel([[coords[0, 1], self.coords[e, 1]] for e in ends]) if ends else []
        self._clip_lines.setData(xs, ys)

    def _clip_query(self, vector, classifier):
        """The clip in the layout's space, as core.projection.joint_points put its speech space."""
        to_joint = self.transforms.get(classifier.speech.entry.id)
        return None if to_joint is None else to_joint(vector[None, :])

    # background work and export
    def recompute(self) -> Worker | None:
        """Recompute the chosen layout in a worker (progress + Cancel); reloads when done."""
        project = self.session.project
        if project is None or (self.worker is not None and self.worker.is_running()):
            return None
        method, aligned = self.method_box.currentText(), self.aligned
        from core.mapping_history import recompute_layout

        worker = Worker(recompute_layout, project, method, aligned, parent=self)
        worker.finished.connect(lambda _e: self.load())
        worker.failed.connect(self.info.setText)
        worker.cancelled.connect(lambda: self.info.setText("Recomputing was cancelled; the old layout is kept."))
        self.progress.attach(worker, f"{method.upper()} layout")
        self.worker = worker
        worker.start()
        return worker

    def export_png(self, path: str | None = None) -> None:
        """Save the plot as PNG (atomic write)."""
        from core.atomic import atomic_path

        path = path or QFileDialog.getSaveFileName(self, "Export PNG", "joint-space.png", "PNG (*.png)")[0]
        if path:
            self._drawing.finish_now()  # every point in the picture
            with atomic_path(path) as tmp:
                self.plot.grab().save(str(tmp), "PNG")
            self.session.message.emit(f"Joint-space plot saved to {path}")

    def export_csv(self, path: str | None = None) -> None:
        """Save the coordinates of the points shown as CSV."""
        path = path or QFileDialog.getSaveFileName(self, "Export coordinates", "joint-space.csv", "CSV (*.csv)")[0]
        if not path:
            return
        entries = {s.id: s for s in self.session.project.manifest.spaces}
        proj.write_points_csv(path, [(sid, entries[sid].kind, entries[sid].language, w,
                                      float(self.coords[i, 0]), float(self.coords[i, 1]))
                                     for i, (sid, w) in enumerate(self.rows) if self.visible[i]])
        self.session.message.emit(f"Coordinates of {int(self.visible.sum())} points saved to {path}")
