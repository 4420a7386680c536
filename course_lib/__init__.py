"""course_lib: the models, data and helpers that the chapters of *Sequence to Sequence, from RNNs to T5* import.

One module per concept (``rnn``, ``seq2seq``, ``decoding``, ``attention``, ``transformer``,
``bert``, ``pretraining``, ``t5``, ``bart``, ``noising``, ``text_to_text``, ``data``, ``train``,
``plots``, ``tables``, ``checkpoints``). Import what a chapter needs from its module; the two helpers every chapter uses are re-exported here.
"""
from course_lib.device import get_device, seed_everything

__version__ = "0.1.0"
__all__ = ["get_device", "seed_everything", "__version__"]
