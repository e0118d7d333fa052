"""RL agents as pure functions: advantage estimators, losses and update steps."""
