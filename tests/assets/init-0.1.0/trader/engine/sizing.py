from decimal import Decimal

ONE = Decimal(1)
