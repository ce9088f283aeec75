"""Document question answering over OCR words, with evidence.

ranker.py (question routing and the candidate rankers that answer totals, dates,
companies, addresses and form keys), features.py + model.py + answer.py (the LayoutQA
span model, for questions whose key the document does not print), reader.py (all of it
together), synthetic.py (synthetic documents), ranker_train.py + train.py (training).
Importing this package imports neither torch nor transformers.
"""
