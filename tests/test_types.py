"""Page records: round trips and the plain-text assembly of rows."""

from ocromni.types import Line, PageText, Word


def _line(text, x0, y0, x1, y1):
    polygon = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    return Line(text, 0.9, polygon, [Word(text, 0.9, polygon)])


def test_same_row_segments_join_with_a_space_and_rows_break():
    page = PageText("r.png", 1, 400, 200, lines=[
        _line("TOTAL", 10, 10, 80, 30), _line("20.05", 300, 12, 360, 31), _line("Thank you", 10, 60, 120, 80),
    ])
    assert page.text == "TOTAL 20.05\nThank you"


def test_next_column_does_not_join_the_previous_row():
    # Reading order already put column 1 first; its last line and column 2's first line
    # overlap vertically only by chance of layout, and column 2 starts above: new line.
    page = PageText("r.png", 1, 400, 200, lines=[
        _line("left bottom", 10, 150, 150, 170), _line("right top", 220, 10, 380, 30),
    ])
    assert page.text == "left bottom\nright top"


def test_round_trip_through_dict():
    page = PageText("r.png", 2, 400, 200, 150, "ocr", [_line("A", 1, 2, 3, 4)], rotation=90)
    again = PageText.from_dict(page.to_dict())
    assert again.to_dict() == page.to_dict()
    assert again.lines[0].words[0].text == "A"
