"""Bad inputs: one clear stderr line naming the file, no traceback, the batch goes on."""

import json

import pytest

import awkward_files
from conftest import EXAMPLE_RECEIPT, run_cli

# (maker, words the reason must contain)
CASES = {
    "missing_file": ("no such file",),
    "empty_dir": ("no supported images",),
    "not_an_image": ("not a readable image",),
    "truncated_image": ("truncated",),
    "zero_byte_file": ("empty",),
    "corrupt_pdf": ("corrupt",),
    "encrypted_pdf": ("encrypted",),
    "decompression_bomb": ("pixels", "limit"),
    "unsupported_extension": ("unsupported",),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_reported_and_batch_goes_on(case, tmp_path):
    bad = getattr(awkward_files, case)(tmp_path)
    result = run_cli("detect", bad, EXAMPLE_RECEIPT, "--format", "jsonl")

    assert result.returncode == 4, result.stderr  # partial failure
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1, result.stderr
    assert str(bad) in error_lines[0]
    for word in CASES[case]:
        assert word in error_lines[0].lower()
    assert "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in records] == [str(EXAMPLE_RECEIPT)]
    assert records[0]["regions"], "the good input was still processed"


def test_all_inputs_bad_exits_3_and_writes_nothing(tmp_path):
    out = tmp_path / "out.json"
    bad = [awkward_files.missing_file(tmp_path), awkward_files.zero_byte_file(tmp_path)]
    result = run_cli("recognize", *bad, "-o", out)
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 2
    assert not out.exists()
    assert list(tmp_path.glob("*.json*")) == [] and list(tmp_path.glob(".*tmp*")) == []


def test_existing_output_is_kept_without_overwrite(tmp_path):
    out = tmp_path / "out.json"
    out.write_text("precious")
    result = run_cli("recognize", EXAMPLE_RECEIPT, "-o", out)
    assert result.returncode == 6
    assert "--overwrite" in result.stderr
    assert out.read_text() == "precious"
    assert run_cli("recognize", EXAMPLE_RECEIPT, "-o", out, "--overwrite").returncode == 0
    assert json.loads(out.read_text())[0]["source"] == str(EXAMPLE_RECEIPT)


def test_bad_page_range_is_a_usage_error(tmp_path):
    pdf = awkward_files.multipage_pdf(tmp_path, 3)
    result = run_cli("recognize", pdf, "--pages", "3-1")
    assert result.returncode == 2
    assert "3-1" in result.stderr and "Traceback" not in result.stderr
