"""Synthetic documents for training the QA model: receipts, invoices, forms and letters.

Each document is laid out on a virtual page as OCR would see it (lines of words with
pixel boxes, in reading order) and knows which words hold which field, so every field
yields a question with an exact answer span, and every field left out yields a question
the document cannot answer. OCR-like noise then perturbs the page: character confusions,
words glued together (as our recognizer does with narrow spaces), boxes jittered, long
lines split in two. Everything is drawn from one ``random.Random(seed)``: the same seed
gives the same documents on every machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Optional

from ocromni.qa.features import Document, DocWord, normalise_box

# --- vocabularies -----------------------------------------------------------------------

SURNAMES = """tan lim lee wong ng chan goh ong teo koh chua yap ho lau chong kwan foo leong
low soh khoo sim choo ang chia lai yeo mohd ahmad ali hassan ibrahim ismail rahman aziz
kumar raj singh murugan smith jones brown miller davis wilson moore taylor anderson thomas
jackson white harris martin garcia clark lewis walker hall allen young king wright scott
green baker adams nelson hill campbell mitchell roberts carter phillips evans turner parker
collins edwards stewart morris murphy cook rogers morgan cooper peterson reed bailey bell""".split()
GIVEN = """john mary james linda robert susan michael karen david lisa william nancy richard
betty joseph sandra charles ashley daniel emily matthew donna anthony carol mark ruth paul
sharon steven michelle andrew laura kenneth sarah joshua kim kevin jessica brian helen
ahmad siti nur aisyah wei ling mei hui jun hao kah seng chee keong raju priya""".split()
BUSINESS_WORDS = """golden star lucky happy fresh green royal eastern sunrise ocean city
prime united global classic modern family super best smart mega grand new asia pacific
mutiara bintang jaya maju setia indah sentosa harmoni permai cahaya murni sinar bestari
phoenix dragon lotus orchid jade pearl crystal silver diamond rainbow harbour garden""".split()
BUSINESS_KINDS = """trading enterprise restaurant bakery cafe stationery hardware pharmacy
mart supermarket minimarket bookstore electrical motor florist kitchen seafood noodle house
tea house kopitiam bistro food court optical clinic printing services marketing gallery
furniture textile boutique petrol station machinery""".split(" ")
COMPANY_SUFFIX = ["SDN BHD", "SDN. BHD.", "ENTERPRISE", "TRADING", "(M) SDN BHD", "PLT", "LLC", "INC.", "LTD", "CO.", "CORP.", "GROUP", ""]
STREET_PREFIX = ["JALAN", "JLN", "JALAN", "LORONG", "PERSIARAN", "LEBUH"]
STREET_WORDS = """ampang bukit sagu tampoi puteri besar raja laut kuching ipoh klang pudu
cheras kepong damansara meru sentul gombak tun razak sultan ismail abdul harmoni mawar
melati permas setia indah wangsa maju kenanga seroja""".split()
AREAS = """TAMAN DAYA|TAMAN MOLEK|BANDAR BARU|KAWASAN PERINDUSTRIAN BALAKONG|TAMAN SRI MUDA|
BANDAR PUTERI|TAMAN MELAWATI|BANDAR UTAMA|TAMAN CONNAUGHT|SEKSYEN 13|TAMAN UNIVERSITI|
BANDAR SUNWAY|TAMAN PELANGI|PUSAT BANDAR|TAMAN DESA""".replace("\n", "").split("|")
CITIES = [("JOHOR BAHRU", "JOHOR"), ("SHAH ALAM", "SELANGOR"), ("PETALING JAYA", "SELANGOR"), ("KLANG", "SELANGOR"),
          ("KUALA LUMPUR", "WILAYAH PERSEKUTUAN"), ("SERI KEMBANGAN", "SELANGOR"), ("IPOH", "PERAK"), ("SKUDAI", "JOHOR"),
          ("GEORGETOWN", "PULAU PINANG"), ("SEREMBAN", "NEGERI SEMBILAN"), ("KUANTAN", "PAHANG"), ("PUCHONG", "SELANGOR"),
          ("KAJANG", "SELANGOR"), ("MELAKA", "MELAKA"), ("CHERAS", "KUALA LUMPUR")]
US_CITIES = [("Springfield", "IL"), ("Austin", "TX"), ("Portland", "OR"), ("Denver", "CO"), ("Madison", "WI"),
             ("Richmond", "VA"), ("Raleigh", "NC"), ("Boston", "MA"), ("Phoenix", "AZ"), ("Columbus", "OH")]
US_STREETS = ["Main Street", "Oak Avenue", "Park Road", "Elm Street", "Maple Drive", "Cedar Lane", "Washington Blvd",
              "Lake Street", "Hillcrest Road", "Market Street", "Broadway", "2nd Avenue", "Pine Court"]
PRODUCTS = """rice chicken noodle teh tarik kopi ais milo nasi lemak roti canai mee goreng
pen pencil notebook file a4 paper stapler glue tape battery cable bulb socket plug
shampoo soap tissue detergent sugar flour egg bread butter milk cheese juice water
mineral chocolate biscuit cake bun tea coffee latte soup fish prawn vegetable tofu
screw nail drill paint brush hammer glove mask towel sponge bag box""".split()
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"]
FOOTERS = ["THANK YOU", "THANK YOU PLEASE COME AGAIN", "GOODS SOLD ARE NOT RETURNABLE", "HAVE A NICE DAY",
           "EXCHANGE ARE ALLOWED WITHIN 7 DAYS WITH RECEIPT", "STRICTLY NO CASH REFUND", "*** THANK YOU ***",
           "PLEASE KEEP THIS RECEIPT", "GST SUMMARY", "THIS IS A COMPUTER GENERATED RECEIPT"]
FORM_KEYS = ["DATE", "TO", "FROM", "SUBJECT", "NAME", "PHONE", "FAX", "BRAND", "DEPARTMENT", "ACCOUNT NO", "PROJECT",
             "REGION", "PRODUCT", "QUANTITY", "COST", "SUPERVISOR", "APPROVED BY", "REQUESTED BY", "PHONE NO",
             "ADDRESS", "CITY", "STATE", "ZIP", "TITLE", "COMPANY", "DIVISION", "REMARKS", "RE", "CC", "PAGES",
             "START DATE", "END DATE", "BUDGET", "CODE", "MARKET", "TOTAL", "SIGNATURE", "FILE NO", "EXT",
             "DISTRIBUTION", "RESPONSE DUE", "REPORT NO", "TEST NO", "SAMPLE", "BLEND", "REVISION"]

# --- question wordings (training; the benchmark uses its own, different ones) -----------

WORDINGS = {
    "total": ["What is the total?", "What is the total amount?", "total?", "Total amount paid?", "What was the grand total?",
              "How much is the total?", "What is the amount due?", "How much was paid?", "What is the final amount?",
              "total price?", "What is the total including tax?", "How much does the bill come to?", "grand total",
              "amount to pay?", "What is the net total?", "total amount", "How much in total?", "What is the bill total?"],
    "date": ["What is the date?", "date?", "When was this issued?", "On what date was this purchase made?",
             "What date is on the receipt?", "When was the purchase?", "transaction date?", "date of the document",
             "What is the purchase date?", "Which date does it show?", "When was it bought?", "date of issue?"],
    "company": ["What is the company name?", "company?", "Which store is this from?", "Who issued this receipt?",
                "What is the name of the shop?", "Which business is this?", "merchant name?", "vendor?", "Who is the seller?",
                "Name of the store?", "What is the seller's name?", "store name", "Who is the merchant?"],
    "address": ["What is the address?", "address?", "Where is the store?", "What is the company's address?",
                "Where is the shop located?", "store address?", "vendor address?", "location of the business?",
                "What is the merchant's address?", "Where is the seller?", "shop address", "Where is it located?"],
    "invoice_number": ["What is the invoice number?", "invoice no?", "receipt number?", "What is the bill number?",
                       "invoice #", "Which invoice number is this?", "document number?", "What is the receipt no?"],
    "phone": ["What is the phone number?", "telephone?", "tel no?", "What number can I call?", "contact number?"],
    "subtotal": ["What is the subtotal?", "subtotal?", "amount before tax?", "What is the sub total?"],
    "tax": ["How much tax was charged?", "What is the GST amount?", "tax amount?", "What is the sales tax?", "GST?"],
    "cash": ["How much cash was tendered?", "cash paid?", "What amount of cash was given?", "cash?"],
    "change": ["How much change was given?", "change?", "What is the change due?", "balance returned?"],
    "due_date": ["What is the due date?", "When is payment due?", "due date?", "pay by when?"],
    "customer": ["Who is the customer?", "bill to?", "Who is billed?", "customer name?", "Who is the invoice addressed to?"],
    "customer_address": ["What is the billing address?", "customer address?", "Where should the bill go?", "bill to address?"],
    "recipient": ["Who is the letter addressed to?", "recipient?", "To whom is this letter written?", "Who receives this letter?"],
    "sender": ["Who signed the letter?", "Who wrote this letter?", "sender name?", "signed by?"],
    "subject": ["What is the subject?", "subject?", "What is the letter about?", "re?"],
    "time": ["What time was this?", "time?", "At what time was the purchase?"],
    "cashier": ["Who was the cashier?", "cashier name?", "Who served?"],
    "po_number": ["What is the PO number?", "purchase order number?", "PO #?"],
}
FORM_WORDINGS = ["What is the {key}?", "{key}", "What is the {key}", "What does the form say for {key}?",
                 "What is written for {key}?", "Value of {key}?", "{key}?", "What is entered under {key}?"]


# --- small value makers -----------------------------------------------------------------


def _upper_maybe(rng: random.Random, text: str) -> str:
    return text.upper() if rng.random() < 0.7 else text.title()


def person(rng):
    return f"{rng.choice(GIVEN).title()} {rng.choice(SURNAMES).title()}"


def company_name(rng) -> str:
    style = rng.random()
    if style < 0.35:
        words = [rng.choice(SURNAMES), rng.choice(BUSINESS_WORDS), rng.choice(BUSINESS_KINDS)]
    elif style < 0.6:
        words = [rng.choice(BUSINESS_WORDS), rng.choice(BUSINESS_KINDS)]
    elif style < 0.8:
        words = [rng.choice(BUSINESS_WORDS), rng.choice(BUSINESS_WORDS), rng.choice(BUSINESS_KINDS)]
    else:
        words = [rng.choice(SURNAMES) + rng.choice(["'s", " &", ""]), rng.choice(SURNAMES), rng.choice(BUSINESS_KINDS)]
    if rng.random() < 0.15:
        words.append(str(rng.randint(1, 999)))
    if rng.random() < 0.1:
        words.insert(0, rng.choice(["MR", "99", "AEON", "KEDAI", "RESTORAN", "SYARIKAT", "THE"]))
    name = " ".join(words) + " " + rng.choice(COMPANY_SUFFIX)
    return " ".join(_upper_maybe(rng, name).split())


def address_lines(rng) -> list[str]:
    if rng.random() < 0.75:
        number = rng.choice(["NO.", "NO", "LOT", "NO:", "", "G-"]) + str(rng.randint(1, 300)) + rng.choice(["", "", "A", "-1", ", 1ST FLOOR", " & " + str(rng.randint(1, 300))])
        street = f"{rng.choice(STREET_PREFIX)} {rng.choice(STREET_WORDS).upper()} {rng.choice(['', str(rng.randint(1, 30)), str(rng.randint(1, 9)) + '/' + str(rng.randint(1, 9))])}".strip()
        area = rng.choice(AREAS)
        city, state = rng.choice(CITIES)
        postcode = str(rng.randint(10000, 99999))
        parts = [f"{number}, {street},", f"{area},", f"{postcode} {city},", f"{state}" + rng.choice(["", ".", ", MALAYSIA"])]
        if rng.random() < 0.4:  # fewer, longer lines
            parts = [f"{number}, {street}, {area},", f"{postcode} {city}, {state}."]
        elif rng.random() < 0.3:
            parts = [f"{number} {street}", f"{area} {postcode}", f"{city} {state}"]
        lines = [_upper_maybe(rng, p) if rng.random() < 0.2 else p for p in parts]
    else:
        city, state = rng.choice(US_CITIES)
        lines = [f"{rng.randint(1, 9999)} {rng.choice(US_STREETS)}" + rng.choice(["", ", Suite " + str(rng.randint(100, 900))]),
                 f"{city}, {state} {rng.randint(10000, 99999)}"]
    return [" ".join(line.split()) for line in lines]


def date_parts(rng):
    return rng.randint(2014, 2024), rng.randint(1, 12), rng.randint(1, 28)


def date_text(rng, y=None, m=None, d=None) -> str:
    if y is None:
        y, m, d = date_parts(rng)
    style = rng.randrange(12)
    sep = rng.choice(["/", "-", ".", "/"])
    if style < 4:
        return f"{d:02d}{sep}{m:02d}{sep}{y}"
    if style < 6:
        return f"{d:02d}{sep}{m:02d}{sep}{y % 100:02d}"
    if style == 6:
        return f"{d} {MONTHS[m - 1]} {y}"
    if style == 7:
        return f"{d:02d}-{MONTHS[m - 1].title()}-{y % 100:02d}"
    if style == 8:
        return f"{y}-{m:02d}-{d:02d}"
    if style == 9:
        return f"{MONTH_NAMES[m - 1]} {d}, {y}"
    if style == 10:
        return f"{m:02d}/{d:02d}/{y}"
    return f"{d} {MONTH_NAMES[m - 1]} {y}"


def time_text(rng) -> str:
    h, mi, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return rng.choice([f"{h:02d}:{mi:02d}", f"{h:02d}:{mi:02d}:{s:02d}", f"{(h % 12) or 12}:{mi:02d} {'AM' if h < 12 else 'PM'}",
                       f"{(h % 12) or 12}:{mi:02d}:{s:02d}{'AM' if h < 12 else 'PM'}"])


def money(value: float, rng, currency: Optional[str] = None) -> str:
    text = f"{value:,.2f}" if value >= 1000 and rng.random() < 0.5 else f"{value:.2f}"
    if currency:
        return currency + rng.choice(["", " "]) + text
    return text


def ident(rng, prefix_pool=("INV", "CS", "OR", "T", "R", "BILL", "", "")) -> str:
    prefix = rng.choice(prefix_pool)
    body = str(rng.randint(10 ** rng.randint(3, 7), 10 ** 8))
    return prefix + rng.choice(["", "-", "/"]) + body if prefix else body


def phone(rng) -> str:
    return rng.choice([f"0{rng.randint(3, 9)}-{rng.randint(1000000, 99999999)}", f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                       f"+60 {rng.randint(3, 19)}-{rng.randint(100, 999)} {rng.randint(1000, 9999)}", f"01{rng.randint(0, 9)}-{rng.randint(1000000, 9999999)}"])


# --- page layout ------------------------------------------------------------------------


@dataclass
class Page:
    """A virtual page: lines of (text, [x0, y0, x1, y1]) words, fields as word spans."""

    width: int
    height: int
    char_w: float
    line_h: float
    lines: list = field(default_factory=list)  # list of list of [text, box]
    fields: dict = field(default_factory=dict)  # name -> list of (line, word) pairs, in order
    y: float = 0.0
    form_keys: dict = field(default_factory=dict)  # printed key -> field name (forms)

    def add(self, segments, rng, gap: float = 1.0) -> list[list[tuple[int, int]]]:
        """Write one row of segments ``(text, x_or_align)``; returns each segment's (line, word) ids."""
        self.y += self.line_h * gap
        placed = []
        row = len(self.lines)
        words = []
        for text, where in segments:
            tokens = text.split()
            if not tokens:
                placed.append([])
                continue
            width = (len(text) + rng.uniform(-0.5, 0.5)) * self.char_w
            if where == "left":
                x = self.char_w * rng.uniform(1, 3)
            elif where == "right":
                x = self.width - width - self.char_w * rng.uniform(1, 3)
            elif where == "center":
                x = (self.width - width) / 2 + rng.uniform(-2, 2) * self.char_w
            else:
                x = float(where)
            ids = []
            for token in tokens:
                w = len(token) * self.char_w
                ids.append((row, len(words)))
                words.append([token, [x, self.y, x + w, self.y + self.line_h * 0.8]])
                x += w + self.char_w
            placed.append(ids)
        # Segments may have been given out of order: read the row left to right.
        order = sorted(range(len(words)), key=lambda i: words[i][1][0])
        remap = {old: new for new, old in enumerate(order)}
        self.lines.append([words[i] for i in order])
        return [[(r, remap[w]) for r, w in ids] for ids in placed]

    def mark(self, name: str, ids) -> None:
        self.fields.setdefault(name, []).extend(ids)


def _kv(page: Page, rng, label: str, value: str, style: Optional[str] = None):
    """A labelled value on one row (label left, value after it or flush right); returns value ids."""
    style = style or rng.choice(["colon", "colon", "right", "space"])
    if style == "right":
        ids = page.add([(label, "left"), (value, "right")], rng)
    elif style == "space":
        ids = page.add([(f"{label} {value}", "left")], rng)
        n_label = len(label.split())
        return ids[0][n_label:]
    else:
        sep = rng.choice([":", " :", ": "])
        text = f"{label}{sep} {value}" if rng.random() < 0.5 else f"{label}{sep}{value}"
        ids = page.add([(text, "left")], rng)
        n_label = len(f"{label}{sep}".split())
        words = ids[0]
        return words[n_label:] if len(words) > n_label else words[-1:]
    return ids[1]


def make_receipt(rng) -> Page:
    width = rng.randint(420, 640)
    char_w = rng.uniform(8.5, 11.0)
    page = Page(width, 0, char_w, rng.uniform(18, 28))
    if rng.random() < 0.15:
        page.add([(rng.choice(["WELCOME", person(rng), "*** COPY ***", "ORIGINAL"]), "center")], rng)
    company = company_name(rng)
    if len(company) * char_w > width * 0.9 and len(company.split()) > 2:
        words = company.split()
        half = len(words) // 2
        page.mark("company", page.add([(" ".join(words[:half]), "center")], rng)[0])
        page.mark("company", page.add([(" ".join(words[half:]), "center")], rng)[0])
    else:
        page.mark("company", page.add([(company, "center")], rng, gap=1.3)[0])
    if rng.random() < 0.7:
        page.add([(rng.choice(["(CO. REG: {})", "({})", "ROC NO: {}", "CO.REG.NO. {}", "Company No. {}"]).format(
            f"{rng.randint(1000, 1299999)}-{rng.choice('AXHUPDTMVW')}"), "center")], rng)
    align = rng.choice(["center", "center", "left"])
    for line in address_lines(rng):
        page.mark("address", page.add([(line, align)], rng)[0])
    if rng.random() < 0.6:
        page.mark("phone", _kv(page, rng, rng.choice(["TEL", "Tel", "TEL NO", "Phone"]), phone(rng), "colon"))
    if rng.random() < 0.5:
        page.add([(f"GST {rng.choice(['ID', 'REG NO', 'No.'])}: {rng.randint(10 ** 11, 10 ** 12 - 1)}", align)], rng)
    if rng.random() < 0.7:
        page.add([(rng.choice(["TAX INVOICE", "SIMPLIFIED TAX INVOICE", "RECEIPT", "CASH BILL", "OFFICIAL RECEIPT", "INVOICE", "CASH SALES"]), "center")], rng, gap=1.4)
    date, time = date_text(rng), time_text(rng)
    header = [("invoice_number", rng.choice(["Invoice No", "INVOICE NO", "Receipt No", "Bill No", "Doc No", "Inv #", "CS No", "Receipt #", "Trans No"]))]
    rng.shuffle(header)
    style = rng.random()
    if rng.random() < 0.8:
        page.mark("invoice_number", _kv(page, rng, header[0][1], ident(rng)))
    if style < 0.35:
        page.mark("date", _kv(page, rng, rng.choice(["Date", "DATE", "Date/Time", "Tarikh", "Trans Date"]), date))
        if rng.random() < 0.6:
            page.mark("time", _kv(page, rng, rng.choice(["Time", "TIME"]), time))
    elif style < 0.7:  # date and time on one row, no label on the time
        label = rng.choice(["Date", "DATE", "Date/Time", ""])
        text = f"{label}: {date} {time}" if label else f"{date} {time}"
        ids = page.add([(text, "left")], rng)[0]
        n_label = 1 if label else 0
        n_date = len(date.split())
        page.mark("date", ids[n_label:n_label + n_date])
        page.mark("time", ids[n_label + n_date:])
    else:  # date left, time right
        ids = page.add([(date, "left"), (time, "right")], rng)
        page.mark("date", ids[0])
        page.mark("time", ids[1])
    if rng.random() < 0.5:
        page.mark("cashier", _kv(page, rng, rng.choice(["Cashier", "CASHIER", "Served by", "Operator"]), rng.choice(GIVEN).upper()))
    if rng.random() < 0.5:
        page.add([(rng.choice(["ITEM QTY PRICE AMOUNT", "Description Qty U/P Total", "QTY ITEM PRICE(RM)", "ITEM   QTY   RM"]), "left")], rng, gap=1.3)
    subtotal = 0.0
    for _ in range(rng.randint(1, 8)):
        qty = rng.choice([1, 1, 1, 2, 3, 4])
        price = round(rng.uniform(0.5, 80), 1 if rng.random() < 0.5 else 2)
        amount = round(qty * price, 2)
        subtotal += amount
        name = " ".join(rng.choice(PRODUCTS).upper() for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.5:
            page.add([(name, "left")], rng)
            page.add([(f"{qty} X {price:.2f}", width * rng.uniform(0.3, 0.5)), (f"{amount:.2f}", "right")], rng)
        else:
            page.add([(f"{qty} {name}", "left"), (f"{amount:.2f}", "right")], rng)
    subtotal = round(subtotal, 2)
    currency = rng.choice([None, None, "RM", "RM", "$"])
    tax = round(subtotal * rng.choice([0.0, 0.06, 0.06, 0.1]), 2)
    total = round(subtotal + tax, 2)
    rounded = round(round(total * 20) / 20, 2)
    layout = rng.choice(["right", "right", "colon"])
    if rng.random() < 0.6:
        page.mark("subtotal", _kv(page, rng, rng.choice(["SUB TOTAL", "Subtotal", "Total Excl. GST", "SUBTOTAL"]), money(subtotal, rng, currency), layout))
    if tax and rng.random() < 0.8:
        page.mark("tax", _kv(page, rng, rng.choice(["GST 6%", "SST", "Service Tax 10%", "GST @6%", "TAX"]), money(tax, rng, currency), layout))
    total_label = rng.choice(["TOTAL", "Total", "TOTAL (RM)", "GRAND TOTAL", "Total Amount", "NETT TOTAL", "TOTAL INCL. GST",
                              "Total Sales (Inclusive GST)", "AMOUNT DUE", "Total Payable", "TOTAL AMOUNT", "Net Total"])
    if rounded != total and rng.random() < 0.7:
        _kv(page, rng, total_label, money(total, rng, currency), layout)
        _kv(page, rng, rng.choice(["Rounding Adj", "ROUNDING", "Rounding Adjustment"]), f"{rounded - total:.2f}", layout)
        page.mark("total", _kv(page, rng, rng.choice(["TOTAL ROUNDED", "Rounded Total", "TOTAL", "NET TOTAL", "Total Payable"]), money(rounded, rng, currency), layout))
        final = rounded
    else:
        page.mark("total", _kv(page, rng, total_label, money(total, rng, currency), layout))
        final = total
    if rng.random() < 0.7:
        cash = final if rng.random() < 0.3 else float(rng.choice([10, 20, 50, 100, 200]) * (1 + int(final // 200)))
        cash = max(cash, final)
        page.mark("cash", _kv(page, rng, rng.choice(["CASH", "Cash", "Tendered", "PAID", "Visa"]), money(cash, rng, currency), layout))
        page.mark("change", _kv(page, rng, rng.choice(["CHANGE", "Change", "Balance"]), money(round(cash - final, 2), rng, currency), layout))
    for _ in range(rng.randint(0, 3)):
        page.add([(rng.choice(FOOTERS), "center")], rng, gap=1.3)
    page.values = {"total": f"{final:.2f}", "subtotal": f"{subtotal:.2f}"}
    page.height = int(page.y + page.line_h * 2)
    return page


def make_invoice(rng) -> Page:
    width = rng.randint(800, 1000)
    page = Page(width, 0, rng.uniform(8, 11), rng.uniform(20, 28))
    company = company_name(rng)
    right_x = width * rng.uniform(0.55, 0.65)
    title = rng.choice(["INVOICE", "TAX INVOICE", "Invoice", "BILL", "QUOTATION"])
    ids = page.add([(company, "left"), (title, right_x)], rng, gap=1.5)
    page.mark("company", ids[0])
    inv_label = rng.choice(["Invoice No:", "Invoice #", "Invoice Number:", "No.:", "Bill No:"])
    date_label = rng.choice(["Date:", "Invoice Date:", "Issue Date:", "Dated:"])
    addr = address_lines(rng)
    right = [("invoice_number", inv_label, ident(rng)), ("date", date_label, date_text(rng))]
    if rng.random() < 0.6:
        right.append(("due_date", rng.choice(["Due Date:", "Payment Due:", "Due:"]), date_text(rng)))
    if rng.random() < 0.4:
        right.append(("po_number", rng.choice(["PO No:", "P.O. Number:", "PO #"]), ident(rng, ("PO", "P", ""))))
    rows = max(len(addr), len(right))
    for i in range(rows):
        segments = []
        if i < len(addr):
            segments.append((addr[i], "left"))
        if i < len(right):
            segments.append((f"{right[i][1]} {right[i][2]}", right_x))
        ids = page.add(segments, rng)
        if i < len(addr):
            page.mark("address", ids[0])
        if i < len(right):
            n_label = len(right[i][1].split())
            page.mark(right[i][0], ids[-1][n_label:])
    if rng.random() < 0.6:
        page.mark("phone", _kv(page, rng, rng.choice(["Tel", "Phone", "Tel No"]), phone(rng), "colon"))
    page.add([(rng.choice(["Bill To:", "BILL TO", "Customer:", "Sold To:", "To:"]), "left")], rng, gap=1.6)
    customer = company_name(rng) if rng.random() < 0.5 else person(rng)
    page.mark("customer", page.add([(customer, "left")], rng)[0])
    for line in address_lines(rng):
        page.mark("customer_address", page.add([(line, "left")], rng)[0])
    page.add([("Description", "left"), ("Qty", width * 0.55), ("Unit Price", width * 0.65), ("Amount", "right")], rng, gap=1.6)
    subtotal = 0.0
    for _ in range(rng.randint(1, 6)):
        qty, price = rng.randint(1, 20), round(rng.uniform(5, 500), 2)
        amount = round(qty * price, 2)
        subtotal += amount
        name = " ".join(rng.choice(PRODUCTS).title() for _ in range(rng.randint(1, 4)))
        page.add([(name, "left"), (str(qty), width * 0.56), (f"{price:.2f}", width * 0.66), (f"{amount:,.2f}", "right")], rng)
    subtotal = round(subtotal, 2)
    tax = round(subtotal * rng.choice([0.0, 0.06, 0.08, 0.1]), 2)
    total = round(subtotal + tax, 2)
    currency = rng.choice([None, "$", "RM", "USD ", "EUR "])
    page.mark("subtotal", _kv(page, rng, rng.choice(["Subtotal", "Sub Total"]), money(subtotal, rng, currency), "right"))
    if tax:
        page.mark("tax", _kv(page, rng, rng.choice(["Tax", "GST 6%", "VAT", "Sales Tax"]), money(tax, rng, currency), "right"))
    page.mark("total", _kv(page, rng, rng.choice(["Total", "TOTAL", "Amount Due", "Balance Due", "Total Due", "Grand Total"]), money(total, rng, currency), "right"))
    if rng.random() < 0.5:
        page.add([(rng.choice(["Thank you for your business!", "Payment terms: 30 days", "Please pay within 14 days"]), "left")], rng, gap=2)
    page.values = {"total": f"{total:.2f}", "subtotal": f"{subtotal:.2f}"}
    page.height = int(max(page.y + page.line_h * 3, width * 1.3))
    return page


def _form_value(rng, key: str) -> str:
    if "DATE" in key or key == "RESPONSE DUE":
        return date_text(rng)
    if key in ("PHONE", "FAX", "PHONE NO", "EXT"):
        return phone(rng)
    if key in ("NAME", "TO", "FROM", "SUPERVISOR", "APPROVED BY", "REQUESTED BY", "CC", "SIGNATURE"):
        return person(rng) if rng.random() < 0.7 else f"{person(rng)}, {person(rng)}"
    if key in ("COST", "BUDGET", "TOTAL"):
        return money(rng.uniform(10, 90000), rng, rng.choice([None, "$"]))
    if key in ("ADDRESS",):
        return address_lines(rng)[0]
    if key in ("QUANTITY", "PAGES", "ZIP", "CODE", "ACCOUNT NO", "FILE NO", "REPORT NO", "TEST NO"):
        return str(rng.randint(1, 999999))
    words = [rng.choice(PRODUCTS + BUSINESS_WORDS + STREET_WORDS) for _ in range(rng.randint(1, 6))]
    return " ".join(words).title() if rng.random() < 0.6 else " ".join(words).upper()


def make_form(rng) -> Page:
    width = rng.randint(700, 900)
    page = Page(width, 0, rng.uniform(7, 10), rng.uniform(18, 26))
    page.add([(rng.choice(["MEMORANDUM", "FAX TRANSMITTAL", "REQUEST FORM", "PROJECT REPORT", "ORDER FORM",
                           "CONFIDENTIAL", "TEST REQUEST", "APPROVAL FORM", company_name(rng)]), "center")], rng, gap=1.5)
    keys = rng.sample(FORM_KEYS, rng.randint(4, 10))
    key_style = rng.choice(["upper", "title", "upper"])
    colon = rng.choice([":", ":", "", " :"])
    columns = rng.random() < 0.4
    i = 0
    while i < len(keys):
        row_keys = keys[i:i + (2 if columns else 1)]
        i += len(row_keys)
        arrangement = rng.choice(["inline", "inline", "below", "tab"])
        segments, labels, values = [], [], []
        for c, key in enumerate(row_keys):
            printed = (key if key_style == "upper" else key.title()) + colon
            empty = rng.random() < 0.15
            value = "" if empty else _form_value(rng, key)
            x0 = width * (0.05 + 0.5 * c)
            labels.append((printed, key))
            values.append(value)
            if arrangement in ("inline", "tab") or not value:
                offset = (len(printed) + 1) * page.char_w if arrangement == "inline" else width * 0.2
                segments.append((printed, x0))
                segments.append((value, x0 + offset + rng.uniform(0, 3) * page.char_w))
            else:
                segments.append((printed, x0))
        ids = page.add(segments, rng, gap=rng.uniform(1.2, 2.0))
        if arrangement == "below" and any(values):
            below = [(values[c], width * (0.05 + 0.5 * c) + rng.uniform(0, 2) * page.char_w) for c in range(len(row_keys))]
            below_ids = page.add(below, rng)
            for c, (printed, key) in enumerate(labels):
                name = f"form:{printed}"
                page.form_keys[printed] = name
                if values[c]:
                    page.mark(name, below_ids[c])
        else:
            for c, (printed, key) in enumerate(labels):
                name = f"form:{printed}"
                page.form_keys[printed] = name
                if values[c]:
                    page.mark(name, ids[2 * c + 1])
        if rng.random() < 0.2:
            page.add([(" ".join(rng.choice(PRODUCTS + STREET_WORDS) for _ in range(rng.randint(4, 10))), "left")], rng)
    page.values = {}
    page.height = int(max(page.y + page.line_h * 3, width * 1.3))
    return page


def make_letter(rng) -> Page:
    width = rng.randint(800, 900)
    page = Page(width, 0, rng.uniform(8, 10), rng.uniform(20, 26))
    company = company_name(rng)
    page.mark("company", page.add([(company, rng.choice(["center", "left"]))], rng, gap=1.5)[0])
    for line in address_lines(rng):
        page.mark("address", page.add([(line, "center")], rng)[0])
    if rng.random() < 0.6:
        page.mark("phone", _kv(page, rng, rng.choice(["Tel", "Telephone", "Phone"]), phone(rng), "colon"))
    page.mark("date", page.add([(date_text(rng), rng.choice(["left", "right"]))], rng, gap=2.5)[0])
    recipient = person(rng)
    page.mark("recipient", page.add([(recipient, "left")], rng, gap=2)[0])
    for line in address_lines(rng):
        page.add([(line, "left")], rng)
    if rng.random() < 0.7:
        subject = " ".join(rng.choice(PRODUCTS + BUSINESS_WORDS) for _ in range(rng.randint(2, 6))).title()
        page.mark("subject", _kv(page, rng, rng.choice(["Re", "Subject", "RE", "Ref"]), subject, "colon"))
    page.add([(f"Dear {recipient.split()[0]},", "left")], rng, gap=2)
    for _ in range(rng.randint(2, 6)):
        words = [rng.choice(PRODUCTS + BUSINESS_WORDS + STREET_WORDS + ["the", "and", "of", "to", "we", "your", "is"]) for _ in range(rng.randint(6, 14))]
        page.add([(" ".join(words), "left")], rng)
    page.add([(rng.choice(["Sincerely,", "Yours faithfully,", "Best regards,", "Yours truly,"]), "left")], rng, gap=2)
    page.mark("sender", page.add([(person(rng), "left")], rng, gap=2.5)[0])
    page.add([(rng.choice(["Manager", "Director", "Sales Executive", "Vice President", "Account Manager"]), "left")], rng)
    page.values = {}
    page.height = int(max(page.y + page.line_h * 3, width * 1.3))
    return page


MAKERS = {"receipt": make_receipt, "invoice": make_invoice, "form": make_form, "letter": make_letter}
KIND_WEIGHTS = {"receipt": 0.5, "invoice": 0.2, "form": 0.2, "letter": 0.1}

# --- OCR-like noise ---------------------------------------------------------------------

CONFUSIONS = {"O": "0", "0": "O", "I": "1", "1": "I", "l": "1", "S": "5", "5": "S", "B": "8", "8": "B", "E": "F",
              "Z": "2", "G": "6", ",": ".", ".": ",", "(": "（", ")": "）", ":": ";", "rn": "m", "m": "rn"}


def _noisy_text(rng, text: str, rate: float) -> str:
    out = []
    for ch in text:
        r = rng.random()
        if r < rate and ch in CONFUSIONS:
            out.append(CONFUSIONS[ch])
        elif r < rate * 1.2:
            continue  # dropped character
        else:
            out.append(ch)
    return "".join(out) or text


def add_ocr_noise(rng, page: Page, strength: float = 1.0) -> None:
    """Perturb ``page`` in place as OCR would; field spans follow the words they name."""
    char_rate = rng.choice([0.0, 0.005, 0.01, 0.03]) * strength
    glue_rate = rng.choice([0.0, 0.1, 0.3, 0.6]) * strength
    jitter = page.char_w * 0.3 * strength
    new_lines, remap = [], {}
    for row, words in enumerate(page.lines):
        merged = []
        for index, (text, box) in enumerate(words):
            text = _noisy_text(rng, text, char_rate)
            box = [box[0] + rng.gauss(0, jitter), box[1] + rng.gauss(0, jitter), box[2] + rng.gauss(0, jitter), box[3] + rng.gauss(0, jitter)]
            near = merged and box[0] - merged[-1][1][2] < page.char_w * 1.6
            if near and rng.random() < glue_rate:
                last = merged[-1]
                last[0] += text
                last[1] = [min(last[1][0], box[0]), min(last[1][1], box[1]), max(last[1][2], box[2]), max(last[1][3], box[3])]
                last[2].append(index)
            else:
                merged.append([text, box, [index]])
        # A long row with a wide gap sometimes comes back as two lines.
        pieces = [merged]
        if len(merged) > 2 and rng.random() < 0.2 * strength:
            gaps = [merged[i + 1][1][0] - merged[i][1][2] for i in range(len(merged) - 1)]
            cut = max(range(len(gaps)), key=gaps.__getitem__) + 1
            pieces = [merged[:cut], merged[cut:]]
        for piece in pieces:
            line_no = len(new_lines)
            for word_no, (text, box, sources) in enumerate(piece):
                for source in sources:
                    remap[(row, source)] = (line_no, word_no)
            new_lines.append([[text, box] for text, box, _ in piece])
    page.lines = new_lines
    fields = {}
    for name, ids in page.fields.items():
        seen = []
        for pair in ids:
            target = remap[pair]
            if target not in seen:
                seen.append(target)
        fields[name] = seen
    page.fields = fields


# --- documents with questions -----------------------------------------------------------


@dataclass
class QAPair:
    question: str
    spans: list  # [(first_word, last_word)] in document word indices; empty = no answer
    answer: str = ""
    field: str = ""


def field_text(page: Page, ids) -> str:
    return " ".join(page.lines[r][w][0] for r, w in ids)


def to_document(page: Page, source: str) -> tuple[Document, dict]:
    """The Document the model sees, and each (line, word) id's index in it."""
    words, lines, index = [], [], {}
    for row, line in enumerate(page.lines):
        if not line:
            continue
        line_index = len(lines)
        lines.append(" ".join(t for t, _ in line))
        for word_no, (text, box) in enumerate(line):
            index[(row, word_no)] = len(words)
            words.append(DocWord(text, normalise_box(box, page.width, page.height), 1, line_index, list(box)))
    return Document(source, words, lines, [1] * len(lines)), index


def questions_for(rng, page: Page, index: dict, n_negative: int) -> list[QAPair]:
    pairs = []
    for name, ids in page.fields.items():
        if not ids:
            continue
        positions = sorted(index[i] for i in ids)
        span = [(positions[0], positions[-1])]
        if name.startswith("form:"):
            key = name[5:]
            question = rng.choice(FORM_WORDINGS).format(key=key)
        elif name in WORDINGS:
            question = rng.choice(WORDINGS[name])
        else:
            continue
        answer = getattr(page, "values", {}).get(name) or field_text(page, ids)
        pairs.append(QAPair(question, span, answer, name))
    absent = [name for name in WORDINGS if name not in page.fields]
    for name in rng.sample(absent, min(n_negative, len(absent))):
        pairs.append(QAPair(rng.choice(WORDINGS[name]), [], "", name))
    # Forms: keys printed with nothing filled in are natural unanswerable questions.
    for printed, name in page.form_keys.items():
        if name not in page.fields and rng.random() < 0.7:
            pairs.append(QAPair(rng.choice(FORM_WORDINGS).format(key=printed), [], "", name))
    return pairs


def generate(seed: int, count: int, noise: float = 1.0, kinds: Optional[dict] = None):
    """Yield ``(Document, [QAPair])`` for ``count`` synthetic documents from ``seed``."""
    rng = random.Random(seed)
    kinds = kinds or KIND_WEIGHTS
    names, weights = list(kinds), list(kinds.values())
    for number in range(count):
        kind = rng.choices(names, weights)[0]
        page = MAKERS[kind](rng)
        if noise and rng.random() < 0.85:
            add_ocr_noise(rng, page, noise)
        document, index = to_document(page, f"synthetic-{kind}-{number}")
        yield document, questions_for(rng, page, index, n_negative=rng.randint(1, 3))
