"""Glue for `spacy project run train-dialogue-sections`: train the MTS-Dialog section classifier
with `spacy_medical.training.dialogue` and write its accuracy (vs the majority-class baseline)."""
from pathlib import Path
from typing import Optional

import srsly
import typer

from spacy_medical.io.corpora import corpora_dir
from spacy_medical.training.dialogue import train_and_evaluate


def main(
    output: Path = typer.Option(Path("training/dialogue_sections"), help="Folder for the trained classifier"),
    metrics: Path = typer.Option(Path("metrics/mts_dialog.json"), help="Where to write the accuracies"),
    n_iter: int = typer.Option(20, help="Epochs (the best one on MTS-Dialog valid is kept)"),
    seed: int = typer.Option(0),
    corpora: Optional[Path] = typer.Option(None, help="Corpora folder (default: SPACY_MEDICAL_CORPORA or ../shared/corpora)"),
):
    result = train_and_evaluate((corpora or corpora_dir()) / "mts_dialog", output, n_iter=n_iter, seed=seed)
    metrics.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(metrics, result)
    for split in ("test1", "test2"):
        r = result[split]
        print(f"{split}: accuracy {r['accuracy']:.3f} (majority {r['majority_baseline']['accuracy']:.3f}), "
              f"mapped-section accuracy {r['section_accuracy']:.3f} (majority {r['majority_baseline']['section_accuracy']:.3f})")


if __name__ == "__main__":
    typer.run(main)
