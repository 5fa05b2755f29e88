"""Write the meta.json for `spacy package`: configs/meta.json plus the measured test metrics.

en_medical and en_medical_sm share configs/meta.json (sources, license); --name and
--description set what differs.
"""
import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base", type=Path)
    parser.add_argument("metrics", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--version", required=True)
    parser.add_argument("--name", help="Package name without the language prefix (default: the base's)")
    parser.add_argument("--description", help="What this variant is (default: the base's)")
    args = parser.parse_args()
    meta = json.loads(args.base.read_text(encoding="utf8"))
    meta["version"] = args.version
    if args.name:
        meta["name"] = args.name
    if args.description:
        meta["description"] = args.description
    metrics = json.loads(args.metrics.read_text(encoding="utf8"))
    meta["metrics"] = {
        f"{name}_test": {
            "ents_per_type": result["scores"]["ents_per_type"],
            **({"merged": result["merged"]} if "merged" in result else {}),
        }
        for name, result in metrics.items()
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
