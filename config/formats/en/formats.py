"""English: the product's named date formats (``config.dates``); Django's own are kept.

Letters as in Django's ``date`` filter: ``D`` Wed, ``l`` Wednesday, ``j`` 3, ``M`` Dec,
``F`` December, ``Y`` 2026, ``H:i`` 14:30 (24-hour everywhere).
"""

# Wednesday 3 December 2026
DAY_LONG_FORMAT = "l j F Y"
# Wednesday 3 December
DAY_LONG_NO_YEAR_FORMAT = "l j F"
# Wednesday 3 December 2026, 14:30
DATETIME_LONG_FORMAT = "l j F Y, H:i"
# Wednesday 3 December, 14:30
DATETIME_LONG_NO_YEAR_FORMAT = "l j F, H:i"
# Wed 3 Dec 2026
DAY_SHORT_FORMAT = "D j M Y"
# Wed 3 Dec
DAY_SHORT_NO_YEAR_FORMAT = "D j M"
# Wed 3 Dec 2026, 14:30
DATETIME_SHORT_FORMAT = "D j M Y, H:i"
# Wed 3 Dec, 14:30
DATETIME_SHORT_NO_YEAR_FORMAT = "D j M, H:i"
# 3 Dec 2026
DATE_SHORT_FORMAT = "j M Y"
# 3 Dec
DATE_SHORT_NO_YEAR_FORMAT = "j M"
# 3 December 2026
DATE_LONG_FORMAT = "j F Y"
# 3 December
DATE_LONG_NO_YEAR_FORMAT = "j F"
# 3 Dec 2026, 14:30
DATETIME_COMPACT_FORMAT = "j M Y, H:i"
# 3 Dec 2026 14:30 (tables)
DATETIME_TABLE_FORMAT = "j M Y H:i"
# December 2026
MONTH_FORMAT = "F Y"
# 14:30
TIME_SHORT_FORMAT = "H:i"
# 3 Dec 14:30 (tables)
DATETIME_TABLE_NO_YEAR_FORMAT = "j M H:i"
# Wed 3 Dec 14:30 (tables)
DAY_TIME_TABLE_NO_YEAR_FORMAT = "D j M H:i"
# 3 Dec, 14:30
DATETIME_COMPACT_NO_YEAR_FORMAT = "j M, H:i"
# Wed 3 Dec 2026, 14:30:05 (logs)
DATETIME_SECONDS_FORMAT = "D j M Y, H:i:s"
# Wed 3 Dec, 14:30:05 (logs)
DATETIME_SECONDS_NO_YEAR_FORMAT = "D j M, H:i:s"
# Wednesday 14:30
WEEKDAY_TIME_FORMAT = "l H:i"
# Wed
WEEKDAY_SHORT_FORMAT = "D"
# Dec
MONTH_SHORT_FORMAT = "M"
# Wednesday
WEEKDAY_LONG_FORMAT = "l"
# Wed 14:30
WEEKDAY_SHORT_TIME_FORMAT = "D H:i"
# Dec 2026
MONTH_SHORT_YEAR_FORMAT = "M Y"

# Amounts of money (config/money.py): "2500.00 EUR", no thousands separator (the decimal
# point is Django's DECIMAL_SEPARATOR).
MONEY_GROUPING = 0
MONEY_THOUSAND_SEPARATOR = ""
