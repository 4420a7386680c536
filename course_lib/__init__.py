"""course_lib: the models, data and helpers that the chapters of *Sequence to Sequence, from RNNs to T5* import.

One module per concept. Models: ``rnn``, ``seq2seq``, ``decoding``, ``attention``, ``transformer``,
``bert``, ``pretraining``, ``t5``, ``bart``, ``noising``, ``text_to_text``. Data: ``data`` (text to
padded batches), ``tasks`` (the generated tasks), ``en_ko_grammar`` (the English→Korean grammar).
Around them: ``inputs`` (checks on token ids and lengths), ``train``, ``metrics``, ``recipes``,
``plots``, ``tables``, ``checkpoints``, ``device``, ``benchmark_results``, and
``assignment_parts`` (the assignments grade each part on its own). Import what a chapter
needs from its module; the two helpers every chapter uses are re-exported here.
"""
from course_lib.device import get_device, seed_everything

__version__ = "0.1.0"
__all__ = ["get_device", "seed_everything", "__version__"]
