"""Dates and times per language (``FORMAT_MODULE_PATH``): Django's own formats, and the
product's named ones (``config.dates``), each ``<NAME>_FORMAT`` in ``<language>/formats.py``."""
