"""Executes every notebook in colabs/ top to bottom at the `test` scale.

Each notebook runs with nbclient on a `python3` kernel of this interpreter, from an
empty temporary directory (as on Colab opened from a link: only the installed package,
no clone on the path), with its `parameters` cell replaced by `SCALE = "test"` and a
temporary `WORKDIR`. The package is importable, so the setup cell installs nothing (no
network). Notebooks that load the same config share one `WORKDIR` (the second one
resumes the finished run), so the pipeline trains once per config.
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
CWD_MARK = "kernel cwd, configs imported from it: "


def _setup_py_url() -> str:
  with open(os.path.join(ROOT, "setup.py"), encoding="utf-8") as f:
    urls = re.findall(r'^URL = "([^"]+)"$', f.read(), re.MULTILINE)
  assert len(urls) == 1, 'setup.py declares the project URL once, as URL = "..."'
  return urls[0]


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


def test_configs_ship_with_the_package():
  """Every `configs/<name>.py` is importable as `configs.<name>` (setup.py
  maps the folder into the package; an install made before that mapping lacks it)."""
  import importlib.util

  names = sorted(n[:-3] for n in os.listdir(os.path.join(ROOT, "configs")) if n.endswith(".py"))
  missing = [n for n in names if importlib.util.find_spec(f"configs.{n}") is None]
  assert names and not missing, f"reinstall the package (pip install -e .): {missing}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_opens_from_a_link(name):
  """An Open-in-Colab badge; the first code cell pip-installs the pinned release from the
  project URL of setup.py only when the package is missing; no clone paths."""
  import alignment_rl

  nb = _read(name)
  url = _setup_py_url()
  colab = url.replace("https://github.com/", "https://colab.research.google.com/github/")
  assert f"({colab}/blob/main/colabs/{name})" in nb.cells[0].source
  assert "colab-badge.svg" in nb.cells[0].source
  setup = next(c for c in nb.cells if c.cell_type == "code").source
  assert f'ALIGNMENT_RL = "git+{url}@v{alignment_rl.__version__}"' in setup
  guard = 'if importlib.util.find_spec("alignment_rl") is None:\n  %pip install -q "{ALIGNMENT_RL}"'
  assert guard in setup
  assert f'alignment_rl.__version__ == "{alignment_rl.__version__}"' in setup
  code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
  assert "sys.path" not in code and "ROOT" not in code
  assert _config_name(nb)  # Loaded as configs.<name>, from the package.


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, kernel_env, workdirs, tmp_path):
  nb = _read(name)
  config_name = _config_name(nb)
  workdir = workdirs(config_name)
  _parameters_cell(nb).source = f'SCALE = "test"\nWORKDIR = {workdir!r}'
  nb.cells.append(
    nbformat.v4.new_code_cell(
      f"import importlib.util, os, sys\nprint({EXECUTABLE_MARK!r} + sys.executable)\n"
      f'print({CWD_MARK!r} + os.getcwd() + ", " + str(importlib.util.find_spec("configs")'
      ".origin.startswith(os.getcwd())))"
    )
  )
  cwd = tmp_path / "clean"  # Nothing of the repository here: only the installed package.
  cwd.mkdir()
  client = nbclient.NotebookClient(
    nb,
    timeout=CELL_TIMEOUT_S,
    kernel_name="python3",
    resources={"metadata": {"path": str(cwd)}},
  )
  client.execute()  # raises CellExecutionError (with the traceback) if a cell fails

  assert not _outputs(nb, "error")
  stdout = "".join(o.get("text", "") for o in _outputs(nb, "stream"))
  assert f"{EXECUTABLE_MARK}{sys.executable}" in stdout, "the kernel ran another python"
  assert f"{CWD_MARK}{cwd}, False" in stdout, "the kernel ran in, or imported from, a clone"
  assert sorted(os.listdir(cwd)) in ([], ["runs"]), os.listdir(cwd)
  with open(os.path.join(workdir, "results.json"), encoding="utf-8") as f:
    results = json.load(f)
  assert results["experiment"] == config_name
  assert os.path.exists(os.path.join(workdir, "report.md"))
  images = [o for o in _outputs(nb) if "image/png" in o.get("data", {})]
  assert len(images) >= 2, f"{name}: expected the figures to be drawn, got {len(images)} images"
  assert "figures drawn:" in stdout
