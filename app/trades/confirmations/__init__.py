"""The Confirmation aggregate: a counterparty's view of a trade, how it matched, its
exceptions, force-match under four-eyes, and the trades' affirmation deadlines."""
