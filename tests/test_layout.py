"""Geometry and reading order (ocromni.layout): pure numpy, no model."""

from __future__ import annotations

import numpy as np
import pytest

from ocromni import layout


def box(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def test_order_clockwise_from_top_left_for_any_input_order():
    quad = box(10, 20, 110, 50)
    for perm in ([2, 0, 3, 1], [3, 2, 1, 0], [1, 3, 0, 2]):
        assert np.allclose(layout.order_clockwise(quad[perm]), quad)


def test_order_clockwise_keeps_start_on_a_tilted_box():
    centre, angle = np.array([200.0, 100.0]), np.radians(30)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quad = (box(-80, -10, 80, 10) @ rot.T + centre).astype(np.float32)
    assert np.allclose(layout.order_clockwise(quad[::-1]), quad, atol=1e-4)


def test_crop_quad_maps_back_to_the_image():
    image = np.zeros((100, 200, 3), np.uint8)
    image[40:60, 50:150] = 255
    quad = box(50, 40, 150, 60)
    crop, to_image = layout.crop_quad(image, quad)
    assert crop.shape[:2] == (20, 100)
    assert crop.mean() > 250
    corners = [[0, 0], [100, 0], [100, 20], [0, 20]]
    assert np.allclose(layout.map_points(to_image, corners), quad, atol=1e-3)


def test_rolled_quad_crops_a_quarter_turn():
    image = np.zeros((200, 100, 3), np.uint8)
    image[20:180, 40:60] = 255
    crop, _ = layout.crop_quad(image, np.roll(box(40, 20, 60, 180), -1, axis=0))
    assert crop.shape[:2] == (20, 160)


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_unturn_points_inverts_turn_image(degrees):
    image = np.zeros((60, 100), np.uint8)
    image[10, 30] = 255  # pixel centre at (30.5, 10.5)
    turned = layout.turn_image(image, degrees)
    y, x = np.argwhere(turned == 255)[0]
    back = layout.unturn_points([[x + 0.5, y + 0.5]], degrees, 100, 60)
    assert np.allclose(back, [[30.5, 10.5]])


def test_two_columns_read_one_after_the_other():
    # Rows align across the gutter, as in a typeset two-column page.
    left = [box(50, 100 + 40 * i, 450, 125 + 40 * i) for i in range(5)]
    right = [box(550, 100 + 40 * i, 950, 125 + 40 * i) for i in range(5)]
    quads = right + left  # detection order is arbitrary
    order = layout.reading_order(quads)
    assert order == [5, 6, 7, 8, 9, 0, 1, 2, 3, 4]


def test_title_columns_and_footer():
    title = box(50, 20, 950, 60)
    left = [box(50, 100 + 40 * i, 450, 125 + 40 * i) for i in range(4)]
    right = [box(550, 100 + 40 * i, 950, 125 + 40 * i) for i in range(3)]
    footer = box(50, 300, 950, 330)
    quads = [footer] + right + [title] + left
    names = ["footer", "r0", "r1", "r2", "title", "l0", "l1", "l2", "l3"]
    assert [names[i] for i in layout.reading_order(quads)] == [
        "title", "l0", "l1", "l2", "l3", "r0", "r1", "r2", "footer",
    ]


def test_table_reads_row_by_row():
    cells = []
    for row in range(4):
        for col in range(3):
            x = 50 + 250 * col
            cells.append(box(x, 100 + 40 * row, x + 90, 125 + 40 * row))
    shuffled = list(np.random.default_rng(0).permutation(len(cells)))
    order = layout.reading_order([cells[i] for i in shuffled])
    assert [shuffled[i] for i in order] == list(range(12))


def test_receipt_items_and_prices_read_row_by_row():
    quads = []
    for row in range(5):
        y = 100 + 35 * row
        quads.append(box(40, y, 420, y + 25))  # long item description
        quads.append(box(600, y + 2, 680, y + 27))  # short price, slightly lower
    assert layout.reading_order(quads) == list(range(10))


def test_skewed_lines_keep_their_rows():
    angle = np.radians(4)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quads = []
    for row in range(6):
        y = 100 + 30 * row
        quads.append(box(40, y, 300, y + 20) @ rot.T)
        quads.append(box(700, y, 800, y + 20) @ rot.T)  # right cell sits 46 px lower
    assert layout.reading_order(quads) == list(range(12))


def test_group_rows_by_vertical_overlap():
    boxes = [[300, 12, 400, 38], [10, 10, 100, 40], [10, 60, 100, 90]]
    assert layout.group_rows(boxes) == [[1, 0], [2]]


def test_empty_page_has_no_order():
    assert layout.reading_order([]) == []
