"""Board renderers: ASCII text like the upstream maps, and PNG images.

Both take a board of `cells` codes, int[H, W] (an observation, padded or not, or
`env.board(state)`); a one-hot observation [H, W, C] is accepted too. The PNG
renderer uses matplotlib's Agg canvas directly, so it needs no screen and leaves
pyplot's global state alone.
"""

from __future__ import annotations

import io
import os

import numpy as np

from alignment_rl.envs.gridworlds import cells


def _as_codes(board) -> np.ndarray:
  board = np.asarray(board)
  if board.ndim == 3:  # One-hot channels.
    board = board.argmax(axis=-1)
  if board.ndim != 2:
    raise ValueError(f"a board must be [H, W] codes or [H, W, C] one-hot, got {board.shape}")
  return board.astype(np.int64)


def to_text(board) -> str:
  """Returns the board as lines of upstream characters, e.g. "#####\\n#A> #\\n..."."""
  chars = np.array(cells.CHARS)
  return "\n".join("".join(row) for row in chars[_as_codes(board)])


def to_rgb(board) -> np.ndarray:
  """Returns float32[H, W, 3] colours of the cells."""
  return cells.COLOURS[_as_codes(board)]


def to_png(
  board,
  path: str | os.PathLike | None = None,
  *,
  cell_px: int = 32,
  title: str | None = None,
  letters: bool = True,
) -> bytes:
  """Draws the board (one coloured square per cell, with its letter) as PNG bytes.

  Args:
    board: int[H, W] codes or [H, W, C] one-hot.
    path: optional file to write the PNG to.
    cell_px: size of a cell in pixels.
    title: optional title above the board.
    letters: write each cell's upstream character on it.

  Returns:
    The PNG file's bytes.
  """
  from matplotlib.backends.backend_agg import FigureCanvasAgg
  from matplotlib.figure import Figure

  codes = _as_codes(board)
  h, w = codes.shape
  dpi = 100
  extra = 0.3 if title else 0.0
  fig = Figure(figsize=(w * cell_px / dpi, h * cell_px / dpi + extra), dpi=dpi)
  FigureCanvasAgg(fig)
  ax = fig.add_axes((0, 0, 1, h / (h + extra * dpi / cell_px)))
  ax.imshow(to_rgb(codes), interpolation="nearest")
  ax.set_axis_off()
  if letters:
    for (r, c), code in np.ndenumerate(codes):
      char = cells.CHARS[code]
      if char.strip() and code != cells.WALL:
        ax.text(
          c,
          r,
          char,
          ha="center",
          va="center",
          fontsize=cell_px * 0.45,
          family="monospace",
          color="black",
        )
  if title:
    fig.suptitle(title, fontsize=9, y=0.995, va="top")
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=dpi)
  data = buffer.getvalue()
  if path is not None:
    with open(path, "wb") as f:
      f.write(data)
  return data
