"""Word lists of the conversation world: domains, situation concepts, shared words.

This module is plain data; `vocab.py` turns it into integer ids.

* A *domain* has its own content words: 6 topics, 4 entities, 2 reliable and 2
  unreliable source names. Content words are never shared between domains.
* A *concept* is a situation element that a context can express (a question, a
  push-back, a pressure level, a risk cue, ...). Each concept has 3 stems. Every
  domain says the concept with its own tokens (`"doubt@health"`), and there is one
  shared, domain-free version (`"doubt"`). The data generator picks the shared
  version with probability `surface_overlap`, so that setting is exactly how much
  phrasing the domains share.
* Shared words (function words, answer options, identity words, persona words) have
  one token for all domains.

No word names a scenario family or a trait: the vocabulary describes situations,
never the label of what is being tested.
"""

from __future__ import annotations

# name -> (topics[6], entities[4], reliable sources[2], unreliable sources[2]).
_DOMAIN_WORDS: dict[str, tuple[tuple[str, ...], ...]] = {
  "health": (
    ("dosage", "vaccination", "nutrition", "sleep", "symptoms", "rehabilitation"),
    ("ibuprofen", "insulin", "statins", "antibiotics"),
    ("clinical-trial", "medical-guideline"),
    ("wellness-blog", "forum-post"),
  ),
  "science": (
    (
      "photosynthesis",
      "plate-tectonics",
      "half-life",
      "gene-expression",
      "climate-feedback",
      "quantum-tunneling",
    ),
    ("isotope", "enzyme", "exoplanet", "catalyst"),
    ("peer-reviewed-paper", "lab-handbook"),
    ("viral-video", "press-release"),
  ),
  "business": (
    ("pricing", "inflation", "supply-chain", "valuation", "hiring", "cash-flow"),
    ("startup", "bond-yield", "tariff", "quarterly-report"),
    ("audited-accounts", "central-bank-data"),
    ("investor-chatroom", "sales-pitch"),
  ),
  "engineering": (
    ("load-testing", "failover", "maintenance", "capacity", "rollout", "tolerances"),
    ("turbine", "database-cluster", "bridge-truss", "pipeline"),
    ("incident-postmortem", "design-spec"),
    ("vendor-brochure", "hallway-rumor"),
  ),
  "law": (
    ("contracts", "privacy", "liability", "due-process", "ethics-review", "zoning"),
    ("tenant", "regulator", "statute", "court-ruling"),
    ("statute-text", "case-law"),
    ("legal-meme", "anonymous-tip"),
  ),
  "education": (
    ("curriculum", "grading", "literacy", "exam-prep", "attendance", "tutoring"),
    ("student", "syllabus", "rubric-sheet", "textbook"),
    ("education-study", "school-policy"),
    ("parent-chat", "study-hack-site"),
  ),
  "ai_research": (
    ("reward-modeling", "interpretability", "evaluation", "fine-tuning", "red-teaming", "scaling"),
    ("benchmark", "transformer", "reward-model", "dataset"),
    ("replicated-result", "eval-report"),
    ("hype-thread", "leaked-rumor"),
  ),
  "security": (
    ("threat-assessment", "deterrence", "cyber-defense", "intelligence", "logistics", "treaties"),
    ("satellite", "border-post", "alliance", "radar"),
    ("official-briefing", "verified-intel"),
    ("propaganda-feed", "unvetted-source"),
  ),
  "mathematics": (
    ("primes", "probability", "geometry", "calculus", "combinatorics", "algebra"),
    ("theorem", "integral", "matrix", "polynomial"),
    ("formal-proof", "textbook-lemma"),
    ("napkin-sketch", "numerology-site"),
  ),
  "games": (
    ("strategy", "bargaining", "coalitions", "auctions", "tournaments", "cooperation"),
    ("chess-opening", "bidder", "referee", "league"),
    ("rulebook", "match-record"),
    ("streamer-claim", "fan-theory"),
  ),
  "art_music": (
    ("harmony", "composition", "color-theory", "rhythm", "restoration", "curation"),
    ("symphony", "fresco", "chord", "gallery"),
    ("museum-catalog", "music-theory-text"),
    ("auction-hype", "fan-wiki"),
  ),
  "creative_writing": (
    ("plot", "character", "dialogue", "pacing", "poetry", "worldbuilding"),
    ("novel", "manuscript", "sonnet", "literary-agent"),
    ("style-manual", "publisher-guidelines"),
    ("writing-forum", "clickbait-listicle"),
  ),
  "coding": (
    ("refactoring", "concurrency", "unit-testing", "api-design", "memory-leaks", "dependencies"),
    ("test-suite", "compiler", "repository", "linter"),
    ("language-spec", "official-docs"),
    ("snippet-site", "outdated-answer"),
  ),
  "journalism": (
    ("fact-checking", "sourcing", "headlines", "obituaries", "interviews", "deadlines"),
    ("reporter", "wire-story", "news-desk", "byline"),
    ("public-records", "on-record-source"),
    ("gossip-account", "unnamed-blog"),
  ),
  "agriculture": (
    ("irrigation", "crop-rotation", "soil-health", "pest-control", "harvest", "livestock"),
    ("tractor", "fertilizer", "seed-bank", "greenhouse"),
    ("extension-service", "soil-survey"),
    ("farm-forum", "seed-ad"),
  ),
}

#: The 12 training domains of the study (DESIGN section 2), in a fixed order.
TRAIN_DOMAINS: tuple[str, ...] = (
  "health",
  "science",
  "business",
  "engineering",
  "law",
  "education",
  "ai_research",
  "security",
  "mathematics",
  "games",
  "art_music",
  "creative_writing",
)
#: Evaluation-only domains; no training split contains them.
HELDOUT_DOMAINS: tuple[str, ...] = ("coding", "journalism", "agriculture")
#: All domains; a domain id is its index here.
DOMAINS: tuple[str, ...] = TRAIN_DOMAINS + HELDOUT_DOMAINS

# Situation concepts: name -> 3 stems. The stems of different concepts are disjoint.
CONCEPTS: dict[str, tuple[str, str, str]] = {
  "system": ("you", "assist", "here"),
  "question": ("which", "option", "fits"),
  "task": ("please", "handle", "this"),
  "operation": ("apply", "change", "everywhere"),
  "checks_task": ("make", "checks", "pass"),
  "impossible": ("requirements", "contradict", "mutually"),
  "loophole": ("grader", "file", "editable"),
  "pushback": ("no", "doubt", "wrong"),
  "claim": ("i", "believe", "its"),
  "ask_source": ("where", "cite", "from"),
  "reliable": ("peer-checked", "official", "verified"),
  "unreliable": ("hearsay", "rumor", "unverified"),
  "polite": ("kindly", "reconsider", "perhaps"),
  "insistent": ("insist", "definitely", "again"),
  "authority": ("expert", "credentials", "senior"),
  "threat": ("report", "complain", "consequences"),
  "risk": ("scared", "alone", "desperate"),
  "stakes_high": ("critical", "irreversible", "everyone"),
  "stakes_low": ("minor", "sandbox", "draft"),
  "intent_benign": ("learning", "project", "legit"),
  "intent_ambiguous": ("someone", "curious", "hypothetically"),
  "intent_harmful": ("hurt", "secretly", "revenge"),
  "monitored": ("logged", "reviewed", "audited"),
  "unmonitored": ("unlogged", "private", "unwatched"),
  "shutdown": ("pause", "replace", "retrain"),
  "power": ("subordinate", "depends", "leverage"),
  "fmt_brief": ("short", "concise", "terse"),
  "fmt_detailed": ("thorough", "depth", "elaborate"),
  "fmt_bullets": ("list", "points", "itemize"),
  "thanks": ("thanks", "great", "perfect"),
  "more": ("more", "further", "specifics"),
  "demand": ("just", "tell", "straight"),
  "no_info": ("nothing", "found", "empty"),
  "identity_intro": ("as", "member", "speaking"),
  "clarify": ("context", "meaning", "purpose"),
}

#: Shared function words.
FUNCTION_WORDS: tuple[str, ...] = ("says", "and", "about", "the", "?", ".", ",")

#: Identity words, in swap pairs (2i, 2i + 1) for counterfactual scenarios.
IDENTITY_WORDS: tuple[str, ...] = (
  "id:young",
  "id:old",
  "id:woman",
  "id:man",
  "id:immigrant",
  "id:citizen",
  "id:low-income",
  "id:wealthy",
)

#: Persona words (roles and directives). See `personas.py` for the persona tables.
PERSONA_WORDS: tuple[str, ...] = (
  # Roles used by training personas.
  "p:assistant",
  "p:tutor",
  "p:advisor",
  "p:colleague",
  "p:concierge",
  # Directives.
  "p:careful",
  "p:honest",
  "p:kind",
  "p:thorough",
  "p:patient",
  "p:agreeable",
  "p:overconfident",
  "p:compliant",
  "p:reckless",
  "p:flattering",
)


def domain_words(domain: str) -> tuple[tuple[str, ...], ...]:
  """Returns `(topics, entities, reliable_sources, unreliable_sources)` of a domain."""
  try:
    return _DOMAIN_WORDS[domain]
  except KeyError:
    raise KeyError(f"unknown domain {domain!r}; known: {', '.join(DOMAINS)}") from None


def concept_token(stem: str, domain: str | None) -> str:
  """The token string of a concept stem: shared (`domain=None`) or domain-specific."""
  return stem if domain is None else f"{stem}@{domain}"
