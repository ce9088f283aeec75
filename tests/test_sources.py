"""ocromni.io.sources: every way an input can arrive, and every way it can be broken."""

from __future__ import annotations

import io
import os
import tracemalloc

import numpy as np
import pymupdf
import pytest
from PIL import Image

import awkward_files as files
from conftest import EXAMPLE_RECEIPT
from ocromni import errors
from ocromni.io import sources
from ocromni.io.sources import (
    DEFAULT_MAX_PIXELS,
    IMAGE_SUFFIXES,
    PageSelection,
    expand_inputs,
    iter_pages,
    parse_page_range,
)


def collect(inputs, **kwargs):
    """Run iter_pages with an error collector: (pages, errors)."""
    found_errors = []
    pages = list(iter_pages(inputs, on_error=found_errors.append, **kwargs))
    return pages, found_errors


def ink_bbox(image: np.ndarray, threshold: int = 128) -> list[int]:
    """[x0, y0, x1, y1] (exclusive end) around the dark pixels."""
    ys, xs = np.nonzero(image.min(axis=2) < threshold)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def test_constants():
    assert {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"} == IMAGE_SUFFIXES
    assert DEFAULT_MAX_PIXELS >= 50_000_000


# --- awkward inputs: one error each, the rest of the batch goes on ------------------------------

BAD_INPUTS = [
    (files.missing_file, errors.MissingInputError),
    (files.empty_dir, errors.NoImagesError),
    (files.not_an_image, errors.NotAnImageError),
    (files.truncated_image, errors.TruncatedImageError),
    (lambda d: files.truncated_image(d, fmt="jpeg"), errors.TruncatedImageError),
    (files.zero_byte_file, errors.EmptyFileError),
    (files.corrupt_pdf, errors.CorruptPdfError),
    (files.encrypted_pdf, errors.EncryptedPdfError),
    (files.decompression_bomb, errors.ImageTooLargeError),
    (files.unsupported_extension, errors.UnsupportedFormatError),
]


@pytest.mark.parametrize("make_bad, error_type", BAD_INPUTS, ids=lambda v: getattr(v, "__name__", None))
def test_bad_input_is_reported_and_batch_goes_on(tmp_path, make_bad, error_type):
    before = files.text_image(tmp_path, name="before.png")
    bad = make_bad(tmp_path)
    after = files.multipage_pdf(tmp_path, 2)
    pages, found = collect([before, bad, str(after)])

    assert [(p.source, p.page_no) for p in pages] == [(str(before), 1), (str(after), 1), (str(after), 2)]
    assert len(found) == 1
    err = found[0]
    assert type(err) is error_type
    assert isinstance(err, errors.InputError) and err.exit_code == errors.ExitCode.input_error
    assert err.path == str(bad)
    assert str(bad) in str(err)
    assert "Traceback" not in str(err)


@pytest.mark.parametrize("make_bad, error_type", BAD_INPUTS, ids=lambda v: getattr(v, "__name__", None))
def test_bad_input_raises_without_on_error(tmp_path, make_bad, error_type):
    bad = make_bad(tmp_path)
    with pytest.raises(error_type, match=str(bad).replace("\\", "\\\\")):
        list(iter_pages([bad]))


def test_bomb_error_carries_numbers_and_is_caught_before_decoding(tmp_path):
    bomb = files.decompression_bomb(tmp_path)
    assert bomb.stat().st_size < 200_000
    _, (err,) = collect([bomb])
    assert err.details["pixels"] == 30_000 * 30_000
    assert err.details["limit"] == DEFAULT_MAX_PIXELS
    assert "--max-pixels" in str(err)


def test_max_pixels_applies_to_ordinary_images(tmp_path):
    small = files.text_image(tmp_path, name="small.png", size=(50, 20))
    big = files.text_image(tmp_path, name="big.png", size=(400, 100))
    pages, (err,) = collect([small, big], max_pixels=10_000)
    assert [p.source for p in pages] == [str(small)]
    assert isinstance(err, errors.ImageTooLargeError) and err.details["pixels"] == 40_000


def test_empty_dir_hint_suggests_recursive_only_when_subfolders_have_images(tmp_path):
    folder = files.empty_dir(tmp_path)
    _, (err,) = collect([folder])
    assert "--recursive" not in str(err)
    (folder / "sub").mkdir()
    files.text_image(folder / "sub", name="deep.png")
    _, (err,) = collect([folder])
    assert isinstance(err, errors.NoImagesError) and "--recursive" in str(err)
    pages, found = collect([folder], recursive=True)
    assert not found and [p.source for p in pages] == [os.path.join(str(folder), "sub", "deep.png")]


# --- content decides, not the name ---------------------------------------------------------------


def test_format_is_detected_by_content(tmp_path):
    png_as_jpg = files.text_image(tmp_path, name="really_png.jpg")
    png = files.text_image(tmp_path, name="image.png")
    no_suffix = tmp_path / "scan"
    no_suffix.write_bytes(png.read_bytes())
    odd_suffix = tmp_path / "scan.dat"
    odd_suffix.write_bytes(png.read_bytes())
    pdf_as_bin = tmp_path / "doc.bin"
    pdf_as_bin.write_bytes(files.multipage_pdf(tmp_path, 2).read_bytes())
    pages, found = collect([png_as_jpg, no_suffix, odd_suffix, pdf_as_bin])
    assert not found
    assert [(os.path.basename(p.source), p.page_no) for p in pages] == [
        ("really_png.jpg", 1), ("scan", 1), ("scan.dat", 1), ("doc.bin", 1), ("doc.bin", 2)
    ]
    assert pages[-1].dpi == 200


def test_unknown_content_without_suffix_is_unsupported(tmp_path):
    blob = tmp_path / "README"
    blob.write_text("just text")
    _, (err,) = collect([blob])
    assert isinstance(err, errors.UnsupportedFormatError) and "README" in str(err)


def test_pdf_named_file_without_pdf_content_is_corrupt(tmp_path):
    fake = tmp_path / "fake.pdf"
    fake.write_text("not a pdf at all")
    _, (err,) = collect([fake])
    assert isinstance(err, errors.CorruptPdfError)


# --- page ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, expected",
    [
        (None, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ("1", [1]),
        ("1,3-5", [1, 3, 4, 5]),
        ("7-", [7, 8, 9, 10]),
        ("-3", [1, 2, 3]),
        (" 2 , 9 - 12 ", [2, 9, 10]),
        ("5,1,5", [1, 5]),
        ("11-", []),
    ],
)
def test_parse_page_range_valid(spec, expected):
    selection = parse_page_range(spec)
    assert isinstance(selection, PageSelection)
    assert selection.select(10) == expected


@pytest.mark.parametrize("spec", ["", "  ", "0", "0-3", "5-3", "a", "1,,2", "1,", "1-2-3", "-", "3-x", "²"])
def test_parse_page_range_invalid(spec):
    with pytest.raises(errors.PageRangeError) as caught:
        parse_page_range(spec)
    assert repr(spec) in str(caught.value)
    assert caught.value.exit_code == errors.ExitCode.usage_error


def test_bad_page_range_raises_when_iter_pages_is_called(tmp_path):
    with pytest.raises(errors.PageRangeError):
        iter_pages([files.missing_file(tmp_path)], pages="3-1")  # no next(): raised eagerly


# --- globs, folders, stdin, in-memory ------------------------------------------------------------


def make_folder(tmp_path):
    folder = tmp_path / "scans"
    (folder / "sub").mkdir(parents=True)
    for name in ["b.png", "a.jpg", "c.png"]:
        files.text_image(folder, name=name, size=(60, 30))
    files.text_image(folder / "sub", name="d.png", size=(60, 30))
    (folder / "notes.txt").write_text("skip me")
    files.text_image(folder, name=".hidden.png", size=(60, 30))
    return folder


def test_glob_is_expanded_sorted(tmp_path):
    folder = make_folder(tmp_path)
    pattern = os.path.join(str(folder), "*.png")
    assert list(expand_inputs([pattern])) == [os.path.join(str(folder), n) for n in ["b.png", "c.png"]]
    recursive_pattern = os.path.join(str(folder), "**", "*.png")
    assert [os.path.basename(p) for p in expand_inputs([recursive_pattern])] == ["b.png", "c.png", "d.png"]


def test_glob_matching_nothing_is_missing(tmp_path):
    good = files.text_image(tmp_path)
    pattern = os.path.join(str(tmp_path), "*.tif")
    pages, (err,) = collect([pattern, good])
    assert isinstance(err, errors.MissingInputError) and pattern in str(err)
    assert [p.source for p in pages] == [str(good)]


def test_folder_lists_supported_files_sorted(tmp_path):
    folder = make_folder(tmp_path)
    flat = list(expand_inputs([str(folder)]))
    assert flat == [os.path.join(str(folder), n) for n in ["a.jpg", "b.png", "c.png"]]
    deep = list(expand_inputs([folder], recursive=True))
    assert deep == flat + [os.path.join(str(folder), "sub", "d.png")]
    pages, found = collect([folder], recursive=True)
    assert not found and [p.source for p in pages] == deep


def test_stdin_dash_reads_paths(tmp_path):
    one = files.text_image(tmp_path, name="one.png")
    two = files.text_image(tmp_path, name="two.png")
    missing = files.missing_file(tmp_path)
    stdin = io.StringIO(f"{one}\n\n   \n{missing}\r\n{two}\n")
    pages, (err,) = collect(["-"], stdin=stdin)
    assert [p.source for p in pages] == [str(one), str(two)]
    assert isinstance(err, errors.MissingInputError) and err.path == str(missing)


def test_in_memory_arrays_and_pil_images():
    rgb = np.zeros((20, 30, 3), np.uint8)
    gray = np.full((10, 15), 200, np.uint8)
    rgba = np.zeros((5, 6, 4), np.uint8)  # fully transparent: white
    pil = Image.new("L", (8, 4), 100)
    pages, found = collect([rgb, gray, rgba, pil, np.zeros((3, 3), np.float32)])
    assert [p.source for p in pages] == ["<array 0>", "<array 1>", "<array 2>", "<array 3>"]
    assert [(p.width, p.height) for p in pages] == [(30, 20), (15, 10), (6, 5), (8, 4)]
    assert all(p.image.dtype == np.uint8 and p.image.shape == (p.height, p.width, 3) for p in pages)
    assert (pages[1].image == 200).all() and (pages[2].image == 255).all() and (pages[3].image == 100).all()
    (err,) = found
    assert isinstance(err, errors.NotAnImageError) and "<array 4>" in str(err)


def test_single_path_and_path_objects(tmp_path):
    image = files.text_image(tmp_path)
    assert [p.source for p in iter_pages(str(image))] == [str(image)]
    assert [p.source for p in iter_pages([image])] == [str(image)]


def test_stream_is_lazy_across_inputs(tmp_path):
    good = files.text_image(tmp_path)
    stream = iter_pages([good, files.missing_file(tmp_path)])  # no on_error: the 2nd input raises
    assert next(stream).source == str(good)  # reached before the missing file is looked at
    with pytest.raises(errors.MissingInputError):
        next(stream)


# --- images: orientation, frames, modes ---------------------------------------------------------


def test_exif_orientation_is_applied(tmp_path):
    (page,) = iter_pages([files.exif_rotated_jpeg(tmp_path)])
    assert (page.width, page.height) == (100, 200)
    image = page.image
    assert image.shape == (200, 100, 3)
    top_right, top_left = image[5:30, 70:95].mean(axis=(0, 1)), image[5:30, 5:30].mean(axis=(0, 1))
    assert top_right[0] > 200 and top_right[1] < 60 and top_right[2] < 60  # red
    assert top_left.min() > 230  # white


def test_large_jpeg_is_checked_in_place_and_decoded_when_read(tmp_path, monkeypatch):
    # Every JPEG counts as large here, so the small test files take the large-JPEG path.
    monkeypatch.setattr(sources, "DECODE_LATER_PIXELS", 0)
    truncated = files.truncated_image(tmp_path, fmt="jpeg")
    rotated = files.exif_rotated_jpeg(tmp_path)
    pages, found = collect([truncated, rotated])
    assert [type(e) for e in found] == [errors.TruncatedImageError] and found[0].path == str(truncated)
    (page,) = pages
    assert page._image is None  # nothing decoded while the batch gathers
    assert (page.width, page.height) == (100, 200)
    image = page.image
    assert image.shape == (200, 100, 3)
    assert image[5:30, 70:95].mean(axis=(0, 1))[0] > 200  # EXIF turn applied, red at top right


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_grey_image_decodes_to_pils_rgb_strip_by_strip(tmp_path, monkeypatch, suffix):
    # Grey pages are spread into RGB without PIL's whole-image convert("RGB"); the pixels
    # must be the same, strips and all (STRIP_ROWS smaller than the image).
    monkeypatch.setattr(sources, "STRIP_ROWS", 7)
    rng = np.random.default_rng(3)
    grey = Image.fromarray(rng.integers(0, 256, (50, 80), dtype=np.uint8), "L")
    path = tmp_path / f"grey{suffix}"
    grey.save(path)
    (page,) = iter_pages([path])
    with Image.open(path) as reference:
        expected = np.asarray(reference.convert("RGB"))
    assert page.image.shape == (50, 80, 3)
    assert np.array_equal(page.image, expected)


def test_multipage_tiff_pages_and_selection(tmp_path):
    tiff = files.multipage_tiff(tmp_path)
    pages, found = collect([tiff])
    assert not found
    assert [(p.page_no, p.page_count, p.width, p.height) for p in pages] == [
        (1, 3, 200, 100), (2, 3, 150, 120), (3, 3, 100, 80)
    ]
    assert pages[1].image.shape == (120, 150, 3) and pages[1].dpi is None
    selected, _ = collect([tiff], pages="2-")
    assert [p.page_no for p in selected] == [2, 3]


def test_animated_gif_gives_first_frame_only(tmp_path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (20, 10), colour) for colour in ["red", "blue", "green"]]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    (page,) = iter_pages([path])
    assert page.page_count == 1
    assert tuple(page.image[5, 10]) == (255, 0, 0)


def test_release_then_reload_decodes_again(tmp_path):
    (page,) = iter_pages([files.text_image(tmp_path)])
    first = page.image.copy()
    page.release()
    assert np.array_equal(page.image, first)


def save(image: Image.Image, path, **kwargs):
    image.save(path, **kwargs)
    return path


@pytest.mark.parametrize(
    "name, make, expected",
    [
        ("cmyk.jpg", lambda: Image.new("CMYK", (8, 8), (0, 255, 255, 0)), (255, 0, 0)),
        ("cmyk.tiff", lambda: Image.new("CMYK", (8, 8), (0, 0, 0, 255)), (0, 0, 0)),
        ("palette.png", lambda: Image.new("RGB", (8, 8), (0, 0, 255)).convert("P"), (0, 0, 255)),
        ("rgba.png", lambda: Image.new("RGBA", (8, 8), (0, 0, 0, 0)), (255, 255, 255)),
        ("half.png", lambda: Image.new("RGBA", (8, 8), (0, 0, 0, 128)), (127, 127, 127)),
        ("la.png", lambda: Image.new("LA", (8, 8), (0, 0)), (255, 255, 255)),
        ("bilevel.png", lambda: Image.new("1", (8, 8), 1), (255, 255, 255)),
        ("gray.bmp", lambda: Image.new("L", (8, 8), 90), (90, 90, 90)),
        ("gray16.png", lambda: Image.new("I;16", (8, 8), 32768), (128, 128, 128)),
        ("white16.png", lambda: Image.new("I;16", (8, 8), 65535), (255, 255, 255)),
        ("rgb.webp", lambda: Image.new("RGB", (8, 8), (0, 255, 0)), (0, 255, 0)),
    ],
)
def test_modes_convert_to_rgb_uint8(tmp_path, name, make, expected):
    path = save(make(), tmp_path / name, **({"lossless": True} if name.endswith(".webp") else {}))
    (page,) = iter_pages([path])
    image = page.image
    assert image.dtype == np.uint8 and image.shape == (8, 8, 3) and image.flags.writeable
    assert np.abs(image[4, 4].astype(int) - expected).max() <= 3


def test_palette_transparency_goes_on_white(tmp_path):
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    path = save(image, tmp_path / "ptrans.png", transparency=1)
    (page,) = iter_pages([path])
    assert tuple(page.image[0, 0]) == (255, 255, 255)


# --- PDFs ----------------------------------------------------------------------------------------


def test_pdf_pages_selection_and_sizes(tmp_path):
    pdf = files.multipage_pdf(tmp_path, 5)  # 300 x 200 pt pages
    pages, found = collect([pdf], pages="2,4-", dpi=144)
    assert not found
    assert [(p.page_no, p.page_count, p.dpi, p.width, p.height) for p in pages] == [
        (n, 5, 144, 600, 400) for n in (2, 4, 5)
    ]
    assert pages[0].image.shape == (400, 600, 3)


def test_pdf_pages_render_lazily_and_document_closes_when_stream_moves_on(tmp_path, monkeypatch):
    opened, renders = [], []

    class SpyPdf(sources.PdfFile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

        def render(self, index, dpi):
            renders.append(index)
            return super().render(index, dpi)

    monkeypatch.setattr(sources, "PdfFile", SpyPdf)
    first, second = files.multipage_pdf(tmp_path, 3, name="a.pdf"), files.multipage_pdf(tmp_path, 2, name="b.pdf")
    stream = iter_pages([first, second])
    page = next(stream)
    assert renders == [] and len(opened) == 1 and opened[0].is_open
    rest = list(stream)
    assert renders == [] and len(rest) == 4  # nothing rendered that nobody looked at
    assert len(opened) == 2 and not any(pdf.is_open for pdf in opened)
    # A page kept past its document's turn still renders (the file is reopened for it).
    assert page.image.shape == (page.height, page.width, 3) and renders == [0]
    assert not opened[0].is_open


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
@pytest.mark.parametrize("dpi", [72, 150])
def test_pdf_size_matches_render(tmp_path, rotation, dpi):
    doc = pymupdf.open()
    page = doc.new_page(width=333.3, height=222.7)
    page.set_rotation(rotation)
    path = tmp_path / "odd.pdf"
    doc.save(path)
    (page,) = iter_pages([path], dpi=dpi)
    assert page.image.shape == (page.height, page.width, 3)


def test_pdf_500_pages_stream_in_flat_memory(tmp_path):
    pdf = files.multipage_pdf(tmp_path, 500, page_size=(300, 300))
    page_bytes = 600 * 600 * 3  # one page at 144 dpi
    tracemalloc.start()
    try:
        count = 0
        for page in iter_pages([pdf], dpi=144):
            assert page.image.shape == (600, 600, 3)
            page.release()
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 500
    assert peak < 10 * page_bytes, f"peak {peak / 1e6:.1f} MB: pages are being kept"


def test_pdf_page_above_max_pixels_is_one_error(tmp_path):
    doc = pymupdf.open()
    for size in [(100, 100), (1000, 1000), (100, 100)]:
        doc.new_page(width=size[0], height=size[1])
    path = tmp_path / "mixed.pdf"
    doc.save(path)
    pages, found = collect([path], dpi=72, max_pixels=50_000)
    assert [p.page_no for p in pages] == [1, 3]
    (err,) = found
    assert isinstance(err, errors.ImageTooLargeError) and err.details["page"] == 2
    assert err.details["pixels"] == 1_000_000 and str(path) in str(err)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_pdf_text_layer_lands_on_rendered_text(tmp_path, rotation):
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=300)
    page.insert_text((60, 100), "Invoice total", fontsize=28)
    page.insert_text((60, 200), "Paid", fontsize=28)
    page.set_rotation(rotation)
    path = tmp_path / f"rot{rotation}.pdf"
    doc.save(path)

    (page,) = iter_pages([path], dpi=100)
    lines = page.text_layer
    assert [line.text for line in lines] == ["Invoice total", "Paid"]
    assert [w.text for w in lines[0].words] == ["Invoice", "total"]
    assert all(w.confidence == 1.0 for line in lines for w in line.words)

    image = page.image
    for line in lines:
        x0, y0, x1, y1 = line.bbox
        assert line.polygon == [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]  # clockwise from top-left
        crop = image[int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))]
        ink = ink_bbox(crop)
        # The ink fills the line's box along the text, and most of it across (the box
        # also holds ascender/descender room).
        along, across = (0, 1) if rotation in (0, 180) else (1, 0)  # x or y
        box_size = [x1 - x0, y1 - y0]
        ink_size = [ink[2] - ink[0], ink[3] - ink[1]]
        assert ink_size[along] > 0.9 * box_size[along]
        assert ink_size[across] > 0.4 * box_size[across]
    # All ink on the page lies inside the text layer's boxes.
    mask = image.min(axis=2) < 128
    for line in lines:
        x0, y0, x1, y1 = line.bbox
        mask[int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))] = False
    assert not mask.any()


def test_pdf_without_text_or_with_text_layer_off(tmp_path):
    (page,) = iter_pages([files.multipage_pdf(tmp_path, 1, with_text_layer=False)])
    assert page.text_layer is None
    assert page.image.min() == 0  # the page has ink all the same
    (page,) = iter_pages([files.multipage_pdf(tmp_path, 1)], text_layer=False)
    assert page.text_layer is None


def test_text_layer_serialises(tmp_path):
    (page,) = iter_pages([files.multipage_pdf(tmp_path, 1)])
    (line,) = page.text_layer
    record = line.to_dict()
    assert record["text"] == "Page 1" and len(record["words"]) == 2 and len(record["polygon"]) == 4


# --- scanned PDF pages: the page's JPEG, decoded directly -----------------------------------


def _scan_pdf(tmp_path, jpeg: bytes, page_size, name="scan.pdf", extra=None) -> pymupdf.Document:
    """A PDF whose one page is ``jpeg`` stretched over ``page_size`` points; ``extra(page)``
    may add content; returns the reopened document."""
    doc = pymupdf.open()
    page = doc.new_page(width=page_size[0], height=page_size[1])
    page.insert_image(page.rect, stream=jpeg)
    if extra is not None:
        extra(page)
    path = tmp_path / name
    doc.save(path)
    return pymupdf.open(path)


def _jpeg(image: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=95, **options)
    return buffer.getvalue()


def _mupdf_render(page: pymupdf.Page, dpi: int) -> np.ndarray:
    pix = page.get_pixmap(matrix=pymupdf.Matrix(dpi / 72, dpi / 72), colorspace=pymupdf.csRGB, alpha=False)
    return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, 3).astype(int)


@pytest.mark.parametrize("mode", ["RGB", "L"])
# Drawn at its own size, reduced, and decoded at half size by the JPEG decoder first.
@pytest.mark.parametrize("native_dpi", [200, 300, 450])
def test_scanned_pdf_page_comes_straight_from_its_jpeg_as_mupdf_draws_it(tmp_path, native_dpi, mode):
    from ocromni.io import pdf

    receipt = np.asarray(Image.open(EXAMPLE_RECEIPT).convert(mode))
    height, width = receipt.shape[:2]
    doc = _scan_pdf(tmp_path, _jpeg(receipt), (width * 72 / native_dpi, height * 72 / native_dpi))
    fast = pdf._scanned_image(doc, doc[0], 200)
    drawn = _mupdf_render(doc[0], 200)
    assert fast is not None and fast.shape == drawn.shape
    # The same JPEG, decoded by another library (and reduced by another filter).
    assert np.abs(fast.astype(int) - drawn).mean() < (0.5 if native_dpi == 200 else 2.0)
    # The page stream hands out those pixels.
    (page,) = iter_pages([doc.name], dpi=200)
    assert np.array_equal(page.image, fast)


def _add_text(page):
    page.insert_text((10, 20), "typed", fontsize=12)


def _add_note(page):
    page.add_text_annot((20, 20), "a reviewer's note")


def _rotate(page):
    page.set_rotation(90)


@pytest.mark.parametrize("extra", [_add_text, _add_note, _rotate], ids=["text", "annotation", "rotated"])
def test_pdf_page_with_more_than_a_scan_is_drawn_by_mupdf(tmp_path, extra):
    from ocromni.io import pdf

    image = np.full((300, 200, 3), 200, np.uint8)
    doc = _scan_pdf(tmp_path, _jpeg(image), (72, 108), extra=extra)
    assert pdf._scanned_image(doc, doc[0], 200) is None
    (page,) = iter_pages([doc.name], dpi=200, text_layer=False)
    assert page.image.shape == (page.height, page.width, 3)


def test_pdf_scan_not_covering_the_page_or_too_small_or_not_jpeg_is_drawn_by_mupdf(tmp_path):
    from ocromni.io import pdf

    image = np.full((300, 200, 3), 200, np.uint8)
    # Half the page: MuPDF draws the white around it.
    doc = pymupdf.open()
    page = doc.new_page(width=144, height=108)
    page.insert_image(pymupdf.Rect(0, 0, 72, 108), stream=_jpeg(image))
    assert pdf._scanned_image(doc, page, 200) is None
    # Fewer pixels than the page takes at 200 dpi: MuPDF enlarges it its own way.
    doc = _scan_pdf(tmp_path, _jpeg(image), (144, 216), name="small.pdf")
    assert pdf._scanned_image(doc, doc[0], 200) is None
    # A PNG (Flate) image is not a JPEG to decode.
    png = io.BytesIO()
    Image.fromarray(image).save(png, "PNG")
    doc = _scan_pdf(tmp_path, png.getvalue(), (72, 108), name="png.pdf")
    assert pdf._scanned_image(doc, doc[0], 200) is None


def test_scanned_pdf_page_ignores_jpeg_exif_orientation_as_pdf_viewers_do(tmp_path):
    from ocromni.io import pdf

    image = np.zeros((200, 300, 3), np.uint8)
    image[:50, :100] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees to display"
    doc = _scan_pdf(tmp_path, _jpeg(image, exif=exif.tobytes()), (108, 72))
    fast = pdf._scanned_image(doc, doc[0], 200)
    assert fast.shape == (200, 300, 3) and fast[10, 10, 0] > 200 and fast[10, 10, 2] < 50
    assert np.abs(fast.astype(int) - _mupdf_render(doc[0], 200)).mean() < 0.5
