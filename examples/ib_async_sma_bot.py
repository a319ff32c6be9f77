"""Moving-average pullback bot on ib_async.

Once per run: qualify a small watch list, read 30 days of daily bars, compute the 20-day
simple moving average, take a live quote, and buy the stock trading furthest above its
average with a bracket order (entry limit, take-profit limit, protective stop). The entry is
first worked one cent under the bid; if it has not filled after a few seconds it is modified
up to the ask. Once filled, the take-profit is cancelled (we manage the exit by hand), and the
run ends with positions, the portfolio's P&L and the account's daily P&L (reqPnL).

Connection settings come from the command line or the environment, as in production:
    IB_HOST (127.0.0.1)  IB_PORT (7497, TWS paper)  IB_CLIENT_ID (17)

    python ib_async_sma_bot.py --symbols AAPL,MSFT,SPY --quantity 10

Exit codes: 0 done, 1 nothing to trade or the order did not fill, 2 cannot connect.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import statistics
import sys

from ib_async import IB, Contract, Stock, Ticker, Trade

log = logging.getLogger("sma_bot")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env.get("IB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env.get("IB_PORT", "7497")))
    parser.add_argument("--client-id", type=int, default=int(env.get("IB_CLIENT_ID", "17")))
    parser.add_argument("--symbols", default="AAPL,MSFT,SPY")
    parser.add_argument("--quantity", type=int, default=10)
    parser.add_argument("--fill-timeout", type=float, default=5.0)
    return parser.parse_args(argv)


def round_tick(price: float, tick: float) -> float:
    return round(round(price / tick) * tick, 8)


async def live_quote(ib: IB, contract: Contract, timeout: float = 10.0) -> Ticker:
    ticker = ib.reqMktData(contract)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while math.isnan(ticker.bid) or math.isnan(ticker.ask):
        if loop.time() > deadline:
            raise TimeoutError(f"no quote for {contract.symbol}")
        await asyncio.sleep(0.05)
    return ticker


async def wait_filled(trade: Trade, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not trade.isDone():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return trade.orderStatus.status == "Filled"


async def pick(ib: IB, contracts: list[Contract]) -> tuple[Contract, Ticker, float] | None:
    """The contract furthest above its 20-day average, with its live ticker."""
    best: tuple[Contract, Ticker, float] | None = None
    for contract in contracts:
        bars = await ib.reqHistoricalDataAsync(
            contract, "", "30 D", "1 day", "TRADES", useRTH=True, formatDate=1
        )
        closes = [bar.close for bar in bars][-20:]
        if len(closes) < 10:
            log.warning("%s: only %d daily bars, skipped", contract.symbol, len(closes))
            continue
        sma = statistics.fmean(closes)
        ticker = await live_quote(ib, contract)
        strength = ticker.midpoint() / sma - 1
        log.info("%s: sma20 %.2f mid %.2f (%+.2f%%)", contract.symbol, sma, ticker.midpoint(),
                 100 * strength)  # fmt: skip
        if best is None or strength > best[2]:
            best = (contract, ticker, strength)
    return best


async def run(args: argparse.Namespace) -> int:
    ib = IB()
    try:
        await ib.connectAsync(args.host, args.port, clientId=args.client_id, timeout=10)
    except (OSError, asyncio.TimeoutError) as exc:
        log.error("cannot connect to %s:%s: %s", args.host, args.port, exc)
        return 2
    try:
        account = ib.managedAccounts()[0]
        pnl = ib.reqPnL(account)  # streams while we trade; read at the end
        wanted = [Stock(s.strip(), "SMART", "USD") for s in args.symbols.split(",") if s.strip()]
        contracts = [c for c in await ib.qualifyContractsAsync(*wanted) if c and c.conId]
        choice = await pick(ib, contracts)
        if choice is None:
            log.warning("nothing to trade")
            return 1
        contract, ticker, _ = choice
        tick = ticker.minTick if ticker.minTick and not math.isnan(ticker.minTick) else 0.01
        entry = round_tick(ticker.bid - tick, tick)
        bracket = ib.bracketOrder(
            "BUY",
            args.quantity,
            limitPrice=entry,
            takeProfitPrice=round_tick(entry * 1.02, tick),
            stopLossPrice=round_tick(entry * 0.98, tick),
        )
        parent, take_profit, stop_loss = bracket
        trades = [ib.placeOrder(contract, order) for order in bracket]
        log.info("bracket placed: entry %.2f, take profit %.2f, stop %.2f",
                 entry, take_profit.lmtPrice, stop_loss.auxPrice)  # fmt: skip
        if not await wait_filled(trades[0], args.fill_timeout):
            parent.lmtPrice = round_tick(ticker.ask, tick)  # modify: pay the ask
            ib.placeOrder(contract, parent)
            log.info("entry raised to %.2f", parent.lmtPrice)
        if not await wait_filled(trades[0], args.fill_timeout):
            log.error("entry did not fill; cancelling the bracket")
            for order in bracket:
                ib.cancelOrder(order)
            return 1
        ib.cancelOrder(take_profit)
        await asyncio.sleep(0.5)
        for position in ib.positions():
            log.info("position %s %s @ %.4f", position.contract.symbol, position.position,
                     position.avgCost)  # fmt: skip
        for item in ib.portfolio():
            log.info("%s unrealized P&L %.2f realized %.2f", item.contract.symbol,
                     item.unrealizedPNL, item.realizedPNL)  # fmt: skip
        log.info("account %s daily P&L %.2f unrealized %.2f", account, pnl.dailyPnL,
                 pnl.unrealizedPnL)  # fmt: skip
        ib.cancelPnL(account)
        net = [v.value for v in ib.accountValues() if v.tag == "NetLiquidation"]
        log.info("net liquidation %s", net[0] if net else "?")
        return 0
    finally:
        ib.disconnect()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
