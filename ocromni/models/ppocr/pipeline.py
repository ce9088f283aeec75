"""PPOCRModel: the embedded PP-OCRv4 backend (detection, direction, recognition, layout)."""

from __future__ import annotations

import ctypes
import functools
import os
from dataclasses import dataclass

import cv2
import numpy as np

from ocromni import layout
from ocromni.models.ppocr.classifier import DirectionClassifier
from ocromni.models.ppocr.detector import DBDetector, input_size
from ocromni.models.ppocr.recognizer import CTCRecognizer, Recognition
from ocromni.models.ppocr.weights import (
    build_session,
    cpu_runtime,
    cuda_provider_installed,
    default_threads,
    execution_providers,
)
from ocromni.types import Line, Page, PageRecord, PageText, Word

# Lines the recogniser reads with less confidence are dropped as noise (PaddleOCR's
# drop_score).
DROP_SCORE = 0.5
# A crop this much taller than wide holds vertical text: read it turned a quarter
# (PaddleOCR turns crops with height / width >= 1.5).
TALL_RATIO = 1.5
# Lines read with less confidence than this are checked by the direction classifier;
# confident lines are upright already, and skipping them saves most classifier runs.
CHECK_DIRECTION_BELOW = 0.9
# The classifier must be this sure before a line is read upside down (PaddleOCR's cls_thresh).
FLIP_CONFIDENCE = 0.9
# Line crops take this share of the line's height as extra margin on every side: the
# recogniser reads crops with some background around the text best (on SROIE lines, 84%
# read exactly with it against 80% on the bare detected box).
CROP_MARGIN = 0.1
# The detector joins text across gaps that people (and SROIE's annotators) see as
# separate fields, e.g. "TOTAL      42.50"; word gaps wider than this many text heights
# split a detected line. Spaces between words are about half a height; 90% of the gaps
# between same-row fields in SROIE are wider than one.
LINE_SPLIT_GAP = 1.2
# Line crops are kept at most this high (twice the recogniser's 48 px input): lines of a
# 35-megapixel scan (SROIE has 4961x7016 receipts) are otherwise held at full size, about
# 1 MB each, until the whole batch is read. Shrinking them (INTER_AREA) left SROIE line
# spotting unchanged on the 16 receipts that include those scans.
MAX_CROP_HEIGHT = 96
# Pages over this many pixels are detected without their full-size pixels in memory: a
# 35-megapixel SROIE scan (100 MB as RGB) held beside DBNet's activations (about 390 MB
# at 1.5 MP) made the peak of a 100-receipt run. They are decoded once more for the line
# crops (0.2 s for such a scan).
LARGE_PAGE_PIXELS = 8_000_000
# Single-line pages (word crops, cut tight) are read padded to PaddleOCR's training width,
# as RapidOCR reads them: a short word gets the sequence model's full context. Word
# accuracy on IIIT5K (2,000 crops) / ICDAR 2015 words (1,499): 97.9 / 69.9% at 320 px
# against 97.55 / 69.45% at 160 px; RapidOCR's own pipeline reads 97.7 / 69.3%. Line
# crops of pages keep their own margin of context and the narrower MIN_WIDTH.
WORD_CROP_MIN_WIDTH = 320
# Lines sampled per page to decide whether the whole page is turned.
ROTATION_SAMPLE = 6
# A page is turned a quarter only when its tall lines, read turned the better way, read
# at least this surely on average. Tall boxes that are not sideways text (words stacked
# on a wall sign, "END / 25 / MILE / SPEED", detected as one box; a pole or a logo) read
# as garbage both ways, and turning such a photo lost its upright text. Two SROIE receipts
# and a FUNSD form turned a quarter either way read 0.94-0.99 turned back; the five ICDAR
# 2015 scenes (of 100) this used to turn read 0.04-0.42, and two of them lost every line.
TURN_MIN_CONFIDENCE = 0.6
# DBNet sometimes stops a line of large type short of its first or last letter where the
# letter crosses a busy background ("ead End" on a photo, "HESS TOURNAMENT" over a flag):
# the crop then shows a sliver of it, which reads as nothing or as another letter
# ("Joodle"). Such lines are read once more lengthened by END_CHECK_LENGTH text heights at
# each end, and the longer reading is kept only when it completes the first one (see
# _completed_reading). A letter is at most about one height wide, but the cut often runs
# through the letter before it too: at 0.8 heights "Welcoi" read "Welcom". Checked: lines
# of large type, at least END_CHECK_MIN_HEIGHT pixels high, that are either
# END_CHECK_HEIGHT times the page's median line height (headlines: a form's letterhead,
# "/INSTON & STRAWN") or on a page of at most END_CHECK_MAX_LINES lines (signs, posters).
# Body text, where DBNet's boxes hold whole letters, and the small words of street photos
# cost nothing more. At 1.5 times the median, receipts' bold totals were checked too
# (7 lines of benchmarks/ask.py's 10-page PDF, 0.16 s of CPU) and none of them changed.
END_CHECK_LENGTH = 1.5
END_CHECK_MIN_HEIGHT = 24
END_CHECK_HEIGHT = 2.0
END_CHECK_MAX_LINES = 12
# The longer reading must be no less sure than the first but for this slack, and each
# character it adds beyond the detected ends at least END_CHECK_ADDED_CONFIDENCE sure. On
# ICDAR 2015, where text runs off the photo or behind things, the characters such crops
# add ("TCHEVRON", "SHOPPINGCENG") score 0.3-0.77; the letters DBNet cut off the rendered
# signs and posters of benchmarks/caption.py and the photos of benchmarks/edit.py, 0.82-1.0.
END_CHECK_SLACK = 0.05
END_CHECK_ADDED_CONFIDENCE = 0.8


@dataclass
class _LineJob:
    """One detected line on its way through recognition."""

    quad: np.ndarray  # in the turned page's frame, quad[0] the text's top-left corner
    score: float
    crop: np.ndarray | None = None
    to_page: np.ndarray | None = None  # homography from crop pixels to the turned page
    crop_size: tuple[int, int] = (0, 0)  # (width, height)
    margin: float = 0.0  # crop pixels of context around the quad on every side
    # The line's ends in crop pixels, when they are not the margins (a completed line, whose
    # lengthened crop reaches past them; see _complete_line_ends).
    ends: tuple[float, float] | None = None
    lengthened: _LineJob | None = None  # the same line lengthened at both ends (END_CHECK_*)


@dataclass
class _PagePlan:
    page: Page
    rotation: int
    jobs: list[_LineJob]
    turned_size: tuple[int, int]  # (width, height) of the turned page


class PPOCRModel:
    """PP-OCRv4 detection + direction classification + recognition, on OpenVINO (CPU) or
    onnxruntime (CUDA, or the CPU when OpenVINO is missing or $OCROMNI_CPU_RUNTIME says so).

    Sessions are built once and reused for every page. Words are the recogniser's
    characters split at spaces, boxed by where the CTC alignment put them; a detected line
    with a gap wider than LINE_SPLIT_GAP heights becomes two lines. Chinese text without
    spaces therefore comes back as one word per line.
    """

    name = "ppocr"

    def __init__(self, device: str = "cpu", threads: int | None = None):
        providers, self.device = execution_providers(device)
        self.runtime = cpu_runtime() if self.device == "cpu" else "onnxruntime"
        if self.runtime == "openvino":
            _unmap_large_blocks_when_freed()
        threads = threads or default_threads()
        # Detection sees a new page size on almost every call and recognition a new batch
        # width: their runtimes keep buffers for a few shapes at most (see build_session),
        # so memory stays flat over long runs. The classifier's input is always 48x192.
        def session(kind: str, dynamic_shapes: bool):
            return build_session(kind, providers, threads, dynamic_shapes=dynamic_shapes, runtime=self.runtime)

        self.detector = DBDetector(session("det", dynamic_shapes=True))
        self.classifier = DirectionClassifier(session("cls", dynamic_shapes=False))
        rec_session = session("rec", dynamic_shapes=True)
        # Imported here, not at the top: `python -m ocromni.models.ppocr.charlm` (training)
        # would otherwise find the module already imported by this package.
        from ocromni.models.ppocr import charlm

        self.recognizer = CTCRecognizer(
            rec_session, CTCRecognizer.charset_of(rec_session), language_model=charlm.load_unless_disabled()
        )
        # What the recogniser computes in: "f32", or on OpenVINO "bf16" where the CPU has it.
        self.precision = getattr(rec_session, "precision", "f32")

    @staticmethod
    def cuda_available() -> bool:
        """Whether onnxruntime here can run on CUDA, asked without importing torch (300 MB
        that this backend never uses) or onnxruntime (20 MB that the CPU, on OpenVINO,
        does not need): its CUDA provider library is there exactly when
        ``get_available_providers()`` would list it."""
        return cuda_provider_installed()

    # --- public building blocks (RGB images, like Page.image) -----------------------------

    def detect_quads(self, image: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """Text line quadrilaterals (4x2, clockwise from top-left) with detector scores."""
        return self.detector.detect(_to_rgb(image))

    def probability_map(self, image: np.ndarray) -> np.ndarray:
        """DB text probability map (float32 in [0, 1]) at the image's resolution."""
        return self.detector.probability_map(_to_rgb(image), full_size=True)

    def recognize_crops(self, crops: list[np.ndarray]) -> list[Recognition]:
        """Read upright line or word crops: text, confidence and per-character x positions."""
        return self.recognizer.recognize([_to_bgr(c) for c in crops])

    def classify_direction(self, crops: list[np.ndarray]) -> list[tuple[int, float]]:
        """(0 or 180, confidence) per crop: 180 means the text is upside down."""
        return self.classifier.classify([_to_bgr(c) for c in crops])

    # --- the protocol -----------------------------------------------------------------------

    def read(
        self, pages: list[Page], *, recognize: bool = True, rotate: bool = True, single_line: bool = False
    ) -> list[PageText]:
        """Detect and recognise text on pages; recognition is batched across all of them.

        ``single_line``: each page is one text line (a word or line crop): no detection, no
        quarter turns, every reading kept however unsure; upside-down crops are still
        turned by the direction classifier and words still boxed from the CTC alignment.
        """
        plans = []
        for page in pages:
            if single_line:
                plans.append(self._single_line_plan(page))
            else:
                plans.append(self._plan_page(page, recognize=recognize, rotate=rotate))
            # Once its lines are cropped a page's pixels are not needed here: release them
            # (they reload on access), so a batch holds one page image at a time. SROIE has
            # 35-megapixel scans (100 MB each as RGB); eight of them held at once would
            # break the 800 MB budget. Callers that need the image again (searchable PDF,
            # erase, edit) decode it once more, which costs far less than reading the page.
            page.release()
            _return_freed_memory()
        if recognize or single_line:
            jobs = [job for plan in plans for job in plan.jobs]
            readings = self._read_lines(jobs, WORD_CROP_MIN_WIDTH if single_line else None)
            if not single_line:
                self._complete_line_ends(jobs, readings)
            for job in jobs:
                job.crop = job.lengthened = None  # crops are done with; keep the plans light
            cursor = 0
            results = []
            for plan in plans:
                results.append(self._page_text(plan, readings[cursor : cursor + len(plan.jobs)], single_line=single_line))
                cursor += len(plan.jobs)
            return results
        return [self._page_text(plan, None) for plan in plans]

    # --- stages -----------------------------------------------------------------------------

    def _plan_page(self, page: Page, *, recognize: bool, rotate: bool) -> _PagePlan:
        if page.width * page.height > LARGE_PAGE_PIXELS:
            self._free_detector_buffers()  # the previous page's, before this one decodes
            detections = self._detect_without_page(page)
            self._free_detector_buffers()
            image = _to_rgb(page.image)  # decoded again, for the line crops
        else:
            image = _to_rgb(page.image)  # no copy
            detections = self.detector.detect(image)
        rotation = self._page_rotation(image, detections) if rotate and detections else 0
        if rotation:
            image = layout.turn_image(image, rotation)
            detections = self.detector.detect(image)
        jobs = []
        for quad, score in detections:
            width, height = layout.quad_size(quad)
            # Quarter-turn tall crops: start the crop at the quad's top-right corner.
            if height >= TALL_RATIO * width:
                quad = np.roll(quad, -1, axis=0)
            job = _LineJob(quad, score)
            if recognize:
                _cut_crop(image, job)
            jobs.append(job)
        # The lengthened crops are cut now, before the reading that decides whether they
        # are needed: once planned, the page's pixels are released (see read()).
        if recognize and jobs:
            heights = [layout.quad_size(job.quad)[1] for job in jobs]
            median = float(np.median(heights))
            for job, height in zip(jobs, heights):
                large = height >= END_CHECK_HEIGHT * median or len(jobs) <= END_CHECK_MAX_LINES
                if large and height >= END_CHECK_MIN_HEIGHT:
                    quad = _lengthened_quad(job.quad, END_CHECK_LENGTH * height, image.shape[1], image.shape[0])
                    if quad is not None:
                        job.lengthened = _cut_crop(image, _LineJob(quad, job.score))
        return _PagePlan(page, rotation, jobs, (image.shape[1], image.shape[0]))

    def _free_detector_buffers(self) -> None:
        """Free the activations DBNet keeps for its next run (OpenVINO only; about 390 MB at
        1.5 MP), so that they never stand beside a large scan's full-size pixels.

        Between ordinary pages they are kept: allocating them afresh for every run, as
        before, cost a tenth of the reading time (with recognition's, which are kept
        always: SROIE's 100 receipts 1.39 -> 1.52 receipts/s, the 10-page receipt PDF of
        benchmarks/ask.py 5.2 -> 4.4 s) for no lower peak (731 against 723 MiB). Kept
        beside the large scans as well, they took that peak to 877 MiB.
        """
        release = getattr(self.detector.session, "release_memory", None)
        if release is not None:
            release()
            _return_freed_memory()

    def _detect_without_page(self, page: Page) -> list[tuple[np.ndarray, float]]:
        """Detect on the page reduced to the detector's own input size, with the full-size
        pixels released while DBNet runs; quads come back in the page's pixels.

        The reduction is the one the detector makes itself (same scale and interpolation),
        and at that size it adds no second resize, so the probability map is the same.
        """
        image = _to_rgb(page.image)
        height, width = image.shape[:2]
        scale = self.detector.base_scale(image)
        in_h, in_w = input_size(height, width, scale)
        reduced = cv2.resize(image, (in_w, in_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        del image
        page.release()
        _return_freed_memory()
        to_page = np.array([width / in_w, height / in_h], dtype=np.float32)
        return [(quad * to_page, score) for quad, score in self.detector.detect(reduced)]

    def _single_line_plan(self, page: Page) -> _PagePlan:
        """The whole page as one line: its crop is the image itself, with no margin."""
        image = _to_rgb(page.image)
        height, width = image.shape[:2]
        quad = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
        job = _LineJob(quad, 1.0, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), np.eye(3), (width, height))
        return _PagePlan(page, 0, [job], (width, height))

    def _page_rotation(self, image: np.ndarray, detections) -> int:
        """Clockwise degrees (0/90/180/270) that make the page's text upright."""
        tall = flat = 0.0
        for quad, _ in detections:
            width, height = layout.quad_size(quad)
            if height >= TALL_RATIO * width:
                tall += height
            elif width >= TALL_RATIO * height:
                flat += width
        if tall == 0 and flat == 0:
            return 0
        # Longest lines hold the most evidence for the page's direction.
        sample = sorted(detections, key=lambda d: -max(layout.quad_size(d[0])))[:ROTATION_SAMPLE]
        if tall > flat:
            # Text runs top-to-bottom (page turned clockwise, read it turned 270) or
            # bottom-to-top (read it turned 90): compare how well each reads.
            candidates = {270: -1, 90: 1}
        else:
            crops = [_line_crop(image, quad) for quad, _ in sample]
            votes = self.classifier.classify(crops)
            upside_down = sum(conf for angle, conf in votes if angle == 180 and conf >= FLIP_CONFIDENCE)
            if upside_down < len(sample) / 2:
                return 0
            candidates = {0: 0, 180: 2}
        best, best_confidence = 0, -1.0
        for degrees, roll in candidates.items():
            crops = [_line_crop(image, np.roll(quad, roll, axis=0)) for quad, _ in sample]
            confidence = float(np.mean([r.confidence for r in self.recognizer.recognize(crops)]))
            if confidence > best_confidence:
                best, best_confidence = degrees, confidence
        if best in (90, 270) and best_confidence < TURN_MIN_CONFIDENCE:
            return 0
        return best

    def _read_lines(self, jobs: list[_LineJob], min_width: int | None = None) -> list[Recognition]:
        """Recognise every crop in one batched pass, then fix lines that read upside down."""
        readings = self.recognizer.recognize([job.crop for job in jobs], min_width)
        doubtful = [i for i, r in enumerate(readings) if r.confidence < CHECK_DIRECTION_BELOW]
        if not doubtful:
            return readings
        votes = self.classifier.classify([jobs[i].crop for i in doubtful])
        flip = [i for i, (angle, conf) in zip(doubtful, votes) if angle == 180 and conf >= FLIP_CONFIDENCE]
        if not flip:
            return readings
        flipped = self.recognizer.recognize([cv2.rotate(jobs[i].crop, cv2.ROTATE_180) for i in flip], min_width)
        for i, reading in zip(flip, flipped):
            if reading.confidence > readings[i].confidence:
                readings[i] = reading
                job = jobs[i]
                job.quad = np.roll(job.quad, 2, axis=0)
                height, width = job.crop.shape[:2]
                # A point (x, y) of the turned crop is (width - x, height - y) of the crop.
                unturn = np.array([[-1, 0, width], [0, -1, height], [0, 0, 1]], dtype=np.float64)
                job.to_page = job.to_page @ unturn
                job.lengthened = None  # cut the right way up: it would read upside down
        return readings

    def _complete_line_ends(self, jobs: list[_LineJob], readings: list[Recognition]) -> None:
        """Read the lengthened crops of the lines that have one (see END_CHECK_LENGTH) in one
        batch; where the longer reading completes the line's, the line takes it, its
        crop's geometry and its longer box."""
        checked = [i for i, job in enumerate(jobs) if job.lengthened is not None and readings[i].confidence >= DROP_SCORE]
        if not checked:
            return
        longer = self.recognizer.recognize([jobs[i].lengthened.crop for i in checked])
        for i, reading in zip(checked, longer):
            job, long = jobs[i], jobs[i].lengthened
            # Where the detected line's ends lie in the lengthened crop.
            corners = layout.map_points(np.linalg.inv(long.to_page), job.quad)
            start, end = float(corners[[0, 3], 0].mean()), float(corners[[1, 2], 0].mean())
            completed = _completed_reading(readings[i], reading, start, end)
            if completed is None:
                continue
            readings[i] = completed
            crop_w, crop_h = long.crop_size
            words = _word_spans(completed, long.margin, crop_w - long.margin)
            left, right = min(start, words[0][2]), max(end, words[-1][3])
            job.crop, job.to_page, job.crop_size, job.margin = long.crop, long.to_page, long.crop_size, long.margin
            job.ends = (left, right)
            top, bottom = long.margin, crop_h - long.margin
            job.quad = layout.map_points(long.to_page, [[left, top], [right, top], [right, bottom], [left, bottom]])

    def _page_text(self, plan: _PagePlan, readings: list[Recognition] | None, single_line: bool = False) -> PageText:
        page, rotation = plan.page, plan.rotation
        turned_w, turned_h = plan.turned_size

        def to_original(points) -> list[list[float]]:
            # unturn_points wants the original page's size, i.e. the turned one swapped back.
            size = (turned_h, turned_w) if rotation in (90, 270) else (turned_w, turned_h)
            return layout.unturn_points(points, rotation, *size).tolist()

        lines, quads = [], []
        for index, job in enumerate(plan.jobs):
            if readings is None:
                lines.append(Line("", job.score, to_original(job.quad)))
                quads.append(job.quad)
                continue
            reading = readings[index]
            # A crop the caller says holds text is read however unsure the reading is.
            if reading.confidence < DROP_SCORE and not single_line:
                continue
            if single_line and not reading.text:
                continue
            crop_w, crop_h = job.crop_size
            top, bottom = job.margin, crop_h - job.margin  # the detected line's own edges
            start, end = job.ends or (job.margin, crop_w - job.margin)

            def box(left: float, right: float) -> np.ndarray:
                corners = [[left, top], [right, top], [right, bottom], [left, bottom]]
                return layout.map_points(job.to_page, corners)

            spans = _word_spans(reading, start, end)
            segments = [spans] if single_line else _segments(spans, bottom - top)
            for number, segment in enumerate(segments):
                words = [Word(text, conf, to_original(box(left, right))) for text, conf, left, right in segment]
                # A split line's pieces end at their outer words; the outer pieces keep
                # the detected box's own ends.
                left = start if number == 0 else segment[0][2]
                right = end if number == len(segments) - 1 else segment[-1][3]
                quad = job.quad if len(segments) == 1 else box(left, right)
                confidence = reading.confidence if len(segments) == 1 else float(np.mean([w.confidence for w in words]))
                lines.append(Line(" ".join(w.text for w in words), confidence, to_original(quad), words))
                quads.append(quad)
        order = layout.reading_order(quads)
        return PageText(**PageRecord.header_of(page), lines=[lines[i] for i in order], rotation=rotation)


def _cut_crop(image: np.ndarray, job: _LineJob) -> _LineJob:
    """Give ``job`` its BGR crop: the quad plus CROP_MARGIN of context, at most
    MAX_CROP_HEIGHT high, with the mapping back to the page."""
    job.margin = CROP_MARGIN * min(layout.quad_size(job.quad))
    crop, job.to_page = layout.crop_quad(image, layout.expand_quad(job.quad, job.margin))
    crop = _shrunk_crop(crop, job)
    job.crop = cv2.cvtColor(crop, cv2.COLOR_RGB2BGR)
    job.crop_size = (job.crop.shape[1], job.crop.shape[0])
    return job


def _lengthened_quad(quad: np.ndarray, length: float, width: int, height: int) -> np.ndarray | None:
    """``quad`` grown by ``length`` pixels at each end along its baseline, each end less
    where the page ends sooner (past its edge there is nothing to complete, and the crop's
    replicated border would read as strokes); None when neither end can grow."""
    q = np.asarray(quad, dtype=np.float32)
    angle = layout.quad_angle(q)
    along = np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)
    grown = q.copy()
    for corners, sign in (((0, 3), -1.0), ((1, 2), 1.0)):
        for share in (1.0, 0.5, 0.25):
            moved = q[list(corners)] + sign * share * length * along
            if np.all((moved >= 0) & (moved <= [width, height])):
                grown[list(corners)] = moved
                break
    return None if np.array_equal(grown, q) else grown


def _completed_reading(first: Recognition, longer: Recognition, start: float, end: float) -> Recognition | None:
    """The longer reading of a lengthened crop, when it completes ``first``; else None.

    ``start`` and ``end`` are the detected line's ends in the lengthened crop. Words of
    the longer reading wholly outside them belong to neighbours and are dropped (the
    lengthening reaches into the next word: "WINTER G"). What is left must be ``first``
    with letters added at an end that is a letter, or digits at a digit, with no space (a
    cut word completed, not a word joined: "ead End" -> "Dead End"), beyond the detected
    ends and surely read (see END_CHECK_ADDED_CONFIDENCE); one boundary character of
    ``first`` may read differently ("Welcoi" -> "Welcome").
    """
    kept = [i for word in _word_indices(longer.text) if any(start <= longer.char_x[j] <= end for j in word) for i in word]
    if not kept:
        return None
    keep = list(range(kept[0], kept[-1] + 1))  # the kept words and the spaces between them
    text = "".join(longer.text[i] for i in keep)
    if text == first.text:
        return None
    confidence = float(np.mean([longer.char_confidence[i] for i in keep if longer.text[i] != " "]))
    if confidence < first.confidence - END_CHECK_SLACK:
        return None
    added = [longer.char_confidence[i] for i in keep if not start <= longer.char_x[i] <= end]
    if not added or min(added) < END_CHECK_ADDED_CONFIDENCE:
        return None
    old = first.text
    for core, changed_first, changed_last in ((old, False, False), (old[1:], True, False), (old[:-1], False, True)):
        at = text.find(core) if core else -1
        if at < 0:
            continue
        before, after = text[:at], text[at + len(core):]
        if (changed_first and not before) or (changed_last and not after):
            continue
        # Letters complete a word, digits a number: "supplies:" + "2" is the next field's
        # amount, read where the gap before it showed no space.
        if _same_kind(before, core[0]) and _same_kind(after, core[-1]):
            return Recognition(text, confidence, [longer.char_x[i] for i in keep],
                               [longer.char_confidence[i] for i in keep], longer.frame_width)
    return None


def _same_kind(added: str, neighbour: str) -> bool:
    """Whether ``added`` (possibly empty) is all ASCII letters, or all digits, as ``neighbour`` is."""
    if not added:
        return True
    if neighbour.isascii() and neighbour.isalpha():
        return added.isascii() and added.isalpha()
    return neighbour.isdigit() and added.isdigit() and added.isascii()


def _word_spans(reading: Recognition, start: float, end: float) -> list[tuple[str, float, float, float]]:
    """(text, confidence, left, right) of each word of a reading, in crop pixels.

    Characters are split into words at spaces; each word's left and right edges sit half
    a character pitch beyond its outer characters (never past a neighbouring character),
    clamped to ``start``..``end`` (the detected line's ends in the crop).
    """
    chars, xs, confs = reading.text, reading.char_x, reading.char_confidence
    spans = _word_indices(chars)
    steps = [xs[i + 1] - xs[i] for s in spans for i in s[:-1]]
    # Without two characters in a word to measure, ~3 CTC frames is a Latin character.
    pitch = float(np.median(steps)) if steps else 3 * reading.frame_width
    words = []
    for span in spans:
        first, last = span[0], span[-1]
        left = xs[first] - pitch / 2
        right = xs[last] + pitch / 2
        if first > 0:
            left = max(left, (xs[first - 1] + xs[first]) / 2)
        if last + 1 < len(xs):
            right = min(right, (xs[last] + xs[last + 1]) / 2)
        text = "".join(chars[i] for i in span)
        words.append((text, float(np.mean([confs[i] for i in span])), max(left, start), min(right, end)))
    return words


def _word_indices(text: str) -> list[list[int]]:
    """The indices of each word's characters in ``text`` (words split at whitespace)."""
    words: list[list[int]] = []
    current: list[int] = []
    for i, ch in enumerate(text):
        if not ch.isspace():
            current.append(i)
        elif current:
            words.append(current)
            current = []
    if current:
        words.append(current)
    return words


def _segments(words: list, line_height: float) -> list[list]:
    """Words grouped into pieces of a line wherever a gap is wider than LINE_SPLIT_GAP heights."""
    segments: list[list] = []
    for word in words:
        if segments and word[2] - segments[-1][-1][3] <= LINE_SPLIT_GAP * line_height:
            segments[-1].append(word)
        else:
            segments.append([word])
    return segments


def _shrunk_crop(crop: np.ndarray, job: _LineJob) -> np.ndarray:
    """The crop at most MAX_CROP_HEIGHT pixels high; ``job``'s mapping and margin follow it."""
    height, width = crop.shape[:2]
    if height <= MAX_CROP_HEIGHT:
        return crop
    new_w, new_h = max(1, round(width * MAX_CROP_HEIGHT / height)), MAX_CROP_HEIGHT
    sx, sy = new_w / width, new_h / height
    job.to_page = job.to_page @ np.diag([1 / sx, 1 / sy, 1.0])
    job.margin *= sy
    return cv2.resize(crop, (new_w, new_h), interpolation=cv2.INTER_AREA)


def _line_crop(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The BGR crop the recogniser reads for a line: its quad plus CROP_MARGIN of context."""
    margin = CROP_MARGIN * min(layout.quad_size(quad))
    return cv2.cvtColor(layout.crop_quad(image, layout.expand_quad(quad, margin))[0], cv2.COLOR_RGB2BGR)


def _return_freed_memory() -> None:
    """Hand the heap's free pages back to the system (glibc only; elsewhere a no-op).

    A page's decode and detection allocate and free a few hundred MB in blocks that glibc
    keeps in its heap rather than unmapping; without this, what one large scan freed stays
    resident under the next page's peak. After one large SROIE scan (4961x7016) is detected
    and released, 374 MB stay resident; 182 MB (the models) after trimming. Over the 100
    SROIE receipts, with MAX_PIXELS for enlarged pages too, peak RSS fell from 962 to 877 MB.
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _glibc():
    """The C library when it is glibc (it has malloc_trim and mallopt), else None."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:  # not glibc (macOS, Windows, musl)
        return None


# glibc serves blocks of at least this size straight from the system (mmap) and gives
# them back the moment they are freed. By default its threshold rises to the largest
# block freed so far (up to 32 MB), so after the first page the detector's tensors, page
# images and crops all come from the heap, whose freed pages stay resident between pages.
# Pinned at 2 MB, SROIE's 100 receipts peak at 731 MB instead of 807 on OpenVINO (4 MB:
# 776 MB; 16 MB: 799 MB), at the same speed on ordinary receipts. Not for onnxruntime: it
# allocates every tensor of every run anew, and reading became 3x slower.
MMAP_THRESHOLD = 2 * 1024 * 1024
M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


def _unmap_large_blocks_when_freed() -> None:
    """Pin glibc's mmap threshold at MMAP_THRESHOLD, unless the user set one
    ($MALLOC_MMAP_THRESHOLD_); elsewhere than glibc a no-op."""
    libc = _glibc()
    if libc is not None and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def _to_rgb(image: np.ndarray) -> np.ndarray:
    """The image as RGB uint8 (H, W, 3), copied only when it is not that already."""
    image = np.asarray(image)
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(image[..., :3])


def _to_bgr(image: np.ndarray) -> np.ndarray:
    """BGR uint8 copy of an RGB, RGBA or grey image (PaddleOCR's models were trained on BGR)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2BGR)
    return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
