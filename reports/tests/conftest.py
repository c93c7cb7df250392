from reports.tests.practice import practice  # noqa: F401  (the fixture every report test reads)
