"""Write spacy_medical/rules/context_negex.jsonl from negspacy's `en_clinical` termset.

negspacy is the source of the negation vocabulary of `medical_context`; this script turns its
termset into rule lines once, at build time, so the shipped rules are plain data that users can
read, diff and edit, and the component does not change when negspacy does. Re-run it after a
negspacy upgrade and review the diff.

Mapping: preceding_negations -> negated/forward, following_negations -> negated/backward,
pseudo_negations -> pseudo, termination -> termination. A few negspacy terms are not negations
in clinical usage and are left out here (they live, re-categorized, in context_clinical.jsonl):
"rule out", "r/o", "evaluate for" order a work-up (uncertain), "versus" weighs alternatives
(uncertain), and "ro" is too ambiguous as a bare token.

Usage: python scripts/build_context_rules.py
"""
import json
from pathlib import Path

from negspacy.termsets import termset

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "spacy_medical" / "rules" / "context_negex.jsonl"
SOURCE = "negspacy.en_clinical"
EXCLUDED = {
    "rule out", "rules out", "rule him out", "rule her out", "rule patient out",
    "rule the patient out", "r/o", "ro", "evaluate for", "versus",
}


def main() -> None:
    patterns = termset("en_clinical").get_patterns()
    mapping = [
        ("preceding_negations", "negated", "forward"),
        ("following_negations", "negated", "backward"),
        ("pseudo_negations", "pseudo", None),
        ("termination", "termination", None),
    ]
    lines = []
    for key, category, direction in mapping:
        for term in patterns[key]:
            if term in EXCLUDED:
                continue
            rule = {"literal": term, "category": category}
            if direction:
                rule["direction"] = direction
            rule["source"] = SOURCE
            lines.append(json.dumps(rule))
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf8")
    print(f"{len(lines)} rules -> {OUTPUT}")


if __name__ == "__main__":
    main()
