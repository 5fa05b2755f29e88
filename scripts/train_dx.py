"""Train a diagnosis classifier on corpus/dx: python scripts/train_dx.py CONFIG OUTPUT_DIR [--paths.train corpus/dx/train_augmented.spacy ...]

Same as `spacy train` for the CNN; the frozen-encoder config encodes each text once
(spacy_medical.train_classifier.train_over_frozen_encoder).
"""
import sys

from spacy.cli._util import parse_config_overrides

from spacy_medical.train_classifier import train_textcat

if __name__ == "__main__":
    config, output, *extra = sys.argv[1:]
    print(train_textcat(config, "corpus/dx", output, parse_config_overrides(extra)))
