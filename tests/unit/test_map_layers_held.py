"""web/map_layers.py: the text branca's Element would compile is kept as it is when it has no
jinja2 tag (the same text rendered), and the clip box of two maps of nearly the same bounds is one
box on the 0.1° grid (so the context layers held for it are shared)."""

from __future__ import annotations

import jinja2
import pytest
import shapely

from web import map_layers as ML


@pytest.mark.parametrize(
    "source",
    [
        "",
        "plain",
        "line\n",
        "two\n\n",
        "crlf\r\nand cr\rend\r\n",
        'var x = {"a": 1, "b": [1, 2]};\n',
        "a { color: red; } /* css */",
        "{ not a tag } and } {",
        "  leading and trailing spaces  \n",
    ],
)
def test_a_tagless_text_renders_as_jinja2_renders_it(source):
    kept = ML._element_template(source)
    assert isinstance(kept, ML._Literal)
    assert kept.render(this=None, kwargs={}) == jinja2.Template(source).render(this=None, kwargs={})


@pytest.mark.parametrize("source", ["{{ this }}", "{% if 1 %}x{% endif %}", "{# comment #}x"])
def test_a_text_with_a_tag_is_still_a_template(source):
    assert isinstance(ML._element_template(source), jinja2.Template)


def test_branca_elements_use_it():
    import branca.element

    assert branca.element.Template is ML._element_template
    assert branca.element.Element("<b>x</b>\n").render() == "<b>x</b>"


def test_nearly_the_same_bounds_share_one_box_on_the_grid():
    a = ML._clip_box((103.25, 20.61, 105.02, 22.03), 0.6)
    b = ML._clip_box((103.27, 20.64, 105.01, 22.02), 0.6)
    assert a.bounds == b.bounds
    west, south, east, north = a.bounds
    assert all(abs(v * 10 - round(v * 10)) < 1e-9 for v in a.bounds)
    # it holds the padded bounds
    assert west <= 103.25 - 0.6 and south <= 20.61 - 0.6 and east >= 105.02 + 0.6 and north >= 22.03 + 0.6
    assert shapely.box(103.25 - 0.6, 20.61 - 0.6, 105.02 + 0.6, 22.03 + 0.6).within(a)
