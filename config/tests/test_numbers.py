from django.template import Context, Template
from django.utils import translation

from config.numbers import format_percent


def test_a_percentage_is_written_as_each_language_writes_it():
    with translation.override("en"):
        assert format_percent(45) == "45%"
        assert format_percent(12.345, digits=1) == "12.3%"
    with translation.override("fr"):
        assert format_percent(45) == "45\u202f%"
        assert format_percent(12.345, digits=1) == "12,3\u202f%"


def test_the_percent_filter_is_built_in_and_prints_nothing_for_no_value():
    template = Template("{{ a|percent }}|{{ b|percent }}|{{ c|percent }}")
    with translation.override("fr"):
        assert template.render(Context({"a": 80, "b": None, "c": "n/a"})) == "80\u202f%||"
