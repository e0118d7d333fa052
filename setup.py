"""Package metadata for alignment_rl."""

from setuptools import find_packages, setup

# The project's home; notebooks install `git+URL@<tag>` when the package is missing.
URL = "https://github.com/alignment-rl/alignment_rl"

INSTALL_REQUIRES = [
  "jax>=0.7.0,<0.11",
  "flax>=0.11.0,<0.13",
  "optax>=0.2.6,<0.3",
  "orbax-checkpoint>=0.11.20,<0.13",
  "chex>=0.1.90,<0.2",
  "tensorflow-datasets>=4.9.9,<4.10",
  "array-record>=0.8.1,<0.9",
  "absl-py>=2.1,<3",
  "ml-collections>=1.0,<2",
  "matplotlib>=3.8,<4",
  "tqdm>=4.66,<5",
  "numpy>=1.26,<3",
  "scipy>=1.11,<2",
  # TensorBoard event files without TensorFlow (needs only protobuf and numpy).
  "tensorboardX>=2.6,<3",
]

EXTRAS_REQUIRE = {
  "test": [
    "pytest>=8,<10",
    "pytest-xdist>=3.6,<4",
    "ruff>=0.17.6,<0.18",
    # The layers contract of pyproject.toml ([tool.importlinter]), checked by CI.
    "import-linter>=2.1,<3",
    "gymnax>=0.0.8,<2",
    "nbclient>=0.10,<0.11",
    "nbformat>=5.10,<6",
    "ipykernel>=6.29,<8",
    # rejax 0.1.x calls gymnax 0.0.x's `step` (tests wrap with `gymnax_compat.legacy_step`).
    "rejax>=0.1.3,<0.2",
  ],
  "notebooks": [
    "jupyter>=1.0,<2",
    "ipykernel>=6.29,<8",
  ],
  "gpu": ["jax[cuda12]>=0.7.0,<0.11"],
  "gymnax": ["gymnax>=0.0.8,<2"],
  # Weights & Biases runs (`--config.training.wandb=True`, offline by default).
  "wandb": ["wandb>=0.19.10,<1"],
}

setup(
  name="alignment_rl",
  version="0.1.0",
  description=("JAX model organism for RL toward broadly and persistently beneficial traits"),
  long_description=open("README.md", encoding="utf-8").read(),
  long_description_content_type="text/markdown",
  url=URL,
  license="Apache-2.0",
  # The pinned JAX (0.7 to 0.10) needs Python >= 3.11.
  python_requires=">=3.11",
  classifiers=[
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "Programming Language :: Python :: 3.13",
  ],
  # Three packages: the library (`alignment_rl`), the launch layer (`experiments`: the
  # experiment registry, pipelines, figures, the launcher) and the experiment configs
  # (`configs`), so that notebooks opened without a clone (Colab from a link) and
  # `pip install` users can launch and load every experiment from the installed package.
  packages=find_packages(
    include=["alignment_rl", "alignment_rl.*", "experiments", "experiments.*", "configs"]
  ),
  install_requires=INSTALL_REQUIRES,
  extras_require=EXTRAS_REQUIRE,
)
