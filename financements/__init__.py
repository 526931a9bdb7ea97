"""Money: operators, dispositifs, envelopes, aides and versements (`financements.services`
is the only writer of money, under locks and in transactions)."""
