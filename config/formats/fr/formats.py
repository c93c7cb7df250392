"""French: the product's named date formats (``config.dates``); Django's own are kept.

Abbreviated months are ``N`` (« déc. », « juin », « juil. »): Django's ``M`` gives « Jui »
for both June and July. Times are 24-hour; « à » joins a day and its time.
"""

# mercredi 3 décembre 2026
DAY_LONG_FORMAT = "l j F Y"
# mercredi 3 décembre
DAY_LONG_NO_YEAR_FORMAT = "l j F"
# mercredi 3 décembre 2026 à 14:30
DATETIME_LONG_FORMAT = "l j F Y à H:i"
# mercredi 3 décembre à 14:30
DATETIME_LONG_NO_YEAR_FORMAT = "l j F à H:i"
# mer. 3 déc. 2026
DAY_SHORT_FORMAT = "D. j N Y"
# mer. 3 déc.
DAY_SHORT_NO_YEAR_FORMAT = "D. j N"
# mer. 3 déc. 2026 à 14:30
DATETIME_SHORT_FORMAT = "D. j N Y à H:i"
# mer. 3 déc. à 14:30
DATETIME_SHORT_NO_YEAR_FORMAT = "D. j N à H:i"
# 3 déc. 2026
DATE_SHORT_FORMAT = "j N Y"
# 3 déc.
DATE_SHORT_NO_YEAR_FORMAT = "j N"
# 3 décembre 2026
DATE_LONG_FORMAT = "j F Y"
# 3 décembre
DATE_LONG_NO_YEAR_FORMAT = "j F"
# 3 déc. 2026 à 14:30
DATETIME_COMPACT_FORMAT = "j N Y à H:i"
# 3 déc. 2026 14:30 (tables)
DATETIME_TABLE_FORMAT = "j N Y H:i"
# décembre 2026
MONTH_FORMAT = "F Y"
# 14:30
TIME_SHORT_FORMAT = "H:i"
# 3 déc. 14:30 (tableaux)
DATETIME_TABLE_NO_YEAR_FORMAT = "j N H:i"
# mer. 3 déc. 14:30 (tableaux)
DAY_TIME_TABLE_NO_YEAR_FORMAT = "D. j N H:i"
# 3 déc. à 14:30
DATETIME_COMPACT_NO_YEAR_FORMAT = "j N à H:i"
# mer. 3 déc. 2026 à 14:30:05 (journaux)
DATETIME_SECONDS_FORMAT = "D. j N Y à H:i:s"
# mer. 3 déc. à 14:30:05 (journaux)
DATETIME_SECONDS_NO_YEAR_FORMAT = "D. j N à H:i:s"
# mercredi à 14:30
WEEKDAY_TIME_FORMAT = "l à H:i"
# mer.
WEEKDAY_SHORT_FORMAT = "D."
# déc.
MONTH_SHORT_FORMAT = "N"
# mercredi
WEEKDAY_LONG_FORMAT = "l"
# mer. 14:30
WEEKDAY_SHORT_TIME_FORMAT = "D. H:i"
# déc. 2026
MONTH_SHORT_YEAR_FORMAT = "N Y"

# Amounts of money (config/money.py): « 2 500,00 EUR », a narrow no-break space (U+202F)
# between thousands (the decimal comma is Django's DECIMAL_SEPARATOR).
MONEY_GROUPING = 3
MONEY_THOUSAND_SEPARATOR = "\u202f"
