"""Document question answering: a small layout-aware extractive QA model over OCR words.

features.py (words -> model inputs), model.py (the network), answer.py (decoding,
clean-up, evidence), reader.py (the three together), synthetic.py + train.py (training).
Importing this package imports neither torch nor transformers.
"""
