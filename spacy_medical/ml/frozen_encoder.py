"""Initialize a frozen encoder that is not sourced from a trained pipeline.

`spacy train` skips `initialize` for the components in `training.frozen_components`, expecting
them to be sourced, trained, from another pipeline. The diagnosis classifier freezes the MiniLM
encoder straight from its package (configs/dx_trf.cfg): this `before_init` callback loads its
weights and links its listeners, so no intermediate pipeline has to be assembled first.
"""
from typing import Callable, List

from spacy.language import Language


def make_initialize_frozen(components: List[str]) -> Callable[[Language], Language]:
    """RETURNS (Callable[[Language], Language]): A `before_init` callback initializing `components`."""

    def initialize_frozen(nlp: Language) -> Language:
        for name in components:
            pipe = nlp.get_pipe(name)
            # Transformer.initialize needs no examples: it loads the weights from the package.
            pipe.initialize(lambda: [], nlp=nlp)
            # Its listeners were linked before the weights gave the encoder a width, and the
            # frozen pipe is disabled during initialization, so initialize() cannot pass it on.
            for listener in getattr(pipe, "listeners", []):
                if listener.has_dim("nO") is None:
                    listener.set_dim("nO", pipe.model.get_dim("nO"))
        return nlp

    return initialize_frozen
