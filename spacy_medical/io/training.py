"""Training-data readers registered for spaCy configs."""
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

from spacy.language import Language
from spacy.training import Corpus, Example


class WeightedCorpus:
    """Reads every `.spacy` file of a folder, repeating some files more often.

    MACCROBAT is the only clinical and the only gold SYMPTOM source, and it is a fifth of the
    size of the PubMed corpora; repeating it keeps its share of the updates from shrinking.
    """

    def __init__(self, path: Optional[Path], weights: Dict[str, int], max_length: int = 0, limit: int = 0):
        self.path = Path(path) if path is not None else None
        self.weights = weights
        self.max_length = max_length
        self.limit = limit

    def files(self) -> List[Path]:
        if self.path is None:  # unset in a config that is only being loaded, not trained
            return []
        return sorted(self.path.glob("*.spacy")) if self.path.is_dir() else [self.path]

    def __call__(self, nlp: Language) -> Iterator[Example]:
        for file in self.files():
            corpus = Corpus(file, max_length=self.max_length, limit=self.limit)
            for _ in range(max(0, int(self.weights.get(file.stem, 1)))):
                yield from corpus(nlp)


def create_weighted_corpus_reader(path: Optional[Path], weights: Dict[str, int] = {}, max_length: int = 0, limit: int = 0) -> Callable[[Language], Iterator[Example]]:
    """`spacy-medical.WeightedCorpus.v1`: all `.spacy` files of `path`, file `stem` repeated `weights[stem]` times."""
    return WeightedCorpus(path, dict(weights), max_length=max_length, limit=limit)
