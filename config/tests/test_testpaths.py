"""`make test` runs pytest over pytest.ini's testpaths: every app's tests must be in them,
or a whole app's tests would silently never run."""

from __future__ import annotations

import configparser

from config.tests.test_layering import LAYERS, ROOT


def test_every_app_with_tests_is_in_the_testpaths():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "pytest.ini")
    testpaths = set(parser["pytest"]["testpaths"].split())
    with_tests = {app for app in LAYERS if (ROOT / app / "tests").is_dir()}
    assert with_tests, "no app found with tests: the layer list or ROOT is wrong"
    assert with_tests <= testpaths, f"apps whose tests never run: {sorted(with_tests - testpaths)}"
    assert "tests_browser" in testpaths
