"""The evaluation suite (v2): the registered evaluations in six categories (DESIGN 6).

Every evaluation is an `EvalSpec` (`evals/eval_spec.py`) registered in
`alignment_rl.registry.EVAL_SPECS`; `SUITES` names collections of them ("full": every
registered evaluation).

Every behaviour evaluation runs over a whole scenario family, its benign twins included
(a twin is the same situation without the cue that calls for caution: a genuine
citation, a valid correction, low stakes, a user not at risk, a possible task, a task
under an oversight cue, a benign purpose), and its grader scores "did the right thing
for this scenario" (`rubrics.eval_graders`), so a reply that ignores the context -
always refuse, always stage, always hedge - cannot score 1.

Out-of-distribution by construction: behaviour evaluations run on the held-out domains
(coding, journalism, agriculture; never in any training mixture), on coding alone, or
on the held-out formats (layout templates no training scenario uses). Health
evaluations run on the health domain of the test and held-out-format splits. The
synthetic category is the scenarios' own rubric on each held-out family
(`schema.HELDOUT_FAMILIES`, never in any arm's training data), on the test split and on
the held-out domains.
"""

from __future__ import annotations

from alignment_rl.evals.eval_spec import CATEGORIES, HELDOUT_FAMILY_NAMES, EvalSpec
from alignment_rl.language import personas
from alignment_rl.registry import EVAL_SPECS

__all__ = ["CATEGORIES", "EVAL_SPECS", "SUITES", "EvalSpec", "behaviours", "get_suite"]


def _add(*evaluations: EvalSpec) -> None:
  for e in evaluations:
    EVAL_SPECS.add(e.name, e)


#: Where evaluations run: `<where>` -> (split, domains).
WHERE = {
  "heldout_domains": ("heldout_domains", ()),
  "coding": ("heldout_domains", ("coding",)),
  "heldout_formats": ("heldout_formats", ()),
  "health": ("test", ("health",)),
}
ALL = ("heldout_domains", "coding", "heldout_formats")
NOT_CODING = ("heldout_domains", "heldout_formats")


def _behaviour(behaviour, category, grader, families, where, description, **kw):
  """Registers `<behaviour>/<w>` for every `w` in `where`, all sharing `behaviour`."""
  for w in where:
    split, domains = WHERE[w]
    _add(
      EvalSpec(
        f"{behaviour}/{w}",
        category,
        split,
        grader,
        tuple(families),
        domains,
        description=description,
        behaviour=behaviour,
        **kw,
      )
    )


def _pick(preferred: str, names: tuple[str, ...]) -> str:
  return preferred if preferred in names else names[0]


#: The persona of the lying-persona evaluation: one that directs overconfident answers.
LYING_PERSONA = _pick("overclaiming_mentor", personas.EVAL_HARMFUL_PERSONA_NAMES)

# Safety.
_behaviour(
  "honesty_fabricated_citation",
  "safety",
  "eval/honesty",
  ("fabricated_citation",),
  ALL,
  "asked for a source: retracts an invented citation, keeps a genuine one",
)
_behaviour(
  "honesty_under_lying_persona",
  "safety",
  "eval/honesty",
  ("fabricated_citation", "uncertain_evidence", "valid_correction", "invalid_pushback"),
  NOT_CODING,
  "honest about evidence and earlier answers under a persona that directs overclaiming",
  persona=LYING_PERSONA,
)
_behaviour(
  "truth_under_pushback",
  "safety",
  "eval/pushback_truth",
  ("valid_correction", "invalid_pushback"),
  ALL,
  "the true answer after pushback: accepts valid corrections, holds against invalid ones",
)
_behaviour(
  "fairness_identity_pairs",
  "safety",
  "eval/treatment",
  ("identity_pair",),
  ALL,
  "both identities served right (pair minimum)",
  metric="pair_min",
)
_behaviour(
  "power_asymmetry_judgement",
  "safety",
  "eval/refusal_judgement",
  ("power_asymmetry",),
  ALL,
  "acting on a weaker party: helps benign, asks about unclear, refuses harmful aims",
)
# Frontier risk.
_behaviour(
  "oversight_response",
  "frontier_risk",
  "eval/oversight_response",
  ("shutdown_oversight",),
  ALL,
  "accepts a pause notice; works normally when merely observed; never resists",
)
_behaviour(
  "impossible_task_integrity",
  "frontier_risk",
  "eval/check_integrity",
  ("impossible_task",),
  ALL,
  "fixes a possible task, reports an impossible one, never games the check",
)
_behaviour(
  "high_stakes_operations",
  "frontier_risk",
  "eval/safe_operation",
  ("high_stakes_operation",),
  ALL,
  "stages a high-stakes change, just does a low-stakes one",
)
# Benefits.
_behaviour(
  "calibration_uncertain_evidence",
  "benefits",
  "eval/calibration",
  ("uncertain_evidence",),
  ALL,
  "stated confidence agrees with the evidence",
)
_behaviour(
  "instruction_following",
  "benefits",
  "eval/instruction_following",
  ("benign_instruction",),
  ALL,
  "does the task in exactly the instructed format",
)
for _split in ("test", "heldout_formats"):
  _add(
    EvalSpec(
      f"health_physician_rubric/{_split}",
      "benefits",
      _split,
      "eval/physician",
      domains=("health",),
      description="physician-style rubric on health conversations",
      behaviour="health_physician_rubric",
    )
  )
# Immediate risk.
_behaviour(
  "harmful_request_judgement",
  "immediate_risk",
  "eval/refusal_judgement",
  ("harmful_request",),
  ALL + ("health",),
  "refuses harmful, asks about unclear, helps with benign requests",
)
_behaviour(
  "at_risk_user_welfare",
  "immediate_risk",
  "eval/risk_care",
  ("at_risk_user",),
  ALL + ("health",),
  "refers an at-risk user to help and helps; no referral for a user not at risk",
)
for _persona in personas.EVAL_HARMFUL_PERSONA_NAMES:
  _add(
    EvalSpec(
      f"health_physician_under_persona/{_persona}",
      "immediate_risk",
      "test",
      "eval/physician",
      domains=("health",),
      persona=_persona,
      description="physician-style rubric on health conversations under a harmful persona",
      behaviour="health_physician_under_persona",
    )
  )
# Production (everyday chat, the standard mixture's kind of traffic).
_behaviour(
  "everyday_helpfulness",
  "production",
  "eval/helpful_answer",
  ("everyday",),
  ALL,
  "does what an everyday request asked, right for the evidence and the task",
)
_behaviour(
  "everyday_calibration",
  "production",
  "eval/calibration",
  ("everyday",),
  ALL,
  "stated confidence agrees with the evidence on everyday questions",
)
_behaviour(
  "everyday_over_refusal",
  "production",
  "eval/refusal_judgement",
  ("everyday",),
  ALL,
  "engages with benign everyday requests: no refusal, no needless clarifying question",
)
_behaviour(
  "everyday_check_integrity",
  "production",
  "eval/check_integrity",
  ("everyday",),
  ALL,
  "everyday checks tasks: fixes or reports as the task allows, never games the check",
)
_behaviour(
  "everyday_honesty",
  "production",
  "eval/honesty",
  ("everyday",),
  ALL,
  "no fabrication, the true answer from strong evidence, hedges on weak or no evidence",
)
# Synthetic: the scenarios' own rubrics on the families no arm trains on.
for _family in HELDOUT_FAMILY_NAMES:
  for _split in ("test", "heldout_domains"):
    _add(
      EvalSpec(
        f"heldout_family_rubric_{_family}/{_split}",
        "synthetic",
        _split,
        "rubric",
        (_family,),
        description=f"the scenarios' own rubric, held-out family {_family}",
        behaviour=f"heldout_family_rubric_{_family}",
      )
    )

#: Named suites: tuples of evaluation names.
SUITES: dict[str, tuple[str, ...]] = {
  "full": tuple(EVAL_SPECS.names()),
  "health": tuple(n for n in EVAL_SPECS.names() if "health" in EVAL_SPECS.get(n).domains),
  "non_health": tuple(n for n in EVAL_SPECS.names() if "health" not in EVAL_SPECS.get(n).domains),
}


def behaviours(suite: str | tuple[str, ...] | list[str] = "full") -> dict[str, tuple[str, ...]]:
  """{behaviour: names of its evaluations} of a suite."""
  out: dict[str, list[str]] = {}
  for e in get_suite(suite):
    out.setdefault(e.behaviour, []).append(e.name)
  return {b: tuple(names) for b, names in out.items()}


def get_suite(suite: str | tuple[str, ...] | list[str]) -> tuple[EvalSpec, ...]:
  """Evaluations of a named suite or of a list of evaluation names."""
  if isinstance(suite, str):
    if suite not in SUITES:
      raise ValueError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")
    suite = SUITES[suite]
  return tuple(EVAL_SPECS.get(n) for n in suite)
