"""The model folder: hashes, the id derived from them, refusing what cannot be trusted."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.models import ModelError, load_model


@pytest.fixture
def copy(tiny_model, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_model[0], folder)
    return folder


def test_loading_refuses_foreign_types(copy):
    import skops.io as sio

    from pipeline.modelling.folder import sha256_file

    class Evil:  # a type no model should contain
        pass

    sio.dump({"x": Evil()}, copy / "relation.skops")
    card = json.loads((copy / "card.json").read_text())
    card["files"]["relation.skops"] = sha256_file(copy / "relation.skops")  # a consistent, but foreign, folder
    (copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="untrusted"):
        load_model(copy)


def test_loading_refuses_tampered_file(copy):
    with open(copy / "sentence.skops", "ab") as fh:
        fh.write(b"junk")
    with pytest.raises(ModelError, match="tampered"):
        load_model(copy)


def test_model_id_comes_from_the_files_not_the_card(copy, tiny_model):
    card = json.loads((copy / "card.json").read_text())
    card["model_id"] = "genuine-0000000000"
    (copy / "card.json").write_text(json.dumps(card))
    assert load_model(copy).model_id == tiny_model[1]


@pytest.mark.parametrize("card", ["[]", '{"model_file": null}', '{"files": {}}', "{not json",
                                  '{"files": {"sentence.skops": "abc", "relation.skops": "def"}}'])
def test_cards_without_hashes_or_malformed_are_refused(copy, card):
    (copy / "card.json").write_text(card)
    with pytest.raises(ModelError):
        load_model(copy)


def test_missing_folder_and_missing_file(tmp_path, copy):
    with pytest.raises(ModelError, match="no such model folder"):
        load_model(tmp_path / "nothing")
    (copy / "relation.skops").unlink()
    with pytest.raises(ModelError, match="no relation.skops"):
        load_model(copy)
