"""ask: answers with confidence and evidence from a real rendered receipt, through real OCR."""

import json

import numpy as np
import pytest
import typer
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

import ocromni
from ocromni.engine import get_engine
from ocromni.qa.answer import Answer, clean_amount, clean_date
from ocromni.qa.features import Document, DocWord, document_from_pages, make_windows
from ocromni.qa.model import default_weights_dir
from ocromni.tasks.ask import ask_documents, qa_reader

pytestmark = pytest.mark.skipif(not (default_weights_dir() / "config.json").is_file(), reason="QA weights not built")

RECEIPT_LINES = [
    ("GOLDEN STAR TRADING SDN BHD", "center"),
    ("NO 12, JALAN BESAR, 81100 JOHOR BAHRU", "center"),
    ("TEL: 07-2231234", "center"),
    ("TAX INVOICE", "center"),
    ("Invoice No: CS10023", "left"),
    ("Date: 12/03/2019", "left"),
    ("NOTEBOOK A4", "left", "5.00"),
    ("BALL PEN BLUE", "left", "12.50"),
    ("TOTAL", "left", "17.50"),
    ("CASH", "left", "20.00"),
    ("CHANGE", "left", "2.50"),
    ("THANK YOU", "center"),
]


def render_receipt(path):
    """A clean receipt image; returns the pixel box of each drawn string."""
    font = ImageFont.load_default(size=28)
    width, line_height = 760, 52
    image = Image.new("RGB", (width, line_height * (len(RECEIPT_LINES) + 2)), "white")
    draw = ImageDraw.Draw(image)
    boxes = {}
    for row, spec in enumerate(RECEIPT_LINES):
        text, align = spec[0], spec[1]
        y = line_height * (row + 1)
        text_width = draw.textlength(text, font=font)
        x = (width - text_width) / 2 if align == "center" else 30
        draw.text((x, y), text, fill="black", font=font)
        boxes[text] = draw.textbbox((x, y), text, font=font)
        if len(spec) > 2:
            amount = spec[2]
            ax = width - 30 - draw.textlength(amount, font=font)
            draw.text((ax, y), amount, fill="black", font=font)
            boxes[amount] = draw.textbbox((ax, y), amount, font=font)
    image.save(path)
    return boxes


@pytest.fixture(scope="module")
def receipt(tmp_path_factory):
    path = tmp_path_factory.mktemp("ask") / "receipt.png"
    boxes = render_receipt(path)
    pages = ocromni.recognize([str(path)])
    return path, boxes, pages


def ask(pages, questions):
    return list(ask_documents(get_engine(), [(pages[0].source, pages)], questions))


def centre_inside(drawn, bbox, slack=6):
    cx, cy = (drawn[0] + drawn[2]) / 2, (drawn[1] + drawn[3]) / 2
    return bbox[0] - slack <= cx <= bbox[2] + slack and bbox[1] - slack <= cy <= bbox[3] + slack


def test_total_and_date_with_evidence(receipt):
    _, boxes, pages = receipt
    total, date = ask(pages, ["What is the total amount?", "What is the date?"])
    assert total.found and total.answer == "17.50"
    assert date.found and date.answer == "12/03/2019"
    for answer, drawn in ((total, boxes["17.50"]), (date, boxes["Date: 12/03/2019"])):
        assert 0.0 <= answer.confidence <= 1.0
        [evidence] = answer.evidence
        assert evidence["page"] == 1
        assert centre_inside(drawn, evidence["bbox"]) or centre_inside(
            [drawn[2] - 5, drawn[1], drawn[2], drawn[3]], evidence["bbox"]
        )
        assert answer.answer in evidence["text"].replace(" ", "") or answer.answer in evidence["text"]


def test_absent_answer_is_not_found(receipt):
    _, _, pages = receipt
    [answer] = ask(pages, ["Who is the letter addressed to?"])
    assert not answer.found
    assert answer.answer == ""
    assert answer.confidence < 0.5
    assert answer.evidence == []


def test_record_shape(receipt):
    _, _, pages = receipt
    [answer] = ask(pages, ["Which company issued this receipt?"])
    record = answer.to_dict()
    assert set(record) == {"source", "question", "answer", "confidence", "found", "evidence"}
    assert record["source"].endswith("receipt.png")
    assert "GOLDEN STAR" in record["answer"].upper().replace("  ", " ")
    json.dumps(record)


@pytest.fixture(scope="module")
def example_pages():
    """The receipt shipped in examples/, read by the real OCR."""
    from conftest import EXAMPLE_RECEIPT

    return ocromni.recognize([str(EXAMPLE_RECEIPT)])


def test_the_shipped_example_answers_whole_fields(example_pages):
    issuer, address = ask(example_pages, ["who issued it?", "Where?"])
    assert issuer.answer == "GREENLEAF MARKET"
    # The address ends at the postcode: the "Tel 023 9284 1170" line below is no part of it.
    assert address.answer == "12 Harbour Road, Portsmouth PO1 3LT"


def test_an_item_price_is_the_amount_on_the_items_row(example_pages):
    eggs, cheddar, bananas = ask(example_pages, ["How much were the eggs?", "price of the cheddar?", "How much did the bananas cost?"])
    assert (eggs.answer, cheddar.answer) == ("4.10", "5.75")  # "Free Range Eggs 12 1 X 4.10"
    assert eggs.evidence[0]["text"] == "4.10"
    assert not bananas.found  # none bought: the total is no answer


def test_the_shipped_example_gives_its_numbers_and_no_email(example_pages):
    phone, number, email = ask(example_pages, ["What's the phone number?", "receipt number?", "What is the shop's email?"])
    assert (phone.answer, number.answer) == ("023 9284 1170", "004817")  # "Tel 023 9284 1170", "Receipt No: 004817"
    assert not email.found and email.confidence < 0.5  # it prints none; "X" by a loose match of "shop's" is no email


def test_model_loads_once_per_engine(receipt):
    _, _, pages = receipt
    engine = get_engine()
    first = qa_reader(engine)
    ask(pages, ["total?"])
    assert qa_reader(engine) is first


def _cli():
    from ocromni.cli.ask import ask as ask_command

    app = typer.Typer()
    app.command()(ask_command)
    app.command("noop")(lambda: None)  # two commands, so the first argument names one
    return app


def test_text_format_prints_only_the_answer(receipt):
    path, _, _ = receipt
    result = CliRunner().invoke(_cli(), ["ask", str(path), "total?"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "17.50\n"


def test_several_questions_as_jsonl(receipt, tmp_path):
    path, _, _ = receipt
    questions = tmp_path / "questions.txt"
    questions.write_text("# receipt fields\nWhat is the date?\n\n")
    out = tmp_path / "answers.jsonl"
    result = CliRunner().invoke(_cli(), ["ask", str(path), "-q", "total?", "--questions-file", str(questions), "-o", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["question"] for r in records] == ["total?", "What is the date?"]
    assert [r["answer"] for r in records] == ["17.50", "12/03/2019"]
    assert all(r["found"] and r["evidence"] for r in records)


def test_missing_question_is_a_usage_error(receipt):
    path, _, _ = receipt
    result = CliRunner().invoke(_cli(), ["ask", str(path)])
    assert result.exit_code == 2


# --- pieces, without OCR ----------------------------------------------------------------


def test_amount_and_date_clean_up():
    assert clean_amount("RM1,234.50") == "1234.50"
    assert clean_amount("TOTAL:33.9O") == "33.90"
    assert clean_date("12-01-1921:13SH01") == "12-01-19"  # time glued on by OCR
    assert clean_date("Date:15/01/2018") == "15/01/2018"
    assert clean_date("9/ 3/ 92") == "9/ 3/ 92"
    assert clean_date("04/03/201815:41:52") == "04/03/2018"
    # Not a date inside a phone number; one separator throughout.
    assert clean_date("Tel: 1300-88-6555") == "Tel: 1300-88-6555"
    assert clean_date("SH01 12- 24/06/2018") == "24/06/2018"


def test_long_documents_are_read_in_overlapping_windows():
    from ocromni.qa.model import load_tokenizer

    words = [DocWord(f"w{i}", (0, i % 1000, 10, i % 1000 + 5), 1 + i // 300, i // 5, [0, 0, 1, 1]) for i in range(700)]
    document = Document("long", words, [f"line {i}" for i in range(140)], [1] * 140)
    table = np.zeros((30522, 384), dtype=np.float32)
    windows = make_windows(load_tokenizer(), table, document, "total?", max_words=256, word_stride=64)
    assert [w.first_word for w in windows] == [0, 192, 384, 576]
    assert windows[-1].first_word + windows[-1].size == 700


def test_empty_document_is_not_found():
    from ocromni.types import PageText

    page = PageText("blank.png", 1, 100, 100)
    [answer] = list(ask_documents(get_engine(), [("blank.png", [page])], ["total?"]))
    assert isinstance(answer, Answer) and not answer.found and answer.answer == ""


def test_multi_page_evidence_names_the_page():
    from ocromni.types import Line, PageText, Word

    def line(text, y):
        words, x = [], 20
        for token in text.split():
            words.append(Word(token, 0.99, [[x, y], [x + 20 * len(token), y], [x + 20 * len(token), y + 30], [x, y + 30]]))
            x += 20 * len(token) + 20
        return Line(text, 0.99, [[20, y], [x, y], [x, y + 30], [20, y + 30]], words)

    first = PageText("doc.pdf", 1, 800, 1000, lines=[line("ACME SUPPLIES LTD", 40), line("Invoice No: 4471", 100)])
    second = PageText("doc.pdf", 2, 800, 1000, lines=[line("Thank you for your order", 400), line("Total Due 99.00", 460)])
    [answer] = list(ask_documents(get_engine(), [("doc.pdf", [first, second])], ["What is the total?"]))
    assert answer.found and answer.answer == "99.00"
    assert answer.evidence[0]["page"] == 2
    assert document_from_pages([first, second]).words[-1].page == 2


# --- the candidate rankers, without OCR ---------------------------------------------------


def _form_page(rows, source="form.png"):
    """A PageText from ``(text, x, y)`` rows, one line each, words 18 px per character."""
    from ocromni.types import Line, PageText, Word

    lines = []
    for text, x0, y in rows:
        words, x = [], x0
        for token in text.split():
            width = 18 * len(token)
            words.append(Word(token, 0.99, [[x, y], [x + width, y], [x + width, y + 28], [x, y + 28]]))
            x += width + 18
        lines.append(Line(text, 0.99, [[x0, y], [x, y], [x, y + 28], [x0, y + 28]], words))
    return PageText(source, 1, 1700, 2200, lines=lines)


FORM_ROWS = [
    ("RESEARCH REQUEST FORM", 600, 60),
    ("Date: 9/3/92", 100, 200),
    ("Supervisor:", 100, 300), ("J. S. Wigand", 700, 300),
    ("Department:", 100, 400), ("Product Development", 640, 404),
    ("Fax Number:", 100, 560),
    ("Comments:", 100, 700),
]


def test_form_values_beside_their_keys():
    page = _form_page(FORM_ROWS)
    questions = ["What is the Supervisor:?", "What is the Department:?", "What is the Date:?"]
    supervisor, department, date = ask_documents(get_engine(), [(page.source, [page])], questions)
    assert supervisor.found and supervisor.answer == "J. S. Wigand"
    assert department.found and department.answer == "Product Development"
    assert date.found and date.answer == "9/3/92"
    assert supervisor.evidence[0]["bbox"][0] >= 690  # the value's box, not the key's


def test_blank_form_field_is_not_found():
    page = _form_page(FORM_ROWS)
    [answer] = list(ask_documents(get_engine(), [(page.source, [page])], ["What is the Fax Number:?"]))
    assert not answer.found and answer.answer == "" and answer.confidence < 0.5


def test_a_loose_match_of_the_question_is_no_label():
    # "patient" reads like "Payment" (0.71): the router files the question under recipient,
    # whose labels (To, Attention) the page does not print, so there is nothing to read.
    page = _form_page([("SUNRISE MINI MART", 500, 60), ("Payment: CASH", 100, 200), ("TOTAL 12.40", 100, 320)])
    patient, payment = ask_documents(get_engine(), [(page.source, [page])], ["Who is the patient?", "What is the payment?"])
    assert not patient.found
    assert payment.found and payment.answer == "CASH"


ROUNDED_RECEIPT_ROWS = [
    ("KEDAI RUNCIT MAJU SDN BHD", 420, 60),
    ("TAX INVOICE", 600, 120),
    ("ITEM", 100, 220), ("AMOUNT", 1300, 220),
    ("SUGAR 1KG", 100, 280), ("2.83", 1400, 280),
    ("COOKING OIL 2KG", 100, 340), ("13.90", 1380, 340),
    ("Total Sales (Incl GST)", 100, 420), ("16.73", 1380, 420),
    ("Rounding Adj", 100, 480), ("0.02", 1400, 480),
    ("Total", 100, 540), ("16.75", 1380, 540),
    ("CASH", 100, 600), ("20.00", 1380, 600),
    ("CHANGE", 100, 660), ("3.25", 1400, 660),
]


def test_total_after_a_rounding_adjustment_is_the_rounded_amount():
    page = _form_page(ROUNDED_RECEIPT_ROWS, source="rounded.png")
    [answer] = list(ask_documents(get_engine(), [(page.source, [page])], ["What is the total amount?"]))
    assert answer.found and answer.answer == "16.75"
    # The features behind it (an amount candidate's 22nd and 23rd): 16.75 is the
    # rounding's result, 16.73 what it adjusted.
    from ocromni.qa.ranker import amount_candidates

    document = document_from_pages([page])
    roles = {c.text: c.features[21:23].tolist() for c in amount_candidates(document)}
    assert roles["16.75"] == [1.0, 0.0] and roles["16.73"] == [0.0, 1.0] and roles["2.83"] == [0.0, 0.0]


def test_amount_split_by_ocr_before_its_point_is_joined():
    from ocromni.qa.ranker import amount_candidates

    page = _form_page([("SUB-TOTAL", 100, 100), ("45.28", 1300, 100), ("TOTAL", 100, 160), ("48 .00", 1280, 160)])
    assert {c.text for c in amount_candidates(document_from_pages([page]))} == {"45.28", "48.00"}


def test_spaced_out_shop_name_is_one_header_row():
    from ocromni.qa.ranker import header_rows

    page = _form_page([
        ("POPULAR", 300, 60), ("BOOK", 520, 60),  # one printed line, split at its wide gap
        ("CO. (M)", 260, 100), ("SDN", 460, 100), ("BHD", 560, 100),
        ("Tel: 07-1234", 100, 160), ("Fax: 07-5678", 700, 160),  # two fields: stay apart
    ])
    rows = header_rows(document_from_pages([page]), 4)
    assert [row.text for row in rows] == ["POPULAR BOOK", "CO. (M) SDN BHD", "Tel: 07-1234", "Fax: 07-5678"]
    assert (rows[1].first, rows[1].last) == (2, 5)  # word span of "CO. (M) SDN BHD", for evidence


def test_form_value_wrapped_onto_the_lines_below_is_a_candidate_whole():
    from ocromni.qa.ranker import form_candidates

    page = _form_page([
        ("Reason for the Amendment: Survival after repeated doses", 100, 300),
        ("may not be predicted from a single day's", 120, 334),
        ("exposure.", 120, 368),
        ("Approved by:", 100, 460),  # the next key: not part of the value
    ])
    texts = {c.text for c in form_candidates(document_from_pages([page]), "What is the Reason for the Amendment?")}
    assert "Survival after repeated doses may not be predicted from a single day's exposure." in texts
    assert not any("Approved" in text and "Survival" in text for text in texts)


def test_table_column_under_its_header_is_a_candidate_whole():
    # FUNSD links a column header to all its cells ("ACCOUNT NO." -> "1800 2160 2592"); the
    # reading order runs along the rows, so the cells are not one span of words, and
    # the evidence is the column's own words, not the row labels read between them.
    from ocromni.qa.answer import evidence_for
    from ocromni.qa.ranker import form_candidates, option_kind

    page = _form_page([
        ("GROUP", 100, 300), ("ACCOUNT", 600, 262), ("NO.", 600, 300),  # the header over two lines
        ("1", 120, 340), ("1800", 600, 340),
        ("2", 120, 380), ("2160", 600, 380),
        ("3", 120, 420), ("2592", 600, 420),
        ("Approved by:", 600, 520),  # a key: the column has ended
    ])
    document = document_from_pages([page])
    candidates = form_candidates(document, "What is the ACCOUNT NO.?")
    cells = [c.text for c in candidates if option_kind(c) in (5, 10)]  # the whole column, and its first cells
    assert cells and not any(text.startswith("NO.") for text in cells)  # the header's second line is no cell
    [column] = [c for c in candidates if c.text == "1800 2160 2592"]
    assert [document.words[i].text for i in column.words] == ["1800", "2160", "2592"]
    [evidence] = evidence_for(document, column.first, column.last, column.words)
    assert evidence["text"].split("\n") == ["1800", "2160", "2592"]
    assert not any("Approved" in c.text and "2592" in c.text for c in candidates)


INVOICE_ROWS = [
    ("ACME Widgets Ltd.", 100, 80),
    ("12 Harbour Road, Bristol BS1 4QA", 100, 130),
    ("INVOICE", 1100, 80),
    ("Invoice No: INV-20931", 1100, 150), ("Date: 14 March 2026", 1100, 200), ("Due Date: 13 April 2026", 1100, 250),
    ("Bill To:", 100, 330), ("Northwind Traders", 400, 330),
    ("Description", 100, 450), ("Amount", 1300, 450),
    ("Steel widget", 100, 510), ("102.00", 1300, 510),
    ("Total due", 1000, 600), ("102.00", 1300, 600),
]


def test_invoice_fields_asked_in_words_the_page_does_not_print():
    # The page prints "Due Date:" and "Bill To:"; the questions say "payment due" and
    # "billed": the router names the field and the form ranker reads its printed label.
    page = _form_page(INVOICE_ROWS, "invoice.png")
    questions = ["When is payment due?", "Who is billed?", "Who issued the invoice?", "What is the flight number?"]
    due, customer, issuer, flight = ask_documents(get_engine(), [(page.source, [page])], questions)
    assert due.found and due.answer == "13 April 2026"
    assert customer.found and customer.answer == "Northwind Traders"
    assert issuer.found and issuer.answer.startswith("ACME Widgets")
    assert not flight.found  # routed to "phone" by its nearest wordings, but it names no phone label


def test_a_money_field_is_the_amount_beside_its_printed_label():
    # "VAT 20%  20.40": the rate stands nearer the label than the tax does.
    rows = INVOICE_ROWS[:-2] + [("VAT 20%", 1000, 560), ("20.40", 1300, 560), ("Total due", 1000, 620), ("122.40", 1300, 620)]
    page = _form_page(rows, "invoice.png")
    [tax] = ask_documents(get_engine(), [(page.source, [page])], ["How much tax?"])
    assert tax.found and tax.answer == "20.40"
    assert tax.evidence[0]["text"] == "20.40"


def test_a_money_field_asked_by_name_is_an_amount_or_not_found():
    # "CHANGE" with nothing but a till's date line under it: neither that line nor a
    # guess from the span model ("01") is the change.
    rows = INVOICE_ROWS + [("CASH", 1000, 660), ("150.00", 1300, 660), ("CHANGE", 1000, 720), ("12-01-19 21:13 SH01", 100, 780)]
    page = _form_page(rows, "receipt.png")
    change, cash = ask_documents(get_engine(), [(page.source, [page])], ["change?", "cash?"])
    assert not change.found
    assert cash.answer == "150.00"


def test_a_till_receipt_prints_its_amounts_a_page_width_right_of_their_labels():
    # Asked in words, of labels flush left and amounts flush right (SROIE's "CASH ...
    # RM 50.00"): the form ranker, which learnt from forms, said "not found" to both.
    rows = [("MR. D.I.Y. (M) SDN BHD", 300, 60), ("-TAX INVOICE-", 400, 120), ("Total Incl. GST@6%", 100, 600),
            ("RM 26.10", 1200, 600), ("CASH", 100, 660), ("RM 50.00", 1200, 660), ("CHANGE", 100, 720), ("RM 23.90", 1200, 720),
            ("GST @6% included in total", 100, 800), ("RM 1.48", 1200, 800), ("23-03-18 18:09 SH01 ZJ86", 100, 880)]
    page = _form_page(rows, "receipt.png")
    questions = ["How much change was given?", "How much cash was tendered?", "How much GST was charged?", "What was the tax?",
                 "How much cash did the customer hand over?"]
    change, cash, gst, tax, handed = ask_documents(get_engine(), [(page.source, [page])], questions)
    # "What was the tax?" finds "TAX INVOICE" first; the amount stands by the GST label.
    assert (change.answer, cash.answer, gst.answer, tax.answer) == ("23.90", "50.00", "1.48", "1.48")
    assert handed.answer == "50.00"  # "how much" asks for an amount: one word naming the field is enough
    assert "23.90" in change.evidence[0]["text"]


@pytest.mark.parametrize("printed, expected", [("23-03-18 18:09 SH01 ZJ86", "18:09"), ("Date: 12/06/2018 03:09:12 pm", "03:09:12 pm"),
                                               ("Time: 16:37:00", "16:37:00")])
def test_the_time_of_day_is_a_time_not_the_date_or_the_total(printed, expected):
    # "What time ...?" sat nearest the date's wordings, "At what time ...?" the total's.
    rows = [("KEDAI PAPAN YEW CHUAN", 300, 60), ("Date: 12/06/2018", 100, 200), (printed, 100, 260), ("TOTAL", 100, 600),
            ("174.90", 1200, 600)]
    page = _form_page(rows, "receipt.png")
    questions = ["What time was the receipt printed?", "At what time did I pay?"]
    for answer in ask_documents(get_engine(), [(page.source, [page])], questions):
        assert answer.found and answer.answer == expected, answer


def test_no_time_printed_is_no_time():
    page = _form_page([("KEDAI PAPAN YEW CHUAN", 300, 60), ("Date: 12/06/2018", 100, 200), ("TOTAL", 100, 600),
                       ("174.90", 1200, 600)], "receipt.png")
    [answer] = ask_documents(get_engine(), [(page.source, [page])], ["What time was the receipt printed?"])
    assert not answer.found


def test_an_invoice_row_gives_its_unit_price_and_its_amount():
    rows = INVOICE_ROWS[:-2] + [("Brass hinge", 100, 560), ("40", 900, 560), ("2.10", 1100, 560), ("84.00", 1300, 560),
                                ("Total due", 1000, 640), ("186.00", 1300, 640)]
    page = _form_page(rows, "invoice.png")
    questions = ["What is the unit price of the brass hinge?", "How much were the brass hinges?", "quantity of brass hinges?"]
    unit, amount, quantity = ask_documents(get_engine(), [(page.source, [page])], questions)
    assert (unit.answer, amount.answer) == ("2.10", "84.00")
    assert quantity.answer != "186.00"  # a count is never the total


def test_a_memo_says_who_it_is_from_and_to():
    rows = [("INTEROFFICE MEMORANDUM", 500, 60), ("TO:", 100, 200), ("J. S. Wigand", 400, 200),
            ("FROM:", 100, 260), ("R. H. Orcutt", 400, 260), ("DATE:", 100, 320), ("May 3, 1990", 400, 320),
            ("SUBJECT:", 100, 380), ("Product testing schedule", 400, 380)]
    page = _form_page(rows, "memo.png")
    sender, recipient = ask_documents(get_engine(), [(page.source, [page])], ["Who is it from?", "Who is it to?"])
    assert (sender.answer, recipient.answer) == ("R. H. Orcutt", "J. S. Wigand")


def test_a_receipt_number_and_phone_are_read_by_their_printed_labels():
    # "TAX INVOICE" heads the page (a label of the invoice number, with no number by it),
    # the number stands by "Bill No:", and the OCR glued "Tel:" and "Fax:" to their numbers.
    rows = [("LIGHTROOM GALLERY SDN BHD", 300, 60), ("Tel:03-3362 4395 Fax:03-3362 4396", 200, 120),
            ("GST No. : 000584089600", 250, 160), ("TAX INVOICE", 500, 200), ("Station: CASHIER Bill No: LCS03908", 100, 260),
            ("Bill Date : 20/12/2017", 100, 320), ("GST 6%", 100, 540), ("4.13", 1200, 540), ("TOTAL RM 73.00", 100, 600)]
    page = _form_page(rows, "receipt.png")
    questions = ["What's the receipt number?", "What's the shop's phone number?", "fax?", "What is the PO number?",
                 "What is the shop's email?", "What is the GST number?", "How much GST?"]
    number, phone, fax, po, email, gst_number, gst = ask_documents(get_engine(), [(page.source, [page])], questions)
    assert number.found and number.answer == "LCS03908"
    assert phone.found and phone.answer == "03-3362 4395"  # the first number, not the fax after it
    assert fax.answer == "03-3362 4396"
    assert not po.found and not email.found and email.confidence < 0.5  # an email is not the address
    assert gst_number.answer == "000584089600" and gst.answer == "4.13"  # the registration is no amount


def test_phone_answer_over_two_lines_is_read_on_its_first():
    # A joined row ("Tel: 03-3362" and "4395" read as two lines) reaches past the line the
    # number is looked for on; it used to index past that line's words.
    from ocromni.qa.ranker import Ranked
    from ocromni.qa.reader import phone_only

    document = document_from_pages([_form_page([("Tel: 03-3362", 100, 100), ("4395", 400, 100)])])
    assert [w.text for w in document.words] == ["Tel:", "03-3362", "4395"]
    cut = phone_only(document, Ranked("03-3362 4395", 0.9, 1, 2))
    assert (cut.text, cut.first, cut.last) == ("03-3362", 1, 1)


def test_printed_key_needs_the_question_to_name_the_field():
    from ocromni.qa.reader import printed_key

    document = document_from_pages([_form_page(INVOICE_ROWS, "invoice.png")])
    assert printed_key(document, "due_date", "When is payment due?") == "Due Date"
    assert printed_key(document, "customer", "Who is billed?") == "Bill To"
    assert printed_key(document, "customer", "Who is the patient?") is None
    assert printed_key(document, "po_number", "What is the PO number?") is None  # not printed
    assert printed_key(document, "invoice_number", "What is the invoice number?") == "Invoice No"
    assert printed_key(document, "invoice_number", "What is the VAT number?") is None  # "number" names no field
    assert printed_key(document, "customer_address", "What is the customer's address?") == "Bill To"
    assert printed_key(document, "customer_address", "What is the customer's email address?") is None


def test_router_places_wordings_it_was_not_trained_on():
    reader = qa_reader(get_engine())
    assert reader.route("How much did I end up paying?") == "total"
    assert reader.route("On which day was this bought?") == "date"
    assert reader.route("Which shop printed this?") == "company"
    assert reader.route("Where is this shop situated?") == "address"
    assert reader.route("What is the Fax:?") == "form"


def test_router_keeps_to_what_the_question_word_asks():
    # Embeddings weigh "issued" over "who": this one sat nearest "When was this issued?".
    reader = qa_reader(get_engine())
    assert reader.route("who issued it?") == "company"
    assert reader.route("When?") == "date"
    assert reader.field_of("How much change was given?")[0] == "change"
    assert reader.field_of("What change did the customer get back?")[0] == "change"  # not who the customer is
    assert reader.field_of("Did the address change?")[0] == "address"  # a change, not money handed back
    assert reader.route("Who is the PROJECT LEADER:?") == "form"  # a quoted key stays open
    assert reader.field_of("How much did the croissants cost?")[0] == "item_price"
    assert reader.route("How much did I pay in total?") == "total"
    assert reader.route("How many items?") == "form"  # a count is none of the fields, least of all the total
    assert reader.field_of("What is the customer's address?")[0] == "customer_address"  # not the issuer's
    assert reader.field_of("What's the shop's phone number?")[0] == "phone"  # a phone is not the shop's address
    assert reader.field_of("Sub-total amount?")[0] == "subtotal"  # a subtotal is not the total
    assert reader.field_of("time of purchase?")[0] == "time"  # a time of day is not the date
    assert reader.route("What is the date and time?") == "date"  # ... unless both are asked


def test_shipped_rankers_are_small_and_complete():
    from ocromni.qa.ranker import KINDS, RANKER_FILE, load_scorers

    path = default_weights_dir() / RANKER_FILE
    assert path.stat().st_size < 2_000_000
    assert set(load_scorers(default_weights_dir())) == set(KINDS)


def test_company_loses_its_registration_number():
    from ocromni.qa.ranker import clean_ranked

    assert clean_ranked("company", "THE TOAST F&B SDN BHD (965752-T)") == "THE TOAST F&B SDN BHD"
    assert clean_ranked("company", "99 SPEED MART S/B") == "99 SPEED MART S/B"
    assert clean_ranked("form", "_B.A.T. CYPRUS") == "B.A.T. CYPRUS"


def test_minilm_in_plain_torch_matches_transformers_bert():
    # The router's sentence encoder runs BERT without transformers (a 3 s import); it must
    # compute what transformers' BertModel computes from the same checkpoint.
    import torch

    transformers = pytest.importorskip("transformers")
    from ocromni.qa.minilm import MiniLM
    from ocromni.qa.model import encoder_path, load_tokenizer

    tokenizer = load_tokenizer()
    texts = ["what is the total amount?", "date", "Who issued this invoice, and where is their office?"]
    ids = [tokenizer(t, add_special_tokens=True)["input_ids"] for t in texts]
    input_ids = torch.zeros((len(ids), max(map(len, ids))), dtype=torch.long)
    mask = torch.zeros_like(input_ids)
    for row, pieces in enumerate(ids):
        input_ids[row, : len(pieces)] = torch.tensor(pieces)
        mask[row, : len(pieces)] = 1
    reference = transformers.BertModel.from_pretrained(str(encoder_path()), local_files_only=True, add_pooling_layer=False)
    with torch.no_grad():
        ours = MiniLM.load(encoder_path())(input_ids, mask)
        theirs = reference.eval()(input_ids=input_ids, attention_mask=mask).last_hidden_state
    tokens = mask.bool()  # padding positions carry no meaning in either
    assert ours.shape == theirs.shape
    assert torch.allclose(ours[tokens], theirs[tokens], atol=1e-4)
    assert theirs[tokens].abs().max() > 1  # not two near-zero tensors


def test_a_label_quoted_in_part_leaves_no_tail_on_the_value():
    from ocromni.qa.ranker import clean_ranked

    # "What is the GST ID?" of "(GST ID No :000306020352)": the rest of the line after "GST ID".
    assert clean_ranked("form", "No :000306020352)") == "000306020352"
    assert clean_ranked("form", "Number: 45") == "45"
    # Values that only begin like a label keep their words and brackets.
    for value in ["No.15, Jalan Ampang", "NO SHIPPING REQUIRED", "(627/647)", "Dr. A. Smith (R&D)"]:
        assert clean_ranked("form", value) == value


def test_a_key_ending_in_value_is_found_as_printed():
    # "What is the date field?" asks for the date, but "COUPON VALUE" is a key of its own:
    # cut to "COUPON", it matched the page's title first and the value was looked for there.
    from ocromni.qa.ranker import form_candidates, key_as_printed

    document = document_from_pages([_form_page([
        ("COUPON CODE REGISTRATION FORM", 500, 60), ("HARLEY-DAVIDSON", 700, 110),
        ("COUPON ISSUE DATE", 100, 300), ("10/11/93", 700, 300),
        ("COUPON VALUE", 100, 400), ("$.50", 700, 400),
    ])])
    assert key_as_printed(document, "What is the COUPON VALUE?") == "COUPON VALUE"
    assert key_as_printed(document, "What is the date value?") == "date"  # no "date value" printed
    assert "$.50" in {c.text for c in form_candidates(document, "What is the COUPON VALUE?")}


def test_a_key_printed_over_stacked_lines_is_one_key():
    # "NUMBER OF / SAMPLING / PERSONNEL:" in a narrow column, its value by the last line.
    from ocromni.qa.ranker import find_keys, form_candidates

    document = document_from_pages([_form_page([
        ("QUANTITIES:", 100, 400), ("270,000", 600, 400),
        ("NUMBER OF", 100, 500), ("SAMPLING", 100, 532), ("PERSONNEL:", 100, 564), ("24 per day", 600, 560),
        ("NUMBER OF", 100, 700), ("SUPERVISORS:", 100, 732), ("3", 600, 732),
    ])])
    [(score, first, last)] = find_keys(document, "NUMBER OF SAMPLING PERSONNEL:", limit=1)
    assert score == 1.0 and " ".join(w.text for w in document.words[first:last + 1]) == "NUMBER OF SAMPLING PERSONNEL:"
    texts = [c.text for c in form_candidates(document, "What is the NUMBER OF SAMPLING PERSONNEL:?")]
    assert "24 per day" in texts and "3" not in texts


def test_a_value_written_over_its_key_is_a_candidate():
    # A form that prints its labels under the rules the values are written on.
    from ocromni.qa.ranker import form_candidates, option_kind

    document = document_from_pages([_form_page([
        ("9/8/95", 120, 400), ("Jimmy Bell", 620, 400),
        ("DATE", 100, 440), ("NAME", 600, 440),
    ])])
    above = {c.text for c in form_candidates(document, "What is the DATE?") if option_kind(c) == 15}
    assert above == {"9/8/95"}
    # A key over two lines: the line above it is the one above its first line, not its own.
    document = document_from_pages([_form_page([("J. Smith", 120, 400), ("SIGNED BY", 100, 440), ("THE MANAGER", 100, 472)])])
    above = {c.text for c in form_candidates(document, "What is the SIGNED BY THE MANAGER?") if option_kind(c) == 15}
    assert above == {"J. Smith"}


def test_equal_key_matches_are_told_apart_by_the_key_as_typed():
    # "MAGAZINE" (a heading) and "Magazine" (the key) read alike in letters and digits; the
    # question's capitals pick the key. A key typed in lower case, or without a colon, says
    # nothing of case or punctuation: the first printed match stays first.
    from ocromni.qa.ranker import find_keys

    document = document_from_pages([_form_page([
        ("MAGAZINE", 100, 200), ("REMARKS", 100, 300),
        ("Magazine", 100, 400), ("People", 600, 400), ("REMARKS:", 100, 500), ("none", 600, 500),
    ])])

    def first_key(key):
        [(score, first, last)] = find_keys(document, key, limit=1)
        assert score == 1.0
        return " ".join(w.text for w in document.words[first:last + 1])

    assert first_key("Magazine") == "Magazine"
    assert first_key("MAGAZINE") == "MAGAZINE"
    assert first_key("magazine") == "MAGAZINE"
    assert first_key("REMARKS:") == "REMARKS:"
    assert first_key("REMARKS") == "REMARKS"


def test_equal_key_matches_are_told_apart_by_what_follows_them():
    # A table's headers printed over two lines, or with a unit beside them, are read as
    # separate lines: "Promotion" matches the key "Promotion Number" equally in both
    # columns, and "Cost" the key "Cost ($)" in both rows. What follows on the row decides.
    from ocromni.qa.ranker import find_keys

    document = document_from_pages([_form_page([
        ("Promotion", 100, 200), ("Code", 300, 200), ("Promotion", 600, 200), ("Number", 800, 200),
        ("Cost Per Interview", 100, 400), ("Cost", 100, 500), ("($)", 200, 500),
    ])])

    def first_key(key):
        """The best match's text and the text of the next word read."""
        [(score, first, last)] = find_keys(document, key, limit=1)
        return " ".join(w.text for w in document.words[first:last + 1]), document.words[last + 1].text

    assert first_key("Promotion Number") == ("Promotion", "Number")
    assert first_key("Promotion Code") == ("Promotion", "Code")
    assert first_key("Cost ($)") == ("Cost", "($)")
    assert first_key("Cost Per Interview") == ("Cost Per Interview", "Cost")


def test_a_value_that_ends_open_is_told_it_may_go_on_below():
    # FUNSD links a key to its whole value, often two or three lines: the ranker is told
    # whether a candidate ends open, whether a line stands close under it (not a key of its
    # own) and whether that line starts in lower case.
    from ocromni.qa.ranker import _continuation, line_infos

    document = document_from_pages([_form_page([
        ("Size:", 100, 300), ("84 x 24.9 mm circum-", 400, 300), ("ference.", 400, 340),
        ("Date:", 100, 440), ("9/3/92", 400, 440), ("Sample:", 400, 480),
        ("Reason:", 100, 580), ("Chain stores will not accept", 400, 580), ("Newport promotions.", 400, 620),
    ])])
    lines = {l.text: l for l in line_infos(document)}

    def continuation(text):
        line = lines[text]
        return _continuation(list(lines.values()), line, line.box, line.height, text)

    assert continuation("84 x 24.9 mm circum-") == [1.0, 1.0, 1.0]
    assert continuation("ference.") == [0.0, 0.0, 0.0]
    assert continuation("9/3/92") == [0.0, 0.0, 0.0]  # the line under it, "Sample:", is a key
    assert continuation("Chain stores will not accept") == [1.0, 1.0, 0.0]


def test_a_value_under_a_table_header_is_found():
    # A header row of labels, each with its value in the cell under it. "Timing" has no
    # value beside it and the ranker used to call it blank; it now knows the key's row holds
    # only labels and the cell under it a value.
    rows = [
        ("MARKET RESEARCH PROPOSAL", 500, 60),
        ("Supplier", 100, 300), ("Cost Per Interview", 500, 300), ("Total Cost", 1000, 300), ("Timing", 1400, 300),
        ("Kapuler Marketing", 100, 360), ("$ 45", 530, 360), ("58,500", 1030, 360), ("6 weeks", 1430, 360),
    ]
    page = _form_page(rows)
    total, timing = ask_documents(get_engine(), [(page.source, [page])], ["What is the Total Cost?", "What is the Timing?"])
    assert total.found and total.answer == "58,500"
    assert timing.found and timing.answer == "6 weeks"


def test_trailing_argument_questions_join_those_given_by_q(tmp_path):
    # `ocromni ask r.jpg "total?" -q "date?"` asks both; a last argument that names a file,
    # a glob of files or no question stays an input.
    from ocromni.cli.ask import read_questions

    scan = tmp_path / "scan.png"
    scan.write_bytes(b"")
    assert read_questions([str(scan), "total?"], ["date?"], None) == ([str(scan)], ["total?", "date?"])
    assert read_questions([str(scan), "total?"], None, None) == ([str(scan)], ["total?"])
    # Several trailing questions, in the order given, before those of -q.
    assert read_questions([str(scan), "total?", "when?"], ["who?"], None) == ([str(scan)], ["total?", "when?", "who?"])
    assert read_questions([str(scan), "total?", "when?"], None, None) == ([str(scan)], ["total?", "when?"])
    # The first argument stays a document, even one that reads as a question.
    assert read_questions(["what?", "total?"], None, None) == (["what?"], ["total?"])
    (tmp_path / "page1").write_bytes(b"")
    glob_of_files = str(tmp_path / "page?")
    assert read_questions([str(scan), glob_of_files], ["date?"], None) == ([str(scan), glob_of_files], ["date?"])
    assert read_questions([str(scan), "missing.png"], ["date?"], None) == ([str(scan), "missing.png"], ["date?"])
