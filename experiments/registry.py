"""The experiment registry: a config's `experiment` field names its runner here.

Each runner is `run(config, workdir) -> summary dict`. The pipeline modules of
`experiments.pipelines` register themselves on import; the library (`alignment_rl`)
registers no experiments.
"""

from alignment_rl.registry import Registry

EXPERIMENTS: Registry = Registry("experiment")
