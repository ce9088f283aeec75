"""Key-value pairing: the MiniLM wording model behind the form ranker, real weights."""

import shutil

import numpy as np
import pytest

from ocromni.errors import ModelError
from ocromni.qa.features import Document
from ocromni.qa.model import SentenceEncoder, default_weights_dir
from ocromni.qa.pairing import PAIRING_FILE, Pairing, fit, training_groups

pytestmark = pytest.mark.skipif(not (default_weights_dir() / PAIRING_FILE).is_file(), reason="QA weights not built")


@pytest.fixture(scope="module")
def encoder():
    return SentenceEncoder()


@pytest.fixture(scope="module")
def shipped(encoder):
    return Pairing.load(default_weights_dir(), encoder)


def scores(pairing, key, texts):
    return pairing.features(Document(source="test", words=[]), key, texts)


def test_shipped_pairing_reads_what_a_key_asks_for(shipped):
    # None of these texts is on a FUNSD form; the layout is the same for all three.
    texts = ["June 14, 1988", "Dr. Alan Brooks", "SIGNATURE:"]
    assert scores(shipped, "DATE:", texts)[:, 0].argmax() == 0
    assert scores(shipped, "Prepared by:", texts)[:, 0].argmax() == 1
    features = scores(shipped, "DATE:", texts)
    assert features.shape == (3, 4)
    assert features[:, 1].max() == 0.0 and features[:, 3].max() == 0.0  # gaps to the best


def test_pairing_round_trips_through_its_file(shipped, encoder, tmp_path):
    shipped.save(tmp_path)
    again = Pairing.load(tmp_path, encoder)
    texts = ["12 mg", "Tar", "Kent Golden Lights"]
    np.testing.assert_allclose(scores(again, "BRAND:", texts), scores(shipped, "BRAND:", texts), rtol=1e-6)
    assert Pairing.load(tmp_path / "nothing here", encoder) is None


def entity(id_, text, label, box, linking=()):
    return {"id": id_, "text": text, "label": label, "box": box, "linking": [list(pair) for pair in linking]}


def form(date, name, title):
    """A tiny FUNSD-style form: DATE: and NAME: each linked to its answer, and a heading."""
    return [
        entity(0, title, "header", [100, 20, 500, 60]),
        entity(1, "DATE:", "question", [40, 100, 120, 120], [(1, 2)]),
        entity(2, date, "answer", [130, 100, 300, 120], [(1, 2)]),
        entity(3, "NAME:", "question", [40, 140, 120, 160], [(3, 4)]),
        entity(4, name, "answer", [130, 140, 300, 160], [(3, 4)]),
    ]


def test_fit_learns_which_text_answers_which_key(encoder):
    forms = [form("March 3, 1992", "Robert Smith", "PURCHASE ORDER"), form("10/22/85", "Mary Jones", "RESEARCH REQUEST"),
             form("July 1, 1979", "Dr. J. Brown", "MEMORANDUM"), form("1-26-95", "Anna Lee", "FAX COVER SHEET")]
    [date_group, _] = training_groups(forms[0])
    assert date_group == ("DATE:", ["March 3, 1992"], ["NAME:", "Robert Smith", "PURCHASE ORDER"])  # nearest first
    pairing = fit(forms, encoder)
    unseen = ["Thomas Green", "September 9, 1990"]
    assert scores(pairing, "DATE:", unseen)[:, 0].argmax() == 1
    assert scores(pairing, "NAME:", unseen)[:, 0].argmax() == 0


def test_rankers_without_their_pairing_say_how_to_retrain(tmp_path):
    from ocromni.qa.reader import Reader

    for name in ("config.json", "qa.safetensors", "ranker.json"):
        shutil.copy(default_weights_dir() / name, tmp_path / name)
    with pytest.raises(ModelError, match="ranker_train"):
        Reader.load(str(tmp_path))
