from ib_async import IB


def connect() -> IB:
    return IB()
