"""The one prompt format for all seven tasks, and how samples become token sequences.

Every task is one causal sequence::

    <bos> <task> [<boi> IMAGE <eoi>] [TEXT] <sep> ANSWER

    ANSWER := TEXT <eos>             spot, recognize, ask, caption
            | <boi> PATCHES          render, fill, erase

``IMAGE`` is the vision encoder's tokens for the input picture (one per image patch,
after merging; see model.py); ``TEXT`` is
character tokens (printable ASCII, one token per character); ``PATCHES`` are the output
picture's pixel patches, generated one after another by the diffusion head — the hidden
state at ``<boi>`` predicts patch 1, the state at patch k predicts patch k+1.

==========  =====================  ===========================  =========================
task        input image            input text                   answer
==========  =====================  ===========================  =========================
spot        the picture            —                            ``x0,y0,x1,y1 word``
                                                                (the word's box, pixels)
recognize   the picture            —                            the text
ask         the picture            the question                 the answer
caption     the picture            —                            a short description
render      —                      the text to draw             the picture
fill        picture, text masked   the text to put in the mask  the picture
erase       the picture            —                            the picture without text
==========  =====================  ===========================  =========================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

SPECIALS = ["<pad>", "<bos>", "<eos>", "<sep>", "<boi>", "<eoi>"]
TASKS = ["spot", "recognize", "ask", "caption", "render", "fill", "erase"]
IMAGE_OUTPUT_TASKS = {"render", "fill", "erase"}
CHARS = [chr(c) for c in range(32, 127)]
VOCAB = SPECIALS + [f"<{t}>" for t in TASKS] + CHARS
TOKEN_ID = {token: i for i, token in enumerate(VOCAB)}
PAD, BOS, EOS, SEP, BOI, EOI = (TOKEN_ID[s] for s in SPECIALS)
UNKNOWN_CHAR = "?"

# What each position of a sequence holds.
KIND_PAD, KIND_TEXT, KIND_IMAGE_IN, KIND_PATCH_OUT = 0, 1, 2, 3


def encode_text(text: str) -> list[int]:
    """Character tokens; characters outside printable ASCII become '?'."""
    return [TOKEN_ID.get(ch, TOKEN_ID[UNKNOWN_CHAR]) for ch in text]


def decode_text(ids) -> str:
    out = []
    for i in ids:
        i = int(i)
        if i == EOS:
            break
        token = VOCAB[i] if 0 <= i < len(VOCAB) else ""
        if len(token) == 1:
            out.append(token)
    return "".join(out)


@dataclass
class Sample:
    """One task instance. Images are float arrays (C, H, W) in [-1, 1]."""

    task: str
    input_image: Optional[np.ndarray] = None
    prompt_text: str = ""
    answer_text: Optional[str] = None
    answer_image: Optional[np.ndarray] = None

    @property
    def outputs_image(self) -> bool:
        return self.task in IMAGE_OUTPUT_TASKS


def sequence_of(sample: Sample, patches: int, max_text: int, with_answer: bool, input_patches: int = 0) -> list[tuple[int, int, int]]:
    """(kind, token id, character index) per position; image positions carry id PAD.

    ``patches``: output-image patches; ``input_patches``: vision-encoder tokens per input
    picture (0: the same as ``patches``). The character index numbers the characters of
    the prompt text (0, 1, ...) and of the answer (``max_text + 1``, ...; -1 elsewhere), so
    the network knows which letter of a word it is drawing or spelling without having to
    count tokens.
    """
    seq = [(KIND_TEXT, BOS, -1), (KIND_TEXT, TOKEN_ID[f"<{sample.task}>"], -1)]
    if sample.input_image is not None:
        seq += [(KIND_TEXT, BOI, -1)] + [(KIND_IMAGE_IN, PAD, -1)] * (input_patches or patches) + [(KIND_TEXT, EOI, -1)]
    seq += [(KIND_TEXT, t, i) for i, t in enumerate(encode_text(sample.prompt_text)[:max_text])]
    seq.append((KIND_TEXT, SEP, -1))
    if sample.outputs_image:
        seq.append((KIND_TEXT, BOI, patch_char_index(sample.task, 0, max_text)))
        if with_answer:
            seq += [(KIND_PATCH_OUT, PAD, patch_char_index(sample.task, k, max_text)) for k in range(1, patches)]
    elif with_answer:
        answer = encode_text(sample.answer_text or "")[:max_text] + [EOS]
        seq += [(KIND_TEXT, t, answer_char_index(i, max_text)) for i, t in enumerate(answer)]
    return seq


def answer_char_index(i: int, max_text: int) -> int:
    return max_text + 1 + i


# A render target leaves its first patch column blank and holds prompt letter k in column
# k + 1 (data.rendered_word); PP-OCRv4 read 95% of such targets back, 91.5% without the margin.
RENDER_MARGIN_PATCHES = 1


def patch_char_index(task: str, k: int, max_text: int) -> int:
    """The character index of the position that predicts output patch ``k``.

    The position that predicts the patch holding prompt letter i carries the prompt's
    index i, so attention fetches the letter to draw by matching indices instead of
    counting patches. Margins, and picture answers with no such layout, get -1.
    """
    letter = k - RENDER_MARGIN_PATCHES
    return letter if task == "render" and 0 <= letter < max_text else -1


@dataclass
class Batch:
    """Left-padded sequences plus the pictures that fill their image positions."""

    ids: torch.Tensor  # (B, L) token ids (PAD at image and padding positions)
    kinds: torch.Tensor  # (B, L) KIND_*
    attention_mask: torch.Tensor  # (B, L)
    char_index: torch.Tensor  # (B, L) index of the character in its prompt or answer, -1 elsewhere
    input_images: Optional[torch.Tensor]  # (n_in, C, H, W), samples with an input image, in order
    output_images: Optional[torch.Tensor]  # (n_out, C, H, W), image-answer samples, in order
    text_labels: torch.Tensor  # (B, L) the next token to predict, -100 where none
    patch_targets: torch.Tensor  # (B, L) bool: this position predicts an output patch
    output_modality: torch.Tensor  # (B,) 1 when the task answers with a picture
    tasks: list[str]
    # Per input picture, in order: the characters written on it when the task says so
    # (recognize), else empty; the vision encoder's auxiliary CTC loss reads them.
    input_texts: Optional[list[list[int]]] = None

    def to(self, device) -> "Batch":
        moved = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in self.__dict__.items()}
        return Batch(**moved)

    @property
    def position_ids(self) -> torch.Tensor:
        return (self.attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def collate(samples: list[Sample], patches: int, max_text: int, with_answer: bool = True, input_patches: int = 0) -> Batch:
    """Build one left-padded batch; with ``with_answer`` False the prompts end where the answer starts."""
    seqs = [sequence_of(s, patches, max_text, with_answer, input_patches) for s in samples]
    length = max(len(s) for s in seqs)
    b = len(samples)
    ids = torch.full((b, length), PAD, dtype=torch.long)
    kinds = torch.zeros((b, length), dtype=torch.long)
    char_index = torch.full((b, length), -1, dtype=torch.long)
    labels = torch.full((b, length), -100, dtype=torch.long)
    patch_targets = torch.zeros((b, length), dtype=torch.bool)
    for row, (sample, seq) in enumerate(zip(samples, seqs)):
        start = length - len(seq)
        ids[row, start:] = torch.tensor([t for _, t, _ in seq])
        kinds[row, start:] = torch.tensor([k for k, _, _ in seq])
        char_index[row, start:] = torch.tensor([c for _, _, c in seq])
        if not with_answer:
            continue
        if sample.outputs_image:
            # <boi> (last text position) and every patch but the last predict the next patch.
            patch_targets[row, length - patches:] = True
        else:
            answer_len = min(len(encode_text(sample.answer_text or "")), max_text) + 1
            sep_at = length - answer_len - 1
            labels[row, sep_at:length - 1] = ids[row, sep_at + 1:]
    attention_mask = (kinds != KIND_PAD).long()

    def stack(images):
        return torch.from_numpy(np.stack(images)).float() if images else None

    return Batch(
        ids=ids, kinds=kinds, attention_mask=attention_mask, char_index=char_index,
        input_images=stack([s.input_image for s in samples if s.input_image is not None]),
        output_images=stack([s.answer_image for s in samples if s.outputs_image and with_answer]),
        text_labels=labels, patch_targets=patch_targets,
        output_modality=torch.tensor([int(s.outputs_image) for s in samples]),
        tasks=[s.task for s in samples],
        input_texts=[encode_text(s.answer_text or "")[:max_text] if s.task == "recognize" else []
                     for s in samples if s.input_image is not None],
    )
