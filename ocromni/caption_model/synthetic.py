"""Synthetic images of every kind ``caption`` names, for training its image-type classifier.

Receipts, invoices, forms, letters, signs, posters, screenshots, product labels and
street-scene-like photos are drawn with ocromni's shipped fonts (:mod:`ocromni.fonts`,
through :class:`ocromni.textdraw.TextFont`, so Chinese falls back to the CJK face) on
paper, flat colours, gradients or crops of photos. Each image knows its kind and its
largest line. Everything comes from one ``random.Random(seed)``: the same seed gives the
same images on every machine.

Photo backgrounds are taken from a folder the caller names (``--backgrounds``); with none
the generator paints procedural textures instead, so tests need no data.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ocromni.fonts import list_fonts
from ocromni.qa.synthetic import (
    BUSINESS_WORDS, GIVEN, PRODUCTS, SURNAMES, address_lines, company_name, date_text, ident, money,
    person, phone, time_text,
)
from ocromni.textdraw import TextFont

# Bump when a change alters the images a seed gives (cached OCR results depend on them).
GENERATOR_VERSION = 7

KINDS = ("receipt", "invoice", "form", "letter", "sign", "poster", "screenshot", "product", "scene")

ENGLISH = """the of and to in is for that with on as by this are from at be it an or was will all our
your we can have more new not has one about which their other time into year may also these any its
only over such after first most some would there people service work information business system
please report meeting program market price order product development project company review members
research provide support include management office customer process results general available
quality number program data before between under during through against within without following
committee planning schedule request approval receive contact questions attached enclosed regarding
agreement summary response proposal interest thank pleased confirm discuss""".split()
SIGN_WORDS = """EXIT OPEN CLOSED STOP PARKING NO ENTRY PUSH PULL WELCOME TOILET CAFE BAR HOTEL PHARMACY
BAKERY SALE OFFICE RECEPTION PRIVATE DANGER CAUTION KEEP OUT ONE WAY STREET AVENUE ROAD PLATFORM
GATE TICKETS INFORMATION ELEVATOR STAIRS LOBBY MUSEUM LIBRARY GARAGE TAXI BUS STOP SUBWAY
MARKET PIZZA COFFEE BOOKS FLOWERS BANK POLICE HOSPITAL SCHOOL DRIVE SLOW WASH KITCHEN""".split()
POSTER_HEADS = """SUMMER FESTIVAL|GRAND OPENING|JAZZ NIGHT|MEGA SALE|LIVE MUSIC|FILM NIGHT|BOOK FAIR|
FOOD MARKET|ART EXHIBITION|SPRING CONCERT|CHARITY RUN|TECH CONFERENCE|YOGA CLASS|NEW COLLECTION|
WINTER SALE|OPEN DAY|DANCE PARTY|FLASH SALE|COMEDY SHOW|FARMERS MARKET|BEER FESTIVAL|HALF PRICE""".replace("\n", "").split("|")
CJK_HEADS = ["限时特惠", "新品上市", "全场五折", "夏日狂欢", "开业大吉", "品质生活", "买一送一", "年终大促", "精选好物", "立即抢购"]
UI_WORDS = """Home Search Settings Profile Messages Notifications Inbox Sent Drafts Archive Help Logout
Dashboard Reports Files Photos Music Videos Account Privacy Security Language Display Sound Network
Bluetooth Battery Storage Updates Downloads Favorites History Calendar Contacts Tasks Projects Team""".split()
UI_BUTTONS = ["OK", "Cancel", "Save", "Submit", "Sign in", "Log in", "Next", "Back", "Delete", "Apply", "Send", "Continue"]
BRANDS = """Nature's Best|Golden Harvest|Pure Valley|Sunny Farm|Ocean Fresh|Alpine Dew|Royal Crest|Green Leaf|
Happy Cow|Crispy Bites|Mountain Spring|Silver Spoon|Wild Berry|Urban Roast|Little Chef""".replace("\n", "").split("|")
PRODUCT_TYPES = ["ORANGE JUICE", "GREEN TEA", "DARK CHOCOLATE", "OLIVE OIL", "SHAMPOO", "COFFEE BEANS", "MINERAL WATER",
                 "PEANUT BUTTER", "HAND CREAM", "CORN FLAKES", "TOMATO SAUCE", "HONEY", "OAT MILK", "BODY LOTION"]
FORM_LABELS = ["Name", "Date", "Address", "Phone", "Signature", "Title", "Company", "Department", "Date of Birth",
               "City", "State", "Zip Code", "Fax", "Email", "Account No", "Reference", "Approved by", "Cost Center",
               "Brand", "Project", "Requested by", "Amount", "Quantity", "Description", "Remarks", "Region", "To", "From",
               "Subject", "Pages", "Occupation", "Nationality", "Sex", "Age", "Employer", "Position", "Start Date"]
FORM_TITLES = ["APPLICATION FORM", "REGISTRATION FORM", "REQUEST FOR APPROVAL", "FAX TRANSMITTAL", "EXPENSE REPORT",
               "PURCHASE REQUISITION", "MEMORANDUM", "CHANGE REQUEST", "CLAIM FORM", "ORDER FORM", "DATA SHEET",
               "PERSONAL INFORMATION", "PROJECT PROPOSAL", "QUESTIONNAIRE", "BUDGET REQUEST", "ENROLLMENT FORM"]

PAPER = [(255, 255, 255), (250, 250, 246), (246, 244, 236), (240, 240, 240), (252, 250, 240)]
INK = [(0, 0, 0), (20, 20, 20), (40, 40, 50), (30, 30, 80), (60, 60, 60)]
VIVID = [(220, 30, 40), (240, 120, 20), (250, 200, 20), (30, 150, 60), (20, 90, 200), (120, 50, 170), (230, 70, 150),
         (20, 160, 170), (0, 60, 120), (140, 80, 40), (30, 30, 30), (245, 245, 245), (200, 200, 200), (100, 180, 230)]


@dataclass
class Synth:
    """One synthetic image, its kind, and the text of its largest line."""

    image: np.ndarray
    kind: str
    prominent: str
    lines: list = field(default_factory=list)  # [(text, polygon clockwise from top-left, font size)], as drawn


# --- drawing helpers --------------------------------------------------------------------


class Canvas:
    """A PIL image with helpers to place lines of text and remember the largest one."""

    def __init__(self, image: Image.Image, fonts: Sequence[str]):
        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.fonts = list(fonts)
        self.largest = (0.0, "")
        self.lines: list[tuple[str, tuple, int]] = []  # (text, (x0, y0, x1, y1), size) of every line drawn

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def text(self, text: str, x: float, y: float, size: int, font: Optional[str] = None, fill=(0, 0, 0),
             align: str = "left", track: bool = True) -> tuple[float, float, float, float]:
        """Draw one line with its top at ``y``; ``x`` is its left, centre or right per ``align``."""
        size = max(int(size), 6)
        sized = TextFont(font or self.fonts[0], size)
        extent = sized.measure(text)
        if align == "center":
            x -= extent.width / 2
        elif align == "right":
            x -= extent.width
        baseline = y - extent.top
        pen = x - extent.left
        for run, pil in sized.runs(text):
            if run.strip():
                self.draw.text((pen, baseline), run, font=pil, fill=tuple(fill), anchor="ls")
            pen += pil.getlength(run)
        box = (x, y, x + extent.width, y + extent.bottom - extent.top)
        if text.strip() and set(text.strip()) - set("-=*_"):
            self.lines.append((text, box, size))
        if track and text.strip() and size > self.largest[0]:
            self.largest = (size, text)
        return box

    def width_of(self, text: str, size: int, font: Optional[str] = None) -> float:
        return TextFont(font or self.fonts[0], max(int(size), 6)).measure(text).width

    def fit(self, text: str, size: int, max_width: float, font: Optional[str] = None) -> int:
        """The largest size up to ``size`` at which ``text`` fits ``max_width``."""
        width = self.width_of(text, size, font)
        if width > max_width:
            size = int(size * max_width / width)
        return max(size, 6)


class Backgrounds:
    """Crops of photos from a folder, or procedural textures when there is none."""

    def __init__(self, folder: Optional[Path] = None, names: Optional[Sequence[str]] = None):
        self.photos: list[Image.Image] = []
        if folder is not None:
            paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
            if names is not None:
                paths = [p for p in paths if p.name in set(names)]
            for path in paths:
                with Image.open(path) as image:
                    self.photos.append(image.convert("RGB"))

    def photo(self, rng: random.Random, width: int, height: int) -> Image.Image:
        if not self.photos or rng.random() < 0.15:
            return procedural(rng, width, height)
        photo = rng.choice(self.photos)
        scale = max(width / photo.width, height / photo.height) * rng.uniform(1.0, 1.6)
        # Crop the source first, then scale only the crop (photos can be large).
        crop_w, crop_h = min(width / scale, photo.width), min(height / scale, photo.height)
        x = rng.uniform(0, photo.width - crop_w)
        y = rng.uniform(0, photo.height - crop_h)
        crop = photo.crop((int(x), int(y), int(x + crop_w), int(y + crop_h))).resize((width, height), Image.BILINEAR)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
        return crop


def procedural(rng: random.Random, width: int, height: int) -> Image.Image:
    """A photo-like texture: a gradient with soft blobs and grain."""
    nrng = np.random.default_rng(rng.randrange(2 ** 32))
    a, b = np.array(rng.choice(VIVID), float), np.array(rng.choice(VIVID), float)
    t = np.linspace(0, 1, height)[:, None, None]
    image = a * (1 - t) + b * t + np.zeros((height, width, 3))
    small = nrng.normal(0, 40, (max(height // 32, 2), max(width // 32, 2), 3))
    blobs = np.asarray(Image.fromarray(np.clip(small + 128, 0, 255).astype(np.uint8)).resize((width, height), Image.BICUBIC), float) - 128
    image = image + blobs + nrng.normal(0, 8, image.shape)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def gradient(rng: random.Random, width: int, height: int) -> Image.Image:
    a, b = np.array(rng.choice(VIVID), float), np.array(rng.choice(VIVID), float)
    t = np.linspace(0, 1, height if rng.random() < 0.6 else width)
    ramp = a * (1 - t[:, None]) + b * t[:, None]
    image = ramp[:, None, :].repeat(width, 1) if len(t) == height else ramp[None, :, :].repeat(height, 0)
    return Image.fromarray(image.astype(np.uint8))


def contrasting(rng: random.Random, background) -> tuple[int, int, int]:
    """A text colour that stands out from ``background`` (an RGB tuple)."""
    luma = 0.299 * background[0] + 0.587 * background[1] + 0.114 * background[2]
    pool = [c for c in VIVID + [(255, 255, 255), (0, 0, 0)] if abs(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] - luma) > 110]
    return rng.choice(pool or [(255, 255, 255) if luma < 128 else (0, 0, 0)])


def mean_colour(image: Image.Image, box) -> tuple[int, int, int]:
    x0, y0, x1, y1 = (int(v) for v in box)
    crop = np.asarray(image.crop((max(x0, 0), max(y0, 0), max(min(x1, image.width), x0 + 1), max(min(y1, image.height), y0 + 1))))
    return tuple(int(v) for v in crop.reshape(-1, 3).mean(0))


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(ENGLISH) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def wrap(text: str, canvas: Canvas, size: int, max_width: float, font: Optional[str] = None) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and canvas.width_of(trial, size, font) > max_width:
            lines.append(current)
            current = word
        else:
            current = trial
    return lines + ([current] if current else [])


# --- documents --------------------------------------------------------------------------


# What tills print around the items (SROIE-like Malaysian receipts as well as generic
# ones): header ids, meta labels, total labels and footers. Real receipts use many
# words the form and invoice word lists also hold ("No", "Date", "Invoice", "Code",
# "Description", "Please"); drawn without them, the classifier learnt that those words
# mean a form, and called receipts forms once the OCR kept the spaces that make them
# separate tokens.
RECEIPT_TITLES = ["TAX INVOICE", "TAX INVOICE", "RECEIPT", "SIMPLIFIED TAX INVOICE", "CASH BILL", "OFFICIAL RECEIPT",
                  "INVOICE", "CASH SALES", "SALES RECEIPT", "CASH RECEIPT"]
RECEIPT_META = ["Time", "Receipt No", "Invoice No", "Inv No", "Doc No", "Bill No", "Cashier", "Counter", "Salesperson",
                "Table No", "POS No", "Member No", "Terminal", "Trans No", "Served by", "Pax"]
RECEIPT_ITEM_HEADERS = ["Item Qty Price Amount", "Description Qty U.Price Amt", "QTY DESCRIPTION AMOUNT(RM)",
                        "Code/Description Qty Price Total", "ITEM QTY U/P TOTAL", "Description Qty Amount Tax"]
RECEIPT_TOTALS = ["SUBTOTAL", "Sub Total", "GST 6%", "ROUNDING", "Rounding Adj", "Rounding Adjustment", "TOTAL", "TOTAL",
                  "Total Amount", "CASH", "CASH", "CHANGE", "Change Due", "TOTAL INCL. GST", "Total Inclusive GST",
                  "Total Excl. GST", "TOTAL QTY", "Item(s)", "DISCOUNT", "Service Charge 10%", "Net Total",
                  "Total Sales (Inclusive of GST)", "Credit Card", "VISA", "Payment", "Tendered"]
RECEIPT_FOOTERS = ["THANK YOU", "PLEASE COME AGAIN", "THANK YOU, PLEASE COME AGAIN", "GOODS SOLD ARE NOT RETURNABLE",
                   "Goods sold are not returnable & refundable", "HAVE A NICE DAY", "Thank you for shopping with us",
                   "Please keep this receipt for exchange within 7 days", "This is a computer generated receipt",
                   "Thank You For Your Patronage", "Follow us on Facebook", "No exchange or refund"]


def _colon(rng: random.Random) -> str:
    """A label's colon as tills print it: tight, spaced, or absent."""
    return rng.choice([": ", " : ", " :", ": ", " "])


def make_receipt(rng: random.Random, fonts, backgrounds) -> Canvas:
    width = rng.randint(360, 560)
    size = int(width / rng.uniform(26, 36))
    n_items = rng.randint(2, 25)
    mixed_case = rng.random() < 0.5  # many tills print item names and labels in mixed case
    gst_summary = rng.random() < 0.4
    height = int(size * 1.45 * (n_items * 1.4 + rng.randint(16, 28) + (5 if gst_summary else 0)))
    canvas = Canvas(Image.new("RGB", (width, height), rng.choice(PAPER)), fonts)
    font = rng.choice([f for f in fonts if "mono" in f.lower()] or fonts) if rng.random() < 0.6 else rng.choice(fonts)
    ink = rng.choice(INK)
    y = size * rng.uniform(1, 3)
    pitch = size * rng.uniform(1.3, 1.6)
    head_size = int(size * rng.uniform(1.1, 1.9))
    company = company_name(rng)
    if rng.random() < 0.5:
        company = company.upper() + rng.choice([" SDN BHD", " SDN. BHD.", " (M) SDN BHD", " ENTERPRISE", " TRADING"])
    head_size = canvas.fit(company, head_size, width * 0.92, font)
    canvas.text(company, width / 2, y, head_size, font, ink, "center")
    y += head_size * 1.5
    align = rng.choice(["center", "center", "left"])
    lines = address_lines(rng) + [f"{rng.choice(['TEL', 'Tel', 'TEL NO', 'Tel No'])}{_colon(rng)}{phone(rng)}"]
    if rng.random() < 0.3:
        lines.append(f"{rng.choice(['FAX', 'Fax'])}{_colon(rng)}{phone(rng)}")
    if rng.random() < 0.6:
        number = f"{rng.randint(1000, 1299999)}-{rng.choice('AXHUPDTMVW')}"
        lines.insert(0, rng.choice([f"({number})", f"(CO. REG. NO{_colon(rng)}{number})", f"Company No{_colon(rng)}{number}", f"({number}) "]).strip())
    if rng.random() < 0.6:
        lines.append(f"{rng.choice(['GST ID', 'GST REG NO', 'GST Reg No', 'GST ID No', 'SST ID'])}{_colon(rng)}{rng.randint(10 ** 11, 10 ** 12 - 1)}")
    for line in lines:
        s = canvas.fit(line, size, width * 0.94, font)
        canvas.text(line, width / 2 if align == "center" else size, y, s, font, ink, align)
        y += pitch
    y += pitch * 0.5
    canvas.text(rng.choice(RECEIPT_TITLES), width / 2, y, size, font, ink, "center")
    y += pitch
    for label in (["Date"] if rng.random() < 0.8 else []) + rng.sample(RECEIPT_META, rng.randint(0, 4)):
        value = {"Date": f"{date_text(rng)} {time_text(rng) if rng.random() < 0.6 else ''}".strip(), "Time": time_text(rng),
                 "Cashier": rng.choice(GIVEN).upper(), "Salesperson": rng.choice(GIVEN).upper(), "Served by": rng.choice(GIVEN),
                 "Pax": str(rng.randint(1, 8))}.get(label, ident(rng))
        label = label.upper() if rng.random() < 0.4 else label
        text = f"{label}{_colon(rng)}{value}"
        s = canvas.fit(text, size, width * 0.94, font)
        canvas.text(text, size, y, s, font, ink)
        y += pitch
    rule = rng.choice(["-", "=", "*"]) * 60
    canvas.text(rule, size * 0.5, y, size, font, ink, track=False)
    y += pitch
    if rng.random() < 0.5:
        header = rng.choice(RECEIPT_ITEM_HEADERS)
        canvas.text(header, size, y, canvas.fit(header, size, width - 2 * size, font), font, ink)
        y += pitch
    total = 0.0
    tax_code = rng.random() < 0.35  # GST-era tills print a tax code ("SR", "ZR") after each amount
    for _ in range(n_items):
        price = round(rng.uniform(0.5, 80), 2)
        qty = rng.randint(1, 4)
        total += price * qty
        name = " ".join(rng.choice(PRODUCTS) for _ in range(rng.randint(1, 3)))
        name = name.title() if mixed_case else name.upper()
        if rng.random() < 0.4:
            canvas.text(name, size, y, size, font, ink)
            y += pitch
            canvas.text(rng.choice([f"{qty} x {price:.2f}", f"{qty} X {price:.2f}", f"{qty}x{price:.2f}", f"{qty} @ {price:.2f}"]), size * 2, y, size, font, ink)
        else:
            canvas.text(f"{qty} {name}" if rng.random() < 0.5 else name, size, y, size, font, ink)
        amount = f"{price * qty:.2f}" + (rng.choice([" SR", " SR", " ZR"]) if tax_code else "")
        canvas.text(amount, width - size, y, size, font, ink, "right")
        y += pitch
    canvas.text(rule, size * 0.5, y, size, font, ink, track=False)
    y += pitch
    currency = rng.choice([None, None, "RM"])
    for label in rng.sample(RECEIPT_TOTALS, rng.randint(2, 7)):
        label = label.title() if mixed_case and label.isupper() else label
        if rng.random() < 0.3:
            label += _colon(rng).rstrip()
        canvas.text(label, size, y, canvas.fit(label, size, width * 0.6, font), font, ink)
        canvas.text(money(total * rng.uniform(0.05, 1.2), rng, currency), width - size, y, size, font, ink, "right")
        y += pitch
    if gst_summary and y + pitch * 4 < height:
        y += pitch * 0.5
        for line in [rng.choice(["GST Summary", "GST SUMMARY", "Tax Summary"]), rng.choice(["Amount(RM) Tax(RM)", "Amount (RM) GST (RM)", "Code Amount Tax"]),
                     f"SR @ 6% {total / 1.06:.2f} {total - total / 1.06:.2f}", f"ZR @ 0% {0.0:.2f} {0.0:.2f}"][: rng.randint(3, 4)]:
            canvas.text(line, size, y, canvas.fit(line, size, width - 2 * size, font), font, ink)
            y += pitch
    y += pitch * 0.5
    for line in rng.sample(RECEIPT_FOOTERS, rng.randint(1, 3)):
        if y + pitch < height:
            s = canvas.fit(line, size, width * 0.94, font)
            canvas.text(line, width / 2, y, s, font, ink, "center")
            y += pitch
    return canvas


def _page(rng: random.Random, fonts) -> Canvas:
    width = rng.randint(760, 900)
    height = int(width * rng.uniform(1.25, 1.45))
    return Canvas(Image.new("RGB", (width, height), rng.choice(PAPER)), fonts)


def make_invoice(rng: random.Random, fonts, backgrounds) -> Canvas:
    canvas = _page(rng, fonts)
    W, H = canvas.width, canvas.height
    font = rng.choice(fonts)
    ink = rng.choice(INK)
    accent = rng.choice(VIVID[:10]) if rng.random() < 0.5 else ink
    size = int(W / rng.uniform(55, 75))
    m = W * 0.07
    y = H * 0.05
    company = company_name(rng)
    head = canvas.fit(company, int(size * rng.uniform(1.6, 2.4)), W * 0.55, font)
    canvas.text(company, m, y, head, font, accent)
    title = rng.choice(["INVOICE", "TAX INVOICE", "Invoice", "BILL", "STATEMENT", "QUOTATION"])
    canvas.text(title, W - m, y, int(size * rng.uniform(1.8, 2.8)), font, accent, "right")
    y += head * 1.8
    for line in address_lines(rng) + [f"Tel: {phone(rng)}"]:
        canvas.text(line, m, y, size, font, ink)
        y += size * 1.4
    y += size
    meta_y = y
    canvas.text("Bill To:", m, y, size, font, ink)
    y += size * 1.4
    for line in [company_name(rng)] + address_lines(rng)[:2]:
        canvas.text(line, m, y, size, font, ink)
        y += size * 1.4
    for i, (label, value) in enumerate([("Invoice No:", ident(rng)), ("Date:", date_text(rng)), ("Due Date:", date_text(rng)), ("Terms:", rng.choice(["30 days", "COD", "Net 14"]))]):
        canvas.text(label, W * 0.6, meta_y + i * size * 1.4, size, font, ink)
        canvas.text(value, W - m, meta_y + i * size * 1.4, size, font, ink, "right")
    y = max(y, meta_y + 5 * size * 1.4) + size
    cols = [m, W * 0.5, W * 0.64, W - m]
    grid = rng.random() < 0.6
    row_h = size * 1.8
    header = ["Description", "Qty", "Unit Price", "Amount"]
    if grid:
        canvas.draw.rectangle((m - 5, y - 4, W - m + 5, y + row_h - 4), fill=tuple(min(255, c + 200) for c in accent) if accent != ink else (220, 220, 220))
    for c, (x, text) in enumerate(zip(cols, header)):
        canvas.text(text, x, y, size, font, ink, "right" if c == 3 else "left")
    y += row_h
    total = 0.0
    for _ in range(rng.randint(3, 12)):
        qty, price = rng.randint(1, 20), round(rng.uniform(1, 500), 2)
        total += qty * price
        desc = " ".join(rng.choice(PRODUCTS) for _ in range(rng.randint(1, 4))).title()
        canvas.text(desc, cols[0], y, size, font, ink)
        canvas.text(str(qty), cols[1], y, size, font, ink)
        canvas.text(f"{price:.2f}", cols[2], y, size, font, ink)
        canvas.text(f"{qty * price:,.2f}", cols[3], y, size, font, ink, "right")
        if grid:
            canvas.draw.line((m - 5, y + row_h - 6, W - m + 5, y + row_h - 6), fill=(150, 150, 150))
        y += row_h
        if y > H * 0.78:
            break
    y += size
    for label, value in [("Subtotal", total), ("Tax", total * 0.06), ("Total", total * 1.06)]:
        canvas.text(label, W * 0.6, y, size, font, ink)
        canvas.text(money(value, rng, rng.choice(["", "$", "RM"])), W - m, y, size, font, ink, "right")
        y += size * 1.5
    if y < H * 0.92:
        canvas.text(rng.choice(["Thank you for your business.", "Payment due within 30 days.", "Please make cheques payable to the company."]), m, H * 0.93, size, font, ink)
    return canvas


def make_form(rng: random.Random, fonts, backgrounds) -> Canvas:
    """A form or data sheet as offices typed them: labelled fields, tables of figures,
    boxes and rules, a filing number up the margin, the odd handwritten note."""
    canvas = _page(rng, fonts)
    W, H = canvas.width, canvas.height
    font = rng.choice(fonts)
    typed = rng.choice([f for f in fonts if "mono" in f.lower()] or fonts)
    ink = rng.choice(INK)
    size = int(W / rng.uniform(38, 70))
    m = W * rng.uniform(0.05, 0.1)
    y = H * rng.uniform(0.03, 0.08)
    bottom = H * rng.uniform(0.65, 0.92)  # forms often leave the lower part blank
    if rng.random() < 0.4:  # a logo block
        canvas.draw.rectangle((m, y, m + size * 4, y + size * 3), fill=ink if rng.random() < 0.5 else None, outline=ink, width=2)
        canvas.text(company_name(rng), m + size * 5, y + size * 0.5, int(size * 1.2), font, ink)
        y += size * 4
    elif rng.random() < 0.5:
        canvas.text(company_name(rng), m, y, size, font, ink)
        y += size * 2
    title = rng.choice(FORM_TITLES)
    title_size = int(size * rng.uniform(1.1, 1.9))
    centred = rng.random() < 0.6
    canvas.text(title, W / 2 if centred else m, y, title_size, font, ink, "center" if centred else "left")
    y += title_size * 2.2
    labels = FORM_LABELS[:]
    rng.shuffle(labels)
    pitch = size * rng.uniform(1.6, 2.6)
    filled = rng.uniform(0.4, 1.0)

    def field(x, y, end, label):
        box = canvas.text(label + rng.choice([":", ":", "", " :"]), x, y, size, font, ink)
        style = rng.random()
        if style < 0.5:
            canvas.draw.line((box[2] + size * 0.5, box[3] + 2, end, box[3] + 2), fill=ink)
        elif style < 0.65:
            canvas.draw.rectangle((box[2] + size * 0.5, box[1] - 4, end, box[3] + 4), outline=ink)
        if rng.random() < filled and end - box[2] > size * 3:
            value = rng.choice([person(rng), date_text(rng), phone(rng), str(rng.randint(1, 99999)), company_name(rng).title(),
                                rng.choice(ENGLISH).title(), f"{rng.randint(1, 999)} {rng.choice(PRODUCTS)}"])
            s = canvas.fit(value, size, end - box[2] - size, typed)
            canvas.text(value, box[2] + size, y, s, typed, rng.choice(INK))

    while y < bottom:
        section = rng.random()
        if section < 0.4:  # rows of labelled fields, in one to three columns
            columns = rng.choice([1, 1, 2, 2, 3])
            for _ in range(rng.randint(2, 7)):
                if y > H * 0.9 or not labels:
                    break
                for c in range(columns):
                    if not labels:
                        labels = FORM_LABELS[:]
                    x = m + c * (W - 2 * m) / columns
                    field(x, y, x + (W - 2 * m) / columns - size, labels.pop())
                y += pitch
        elif section < 0.55:  # a table of figures
            n_cols = rng.randint(3, 6)
            col_w = (W - 2 * m) / n_cols
            grid = rng.random() < 0.6
            top = y
            for r in range(rng.randint(2, 6)):
                for c in range(n_cols):
                    if r == 0:
                        text = rng.choice(FORM_LABELS + ["Total", "Units", "Mean", "Sample", "%", "Year"])
                    elif c == 0:
                        text = rng.choice(PRODUCTS).title() if rng.random() < 0.7 else str(rng.randint(1, 40))
                    else:
                        text = rng.choice([f"{rng.uniform(0, 100):.1f}", str(rng.randint(0, 9999)), f"{rng.randint(0, 100)}%", f"{rng.uniform(0, 5):.2f}"])
                    s = canvas.fit(text, size, col_w - size * 0.5, typed if r else font)
                    canvas.text(text, m + c * col_w + size * 0.3, y, s, typed if r else font, ink)
                y += size * 1.7
                if grid:
                    canvas.draw.line((m, y - size * 0.3, W - m, y - size * 0.3), fill=ink)
                if y > H * 0.9:
                    break
            if grid:
                for c in range(n_cols + 1):
                    canvas.draw.line((m + c * col_w, top - size * 0.3, m + c * col_w, y - size * 0.3), fill=ink)
            y += size
        elif section < 0.85:  # a few lines of typed running text
            for text in wrap(sentence(rng, rng.randint(12, 60)), canvas, size, W - 2 * m, typed)[:6]:
                canvas.text(text, m, y, size, typed, ink)
                y += size * 1.4
            y += size * 0.6
        else:  # check boxes
            x = m
            for option in rng.sample(["Yes", "No", "N/A", "Approved", "Rejected", "Urgent", "Routine", "Other"], rng.randint(2, 4)):
                canvas.draw.rectangle((x, y, x + size, y + size), outline=ink)
                if rng.random() < 0.3:
                    canvas.draw.line((x, y, x + size, y + size), fill=ink, width=2)
                box = canvas.text(option, x + size * 1.6, y, size, font, ink)
                x = box[2] + size * 2
            y += pitch
    if rng.random() < 0.5:  # a filing number printed up the right margin
        number = str(rng.randint(10 ** 7, 10 ** 10))
        strip = Image.new("RGB", (int(canvas.width_of(number, size, typed) + size), int(size * 1.6)), canvas.image.getpixel((W - 2, H // 2)))
        Canvas(strip, fonts).text(number, size * 0.5, size * 0.2, size, typed, ink)
        canvas.image.paste(strip.rotate(90, expand=True), (int(W - m * 0.8), int(H * rng.uniform(0.5, 0.8))))
    for _ in range(rng.choice([0, 0, 1, 2, 3])):  # handwriting: scribbled strokes
        x, y = rng.uniform(m, W * 0.7), rng.uniform(H * 0.1, H * 0.9)
        points = [(x + i * size * 0.7, y + rng.uniform(-size * 0.6, size * 0.6)) for i in range(rng.randint(5, 20))]
        canvas.draw.line(points, fill=rng.choice([(20, 20, 120), (30, 30, 30)]), width=2)
    return canvas


def make_letter(rng: random.Random, fonts, backgrounds) -> Canvas:
    canvas = _page(rng, fonts)
    W, H = canvas.width, canvas.height
    font = rng.choice(fonts)
    ink = rng.choice(INK)
    size = int(W / rng.uniform(45, 65))
    m = W * rng.uniform(0.08, 0.13)
    y = H * 0.05
    company = company_name(rng)
    head = canvas.fit(company, int(size * rng.uniform(1.2, 2.2)), W - 2 * m, font)
    centred = rng.random() < 0.5
    canvas.text(company, W / 2 if centred else m, y, head, font, rng.choice(INK + VIVID[:6]), "center" if centred else "left")
    y += head * 1.6
    canvas.text(" | ".join(address_lines(rng)[:2]), m, y, int(size * 0.8), font, ink)
    y += size * 3
    canvas.text(date_text(rng), m, y, size, font, ink)
    y += size * 2.2
    for line in [person(rng), company_name(rng).title()] + address_lines(rng)[:2]:
        canvas.text(line, m, y, size, font, ink)
        y += size * 1.4
    y += size
    canvas.text(f"Dear {rng.choice(['Mr.', 'Ms.', 'Dr.'])} {rng.choice(SURNAMES).title()},", m, y, size, font, ink)
    y += size * 2
    while y < H * 0.78:
        for line in wrap(" ".join(sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(2, 5))), canvas, size, W - 2 * m, font):
            canvas.text(line, m, y, size, font, ink)
            y += size * 1.45
            if y > H * 0.8:
                break
        y += size * 0.9
    for line in [rng.choice(["Sincerely,", "Yours faithfully,", "Best regards,", "Kind regards,"]), "", person(rng)]:
        if line and y < H * 0.96:
            canvas.text(line, m, y, size, font, ink)
        y += size * 1.5
    return canvas


# --- text on pictures -------------------------------------------------------------------


def _picture(rng: random.Random, backgrounds: Backgrounds, width: int, height: int, photo_share: float = 0.5) -> Image.Image:
    roll = rng.random()
    if roll < photo_share:
        return backgrounds.photo(rng, width, height)
    if roll < photo_share + (1 - photo_share) / 2:
        return Image.new("RGB", (width, height), rng.choice(VIVID))
    return gradient(rng, width, height)


def make_sign(rng: random.Random, fonts, backgrounds) -> Canvas:
    width = rng.randint(500, 900)
    height = int(width * rng.uniform(0.35, 1.0))
    base = _picture(rng, backgrounds, width, height, photo_share=0.55)
    canvas = Canvas(base, fonts)
    font = rng.choice(fonts)
    n = rng.choices([1, 2, 3], [0.5, 0.35, 0.15])[0]
    words = [" ".join(rng.sample(SIGN_WORDS, rng.randint(1, 2))) for _ in range(n)]
    if rng.random() < 0.2:
        words[-1] = rng.choice(["→", "←", ""]) + f" {rng.randint(10, 900)} m" if rng.random() < 0.5 else phone(rng)
    # A panel (the sign itself) on a photo, or text straight on a flat colour.
    panel = rng.random() < 0.6
    x0, y0, x1, y1 = 0, 0, width, height
    if panel:
        pw, ph = width * rng.uniform(0.55, 0.95), height * rng.uniform(0.4, 0.9)
        x0, y0 = rng.uniform(0, width - pw), rng.uniform(0, height - ph)
        x1, y1 = x0 + pw, y0 + ph
        colour = rng.choice(VIVID)
        canvas.draw.rectangle((x0, y0, x1, y1), fill=colour, outline=contrasting(rng, colour) if rng.random() < 0.5 else None, width=4)
    fill = contrasting(rng, mean_colour(canvas.image, (x0, y0, x1, y1)))
    sizes = [int((y1 - y0) / (n + 0.6) * rng.uniform(0.45, 0.8)) for _ in words]
    if n > 1 and rng.random() < 0.5:
        sizes[1:] = [int(s * rng.uniform(0.45, 0.75)) for s in sizes[1:]]
    sizes = [canvas.fit(w, s, (x1 - x0) * 0.9, font) for w, s in zip(words, sizes)]
    total = sum(s * 1.3 for s in sizes)
    y = y0 + ((y1 - y0) - total) / 2
    for word, s in zip(words, sizes):
        canvas.text(word, (x0 + x1) / 2, y, s, font, fill, "center")
        y += s * 1.3
    return canvas


def make_poster(rng: random.Random, fonts, backgrounds) -> Canvas:
    width = rng.randint(480, 720)
    height = int(width * rng.uniform(1.3, 1.6))
    canvas = Canvas(_picture(rng, backgrounds, width, height, photo_share=0.5), fonts)
    W, H = width, height
    font = rng.choice(fonts)
    centred = rng.random() < 0.7
    cjk = rng.random() < 0.3
    head = rng.choice(CJK_HEADS) if cjk else rng.choice(POSTER_HEADS)
    heads = [head] if cjk or rng.random() < 0.5 else head.split(" ", 1)
    # An inset picture (the product, the band) fills part of the poster.
    if rng.random() < 0.5:
        iw, ih = int(W * rng.uniform(0.4, 0.8)), int(H * rng.uniform(0.25, 0.45))
        inset = backgrounds.photo(rng, iw, ih)
        canvas.image.paste(inset, (rng.randint(0, W - iw), int(H * rng.uniform(0.4, 0.95 - ih / H))))
    y = H * rng.uniform(0.05, 0.15)
    fill = contrasting(rng, mean_colour(canvas.image, (0, y, W, y + H * 0.25)))
    size = int(W * rng.uniform(0.06, 0.17))
    for line in heads:
        s = canvas.fit(line, size, W * 0.88, font)
        canvas.text(line, W / 2 if centred else W * 0.07, y, s, font, fill, "center" if centred else "left")
        y += s * 1.25
    sub = int(size * rng.uniform(0.3, 0.5))
    if rng.random() < 0.7:
        strip = rng.random() < 0.4
        text = rng.choice(["每满200减20", "全场包邮", "限量发售"]) if cjk else rng.choice(["UP TO 50% OFF", "This Saturday Only", "Free Entry", "Limited Time Offer", "Don't miss it!"])
        s = canvas.fit(text, sub, W * 0.85, font)
        if strip:
            tw = canvas.width_of(text, s, font)
            colour = rng.choice(VIVID)
            cx = W / 2 if centred else W * 0.07 + tw / 2
            canvas.draw.rounded_rectangle((cx - tw / 2 - s * 0.5, y - s * 0.2, cx + tw / 2 + s * 0.5, y + s * 1.3), radius=int(s * 0.5), fill=colour)
            fill_sub = contrasting(rng, colour)
        else:
            fill_sub = fill
        canvas.text(text, W / 2 if centred else W * 0.07, y, s, font, fill_sub, "center" if centred else "left")
        y += s * 2
    small = int(size * rng.uniform(0.15, 0.25))
    details = [date_text(rng), rng.choice(["City Hall", "Central Park", "Main Street Arena", "The Old Mill", "Riverside Plaza"]),
               f"www.{rng.choice(BUSINESS_WORDS)}{rng.choice(['.com', '.org', '.net'])}", f"Tickets {money(rng.uniform(5, 80), rng, '$')}", time_text(rng)]
    # Details follow the headline or sit at the foot of the poster.
    yb = y + small * 0.5 if rng.random() < 0.5 else H * rng.uniform(0.7, 0.85)
    fill_small = contrasting(rng, mean_colour(canvas.image, (0, yb, W, min(H, yb + small * 6))))
    details += ["Doors open " + time_text(rng), rng.choice(["All welcome", "Free parking", "Food and drinks", "Book now"])]
    for text in rng.sample(details, rng.randint(2, 5)):
        if yb + small * 1.4 < H:
            canvas.text(text, W / 2 if centred else W * 0.07, yb, small, font, fill_small, "center" if centred else "left")
            yb += small * 1.4
    return canvas


def make_screenshot(rng: random.Random, fonts, backgrounds) -> Canvas:
    phone_like = rng.random() < 0.35
    width, height = (rng.randint(360, 480), 0) if phone_like else (rng.randint(960, 1280), 0)
    height = int(width * (rng.uniform(1.8, 2.2) if phone_like else rng.uniform(0.56, 0.75)))
    dark = rng.random() < 0.3
    bg = (30, 32, 36) if dark else rng.choice([(255, 255, 255), (246, 247, 249), (240, 242, 245)])
    fg = (230, 230, 230) if dark else (33, 33, 33)
    canvas = Canvas(Image.new("RGB", (width, height), bg), fonts)
    font = rng.choice([f for f in fonts if "sans" in f.lower()] or fonts)
    size = int((width if phone_like else height) / rng.uniform(28, 45))
    accent = rng.choice(VIVID[:9])
    bar_h = size * 2.6
    canvas.draw.rectangle((0, 0, width, bar_h), fill=accent)
    title = rng.choice(UI_WORDS + BRANDS)
    canvas.text(title, size, bar_h / 2 - size * 0.6, int(size * 1.2), font, contrasting(rng, accent))
    if not phone_like:
        for i, item in enumerate(rng.sample(UI_WORDS, 4)):
            canvas.text(item, width * (0.45 + i * 0.13), bar_h / 2 - size * 0.5, size, font, contrasting(rng, accent))
    x_content = size
    if not phone_like and rng.random() < 0.7:
        side_w = width * rng.uniform(0.16, 0.24)
        canvas.draw.rectangle((0, bar_h, side_w, height), fill=tuple(max(0, c - 12) for c in bg) if not dark else (45, 47, 52))
        yy = bar_h + size
        for item in rng.sample(UI_WORDS, min(len(UI_WORDS), rng.randint(5, 12))):
            canvas.text(item, size, yy, size, font, fg)
            yy += size * 2
            if yy > height - size * 2:
                break
        x_content = side_w + size * 1.5
    y = bar_h + size * 1.5
    heading = rng.choice(["Welcome back", "Recent activity", "Your files", "Settings", "Messages", "Order summary", "Notifications"])
    canvas.text(heading, x_content, y, int(size * 1.5), font, fg)
    y += size * 2.8
    while y < height - size * 4:
        roll = rng.random()
        if roll < 0.5:
            text = sentence(rng, rng.randint(3, 9 if phone_like else 14))[:-1]
            x_text = x_content
            if rng.random() < 0.5:  # an icon or avatar before the item
                canvas.draw.ellipse((x_content, y - size * 0.2, x_content + size * 1.6, y + size * 1.4), fill=rng.choice(VIVID[:10]))
                x_text += size * 2.2
            s = canvas.fit(text, size, width - x_text - size, font)
            canvas.text(text, x_text, y, s, font, fg)
            if rng.random() < 0.5 and not phone_like:
                canvas.text(rng.choice([time_text(rng), date_text(rng), "2 min ago", "Yesterday"]), width - size, y, int(size * 0.85), font, (140, 140, 140), "right")
            y += size * rng.uniform(1.8, 2.6)
        elif roll < 0.7:
            canvas.draw.line((x_content, y, width - size, y), fill=(200, 200, 200) if not dark else (70, 70, 70))
            y += size
        else:
            label = rng.choice(UI_BUTTONS)
            bw = canvas.width_of(label, size, font) + size * 2
            canvas.draw.rounded_rectangle((x_content, y, x_content + bw, y + size * 2), radius=int(size * 0.4), fill=accent)
            canvas.text(label, x_content + bw / 2, y + size * 0.45, size, font, contrasting(rng, accent), "center")
            y += size * 3
    return canvas


def make_product(rng: random.Random, fonts, backgrounds) -> Canvas:
    """A package photographed: a label in the picture with a brand, a product name and
    small print (weight, ingredients, a nutrition table)."""
    width = rng.randint(480, 800)
    height = int(width * rng.uniform(0.75, 1.35))
    canvas = Canvas(_picture(rng, backgrounds, width, height, photo_share=0.85), fonts)
    W, H = width, height
    pw, ph = W * rng.uniform(0.35, 0.7), H * rng.uniform(0.5, 0.85)
    x0 = max(0.0, (W - pw) / 2 + rng.uniform(-0.2, 0.2) * W)
    y0 = max(0.0, (H - ph) / 2 + rng.uniform(-0.08, 0.08) * H)
    x1, y1 = min(W, x0 + pw), min(H, y0 + ph)
    pw = x1 - x0
    colour = rng.choice(VIVID)
    shape = rng.random()
    if shape < 0.4:  # a bottle: a neck above a rounded body
        neck = pw * 0.3
        canvas.draw.rectangle(((x0 + x1) / 2 - neck / 2, max(0, y0 - ph * 0.15), (x0 + x1) / 2 + neck / 2, y0 + 5), fill=rng.choice(VIVID))
        canvas.draw.rounded_rectangle((x0, y0, x1, y1), radius=int(pw * 0.2), fill=colour)
    else:
        canvas.draw.rounded_rectangle((x0, y0, x1, y1), radius=int(pw * rng.uniform(0.0, 0.08)), fill=colour)
    fill = contrasting(rng, colour)
    font = rng.choice(fonts)
    small_font = rng.choice(fonts)
    cx = (x0 + x1) / 2
    y = y0 + ph * rng.uniform(0.05, 0.3)
    brand = rng.choice(BRANDS)
    s = canvas.fit(brand, int(pw * rng.uniform(0.09, 0.15)), pw * 0.85, font)
    canvas.text(brand, cx, y, s, font, fill, "center")
    y += s * 1.4
    kind = rng.choice(PRODUCT_TYPES)
    s2 = canvas.fit(kind, int(s * rng.uniform(0.45, 0.75)), pw * 0.85, font)
    canvas.text(kind, cx, y, s2, font, fill, "center")
    y += s2 * 1.7
    small = max(int(s * rng.uniform(0.18, 0.3)), 8)
    extras = [rng.choice(["100% NATURAL", "NO ADDED SUGAR", "ORGANIC", "NEW RECIPE", "EXTRA VIRGIN", "FAMILY PACK", "GLUTEN FREE"]),
              rng.choice(["Net Wt", "NET WT.", "Net", "e"]) + f" {rng.choice([100, 200, 250, 330, 500, 750, 1000])}{rng.choice(['g', 'ml', 'G', 'ML'])}",
              "Ingredients: " + ", ".join(rng.sample(PRODUCTS, 4)), f"Best before {date_text(rng)}",
              rng.choice(["Keep refrigerated", "Shake well before use", "Made in " + rng.choice(["Italy", "Japan", "Malaysia", "France"])]),
              f"{rng.randint(5, 40)}% more free", rng.choice(["Store in a cool dry place", "Recyclable packaging", "Serving suggestion"])]
    for text in rng.sample(extras, rng.randint(2, 6)):
        t = canvas.fit(text, small, pw * 0.85, small_font)
        if y + t * 1.4 < y1:
            canvas.text(text, cx, y, t, small_font, fill, "center")
            y += t * 1.45
    if rng.random() < 0.35 and y + small * 7 < y1:  # a nutrition table
        tiny = max(int(small * 0.8), 7)
        for label in ["Nutrition Facts", "Energy", "Fat", "Carbohydrate", "Sugars", "Protein", "Salt"][: rng.randint(4, 7)]:
            canvas.text(label, x0 + pw * 0.12, y, tiny, small_font, fill)
            if label != "Nutrition Facts":
                canvas.text(f"{rng.uniform(0, 60):.1f} g", x1 - pw * 0.12, y, tiny, small_font, fill, "right")
            y += tiny * 1.4
    return canvas


def make_scene(rng: random.Random, fonts, backgrounds) -> Canvas:
    width = rng.choice([1280, 1024, 960])
    height = int(width * rng.uniform(0.56, 0.8))
    canvas = Canvas(backgrounds.photo(rng, width, height), fonts)
    for _ in range(rng.randint(1, 6)):
        text = rng.choice([rng.choice(SIGN_WORDS), rng.choice(BRANDS), company_name(rng).split(" ")[0], str(rng.randint(1, 999)),
                           rng.choice(SIGN_WORDS) + " " + rng.choice(SIGN_WORDS), f"{rng.randint(10, 99)}% OFF"])
        size = int(height * rng.uniform(0.015, 0.06))
        font = rng.choice(fonts)
        tw = canvas.width_of(text, size, font)
        x = rng.uniform(0, max(1, width - tw - size))
        y = rng.uniform(0, height - size * 2)
        if rng.random() < 0.6:
            colour = rng.choice(VIVID)
            canvas.draw.rectangle((x - size * 0.4, y - size * 0.3, x + tw + size * 0.4, y + size * 1.5), fill=colour)
            fill = contrasting(rng, colour)
        else:
            fill = contrasting(rng, mean_colour(canvas.image, (x, y, x + tw, y + size)))
        canvas.text(text, x, y, size, font, fill)
    # People and things in front of the text, and a camera's blur: incidental text.
    for _ in range(rng.randint(0, 3)):
        bw, bh = rng.uniform(0.03, 0.15) * width, rng.uniform(0.2, 0.6) * height
        bx, by = rng.uniform(0, width - bw), rng.uniform(0.3, 1.0) * height - bh
        canvas.draw.ellipse((bx, by, bx + bw, by + bh), fill=rng.choice(VIVID + [(40, 40, 40)]))
    return canvas


GENERATORS: dict[str, Callable] = {
    "receipt": make_receipt, "invoice": make_invoice, "form": make_form, "letter": make_letter, "sign": make_sign,
    "poster": make_poster, "screenshot": make_screenshot, "product": make_product, "scene": make_scene,
}


# --- capture: what scanners and cameras do to a picture ----------------------------------


def capture(rng: random.Random, image: Image.Image, kind: str, backgrounds: Backgrounds):
    """Scanner or camera effects: page on a backdrop, small turns, blur, grain, grey, contrast.

    Returns the new image and a function mapping ``(N, 2)`` points of the old one onto it.
    """
    document = kind in ("receipt", "invoice", "form", "letter")
    shift = np.zeros(2)
    turn = None
    if kind == "screenshot":  # pixels straight from the screen: nothing to add
        return image, lambda points: np.asarray(points, float).reshape(-1, 2)
    if kind == "receipt" and rng.random() < 0.3:
        # A receipt scanned on a flatbed: a small strip on a large, nearly blank page.
        bed_w = int(image.width * rng.uniform(1.4, 3.0))
        bed_h = max(int(bed_w * rng.uniform(1.3, 1.45)), image.height + 20)
        bed = Image.new("RGB", (bed_w, bed_h), rng.choice([(255, 255, 255), (245, 245, 245), (225, 225, 225)]))
        pad_x, pad_y = rng.randint(0, bed_w - image.width), rng.randint(0, bed_h - image.height)
        bed.paste(image, (pad_x, pad_y))
        image = bed
        shift = np.array([pad_x, pad_y], float)
    elif document and rng.random() < 0.35:
        # The page photographed or scanned on a backdrop larger than it.
        pad_x, pad_y = int(image.width * rng.uniform(0.02, 0.3)), int(image.height * rng.uniform(0.02, 0.15))
        backdrop = (Image.new("RGB", (image.width + 2 * pad_x, image.height + 2 * pad_y), rng.choice([(255, 255, 255), (200, 200, 200), (90, 90, 90), (30, 30, 30)]))
                    if rng.random() < 0.7 else backgrounds.photo(rng, image.width + 2 * pad_x, image.height + 2 * pad_y))
        backdrop.paste(image, (pad_x, pad_y))
        image = backdrop
        shift = np.array([pad_x, pad_y], float)
    if rng.random() < 0.4:
        angle = rng.uniform(-3, 3) if document else rng.uniform(-8, 8)
        image = image.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=image.getpixel((0, 0)))
        turn = (math.radians(angle), np.array([image.width / 2, image.height / 2]))
    if rng.random() < 0.4:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    array = np.asarray(image).astype(np.float32)
    if rng.random() < (0.35 if document else 0.5):
        nrng = np.random.default_rng(rng.randrange(2 ** 32))
        array = array + nrng.normal(0, rng.uniform(2, 10), array.shape)
    if document and rng.random() < (0.8 if kind == "form" else 0.5):
        array = array.mean(axis=2, keepdims=True).repeat(3, axis=2)  # a greyscale scan or fax
    if rng.random() < 0.3:
        array = (array - 128) * rng.uniform(0.7, 1.1) + 128 + rng.uniform(-20, 20)

    def move(points) -> np.ndarray:
        p = np.asarray(points, float).reshape(-1, 2) + shift
        if turn is not None:  # PIL turns counter-clockwise on screen for a positive angle
            angle, centre = turn
            d = p - centre
            c, s = math.cos(angle), math.sin(angle)
            p = centre + np.stack([d[:, 0] * c + d[:, 1] * s, -d[:, 0] * s + d[:, 1] * c], axis=1)
        return p

    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)), move


def shipped_fonts() -> list[str]:
    return [str(info.path) for info in list_fonts()]


def generate(seed: int, per_kind: int, backgrounds: Optional[Backgrounds] = None, kinds: Sequence[str] = KINDS,
             fonts: Optional[Sequence[str]] = None):
    """Yield ``per_kind`` :class:`Synth` images of each kind, interleaved, from ``seed``."""
    rng = random.Random(seed)
    backgrounds = backgrounds or Backgrounds()
    fonts = list(fonts or shipped_fonts())
    for _ in range(per_kind):
        for kind in kinds:
            canvas = GENERATORS[kind](rng, fonts, backgrounds)
            image, move = capture(rng, canvas.image, kind, backgrounds)
            lines = []
            for text, (x0, y0, x1, y1), size in canvas.lines:
                polygon = move([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
                lines.append((text, polygon.tolist(), size))
            yield Synth(np.asarray(image), kind, canvas.largest[1], lines)
