"""Score medical_context and negspacy's Negex side by side; write metrics/assertion.json.

Thin wrapper over `spacy_medical.evaluate.assertion.evaluate_assertion` (used by project.yml's
`evaluate-assertion`). Prints the Markdown tables for the README.

Usage: python scripts/evaluate_assertion.py [--output metrics/assertion.json] [--split test] [--no-maccrobat]
"""
import argparse
from pathlib import Path

import spacy_medical.registry  # noqa: F401  (registers the factories when not installed)
from spacy_medical.evaluate.assertion import DEV_PATH, evaluate_assertion, format_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("metrics/assertion.json"))
    parser.add_argument("--dev", type=Path, default=DEV_PATH)
    parser.add_argument("--split", default="test", choices=["train", "dev", "test", "all"])
    parser.add_argument("--no-maccrobat", action="store_true")
    args = parser.parse_args()
    metrics = evaluate_assertion(args.dev, args.split, args.output, with_maccrobat=not args.no_maccrobat)
    print(format_table(metrics))
    print(f"\nwritten: {args.output}")


if __name__ == "__main__":
    main()
