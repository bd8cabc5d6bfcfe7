"""Market calendars: the business days of a market's trading or settlement calendar. No table of
its own: derived from markets and their closed days."""
