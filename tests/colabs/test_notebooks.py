"""Executes every notebook in colabs/ top to bottom at the `test` scale.

Each notebook runs with nbclient on a `python3` kernel of this interpreter, from the
repository root, with its `parameters` cell replaced by `SCALE = "test"` and a
temporary `WORKDIR`. Notebooks that load the same config share one `WORKDIR` (the
second one resumes the finished run), so the pipeline trains once per config.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys

import pytest

nbformat = pytest.importorskip("nbformat", reason="needs the [test] extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="needs the [test] extra (nbclient)")
pytest.importorskip("ipykernel", reason="needs the [test] extra (ipykernel)")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLABS = os.path.join(ROOT, "colabs")
NOTEBOOKS = sorted(n for n in os.listdir(COLABS) if n.endswith(".ipynb"))
# Upper bound per cell, against hangs: the run cell trains the whole pipeline at the
# `test` scale (minutes on a loaded 2-core machine).
CELL_TIMEOUT_S = 900
CONFIG_RE = re.compile(r"""import_module\(\s*["']configs\.(\w+)["']\s*\)""")
EXECUTABLE_MARK = "kernel executable: "


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
  """A `python3` kernel spec that runs this interpreter, JAX on CPU, and scratch dirs."""
  base = tmp_path_factory.mktemp("jupyter")
  spec_dir = base / "kernels" / "python3"
  spec_dir.mkdir(parents=True)
  spec = {
    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    "display_name": "Python 3",
    "language": "python",
  }
  (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
  with pytest.MonkeyPatch.context() as mp:
    # JUPYTER_PATH comes before the user's and the environment's kernel specs.
    paths = [str(base), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    mp.setenv("JUPYTER_PATH", os.pathsep.join(paths))
    mp.setenv("JAX_PLATFORMS", "cpu")
    mp.setenv("IPYTHONDIR", str(base / "ipython"))
    yield


@pytest.fixture(scope="module")
def workdirs(tmp_path_factory, request):
  """One WORKDIR per config, shared by the notebooks that load it; the configs the
  session runs anyway (the main job, persistence_objectives) reuse those finished
  test-scale runs (their notebooks then only load the logged results and draw)."""
  base = tmp_path_factory.mktemp("colab_runs")
  session_runs = {
    "trait_rl_vs_baseline": "main_job_test_run",
    "persistence_objectives": "persistence_objectives_test_run",
  }

  def workdir(name):
    if name in session_runs:
      return request.getfixturevalue(session_runs[name])[0]
    return str(base / name)

  return workdir


def _read(name: str):
  with open(os.path.join(COLABS, name), encoding="utf-8") as f:
    nb = nbformat.read(f, as_version=4)
  nbformat.validate(nb)
  return nb


def _parameters_cell(nb):
  cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
  assert len(cells) == 1, f"expected one cell tagged `parameters`, found {len(cells)}"
  assert cells[0].cell_type == "code"
  return cells[0]


def _assignments(source: str) -> dict:
  tree = ast.parse(source)
  out = {}
  for node in tree.body:
    assert isinstance(node, ast.Assign) and len(node.targets) == 1, ast.dump(node)
    out[node.targets[0].id] = ast.literal_eval(node.value)
  return out


def _config_name(nb) -> str:
  names = {m for c in nb.cells if c.cell_type == "code" for m in CONFIG_RE.findall(c.source)}
  assert len(names) == 1, f"expected the notebook to load one config, found {sorted(names)}"
  return names.pop()


def _outputs(nb, output_type=None):
  return [
    o
    for c in nb.cells
    if c.cell_type == "code"
    for o in c.outputs
    if output_type is None or o.output_type == output_type
  ]


def test_found_notebooks():
  assert {
    "scoreboard_and_learning_curves.ipynb",
    "health_only_transfer.ipynb",
    "persistence.ipynb",
    "persistence_objectives.ipynb",
  } <= set(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_clean(name):
  """Stored without outputs, on a python3 kernel, with runlocal as the default scale."""
  nb = _read(name)
  assert nb.metadata["kernelspec"]["name"] == "python3"
  for cell in nb.cells:
    if cell.cell_type == "code":
      assert cell.outputs == [], f"stored outputs in cell {cell.get('id')}"
      assert cell.execution_count is None, f"stored execution count in cell {cell.get('id')}"
  stem = os.path.splitext(name)[0]
  assert _assignments(_parameters_cell(nb).source) == {
    "SCALE": "runlocal",
    "WORKDIR": f"runs/colab_{stem}",
  }
  assert nb.cells[0].cell_type == "markdown" and "docs/RESULTS.md" in nb.cells[0].source


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, kernel_env, workdirs):
  nb = _read(name)
  config_name = _config_name(nb)
  workdir = workdirs(config_name)
  _parameters_cell(nb).source = f'SCALE = "test"\nWORKDIR = {workdir!r}'
  nb.cells.append(
    nbformat.v4.new_code_cell(f"import sys\nprint({EXECUTABLE_MARK!r} + sys.executable)")
  )

  client = nbclient.NotebookClient(
    nb,
    timeout=CELL_TIMEOUT_S,
    kernel_name="python3",
    resources={"metadata": {"path": ROOT}},
  )
  client.execute()  # raises CellExecutionError (with the traceback) if a cell fails

  assert not _outputs(nb, "error")
  stdout = "".join(o.get("text", "") for o in _outputs(nb, "stream"))
  assert f"{EXECUTABLE_MARK}{sys.executable}" in stdout, "the kernel ran another python"
  with open(os.path.join(workdir, "results.json"), encoding="utf-8") as f:
    results = json.load(f)
  assert results["experiment"] == config_name
  assert os.path.exists(os.path.join(workdir, "report.md"))
  images = [o for o in _outputs(nb) if "image/png" in o.get("data", {})]
  assert len(images) >= 2, f"{name}: expected the figures to be drawn, got {len(images)} images"
  assert "figures drawn:" in stdout
