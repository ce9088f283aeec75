"""The QA predictor: features (preprocess) + LayoutQA (model) + answer decoding (postprocess).

    reader = Reader.load()                       # the weights inside the package
    document = document_from_pages(page_texts)   # ocromni.recognize() output, all pages
    for answer in reader.answer(document, ["What is the total?", "date?"]):
        print(answer.to_dict())

Every question about a document goes through the model in one batch; the document's
word pieces and layout features are made once and shared by its questions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from ocromni.qa.answer import Answer, decide, window_candidates
from ocromni.qa.features import Document, collate, make_windows

BATCH_WINDOWS = 16


class Reader:
    """A loaded QA model with its tokenizer; build once, reuse for every document."""

    def __init__(self, model, tokenizer, sentences, device: str = "cpu"):
        self.model = model
        self.sentences = sentences
        self.table = model.pieces.cpu().numpy()
        self.tokenizer = tokenizer
        self.device = device
        self.config = model.config

    @classmethod
    def load(cls, weights: Optional[str] = None, device: str = "cpu") -> "Reader":
        from ocromni.errors import ModelError
        from ocromni.qa.model import CONFIG_FILE, LayoutQA, SentenceEncoder, default_weights_dir, load_tokenizer

        directory = Path(weights) if weights else default_weights_dir()
        if not (directory / CONFIG_FILE).is_file():
            raise ModelError(reason=f"no QA weights in {directory}; train them with: python -m ocromni.qa.train --out {directory}")
        model = LayoutQA.from_pretrained(directory).to(device)
        return cls(model, load_tokenizer(), SentenceEncoder(device), device)

    def answer(self, document: Document, questions: Sequence[str]) -> list[Answer]:
        """One Answer per question, in order."""
        import torch

        windows = []
        for index, question in enumerate(questions):
            windows.extend(make_windows(self.tokenizer, self.table, document, question, max_words=self.config["max_words"],
                                        word_stride=self.config["word_stride"], question_index=index))
        candidates: list[list] = [[] for _ in questions]
        with torch.inference_mode():
            for begin in range(0, len(windows), BATCH_WINDOWS):
                batch = windows[begin:begin + BATCH_WINDOWS]
                tensors = {k: v.to(self.device) for k, v in collate(batch, self.sentences).items()}
                starts, ends = self.model(**tensors)
                starts, ends = starts.float().cpu().numpy(), ends.float().cpu().numpy()
                for row, window in enumerate(batch):
                    candidates[window.question_index].extend(window_candidates(
                        starts[row], ends[row], window.size, window.first_word, document,
                        questions[window.question_index], self.config["max_answer_words"],
                    ))
        return [decide(document, question, candidates[i]) for i, question in enumerate(questions)]
