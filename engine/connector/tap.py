"""The decoder's wrapper for every message the engine consumes: raw callbacks -> events.

The connector installs a `WrapperTap` as the broker library's `Decoder.wrapper`, so the
library's decoder calls these methods with the decoded fields; every other callback
(ticks, account values, ...) falls through to the library's own `Wrapper`. Why raw
callbacks instead of the library's `IB` events:
- cost per fill stays flat: ib_async's (and ib_insync's) own `orderStatus` handler formats
  the whole Trade, every fill and log entry so far, in an f-string on every status message
  (`self._logger.info(f"orderStatus: {trade}")`): no logger level guards it, and it goes
  quadratic on orders with many partial fills;
- the engine sees the broker's messages, not the client's reading of them: the clients
  dedupe executions, drop executions and commissions of orders they hold no Trade for
  (orphan fills after a restart), swallow repeated orderStatus, and mark orders Cancelled
  on errors (202, most unknown codes) that the engine must judge itself.

Each message is translated into an engine report here and handed to `answers`
(answers.py, the tracker the in-process connector uses too), which gathers the answers to
the connector's requests into snapshots and delivers everything else alone. A message
that cannot be translated is logged with `EVENT_REJECTED` and skipped; it never raises
into the decoder or the engine.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone, tzinfo
from typing import Any, Final

from ibguard.engine.connector import translate as tr
from ibguard.engine.connector.answers import Answers, Emit
from ibguard.engine.events import ManagedAccounts, NextValidId, ServerTime
from ibguard.engine.logcodes import LogCode
from ibguard.engine.ports import Clock

__all__ = ["WrapperTap"]

log = logging.getLogger("ibguard.engine.connector")

_ORDER_STATUS: Final = 3  # incoming message ids
_COMMISSION_REPORT: Final = 59


class WrapperTap:
    """Raw wrapper callbacks in, engine events out (through `emit`)."""

    def __init__(
        self, fallback: Any, emit: Emit, clock: Clock, tws_zone: tzinfo = timezone.utc
    ) -> None:
        self._fallback = fallback
        self._tws_zone = tws_zone  # where TWS's zone-less times are (EDGE-05)
        self._emit = emit
        self._clock = clock
        self.answers = Answers(emit)  # the connector registers its requests here

    def install(self, decoder: Any) -> None:
        """Become `decoder`'s wrapper, and its handler of orderStatus and commissionReport:
        those come with every fill, and the clients read their numbers as floats, which
        then cost a conversion back to Decimal (and may lose digits)."""
        decoder.wrapper = self
        decoder.handlers[_ORDER_STATUS] = self.order_status_message
        decoder.handlers[_COMMISSION_REPORT] = self.commission_message

    def __getattr__(self, name: str) -> Any:
        # everything the engine does not consume stays the library's business
        return getattr(self._fallback, name)

    @property
    def defaultTimezone(self) -> Any:
        # the decoder reads it for every execDetails: a property, not a miss into __getattr__
        return self._fallback.defaultTimezone

    # --- session -------------------------------------------------------------------------

    def nextValidId(self, reqId: int) -> None:
        self._emit(NextValidId(order_id=int(reqId)))

    def managedAccounts(self, accountsList: str) -> None:
        accounts = tuple(a for a in str(accountsList).split(",") if a)
        self._emit(ManagedAccounts(accounts=accounts))

    def currentTime(self, time: int) -> None:
        try:
            broker_time = datetime.fromtimestamp(int(time), timezone.utc)
        except (ValueError, OverflowError, OSError) as exc:
            return _rejected("currentTime", exc, value=time)
        self._emit(ServerTime(broker_time=broker_time, local_time=self._clock.now()))

    def error(
        self, reqId: int, errorCode: int, errorString: str, advancedOrderRejectJson: str = ""
    ) -> None:
        self._emit(tr.broker_error(reqId, errorCode, errorString))
        if self.answers.is_what_if(reqId):  # the what-if check itself failed: not within margin
            self.answers.what_if_answer(
                reqId, tr.Margin(False, None, None, f"error {errorCode}: {errorString}")
            )
        self.answers.contract_details_end(reqId)

    # --- orders --------------------------------------------------------------------------

    def openOrder(self, orderId: int, contract: Any, order: Any, orderState: Any) -> None:
        if getattr(order, "whatIf", False):
            try:
                margin = tr.margin_of(orderState)
            except Exception as exc:  # an unreadable answer is no proof of margin
                _rejected("openOrder (what-if)", exc, order_id=orderId)
                margin = tr.Margin(False, None, None, "unreadable what-if answer")
            if not self.answers.what_if_answer(int(orderId), margin):
                log.warning(
                    "what-if answer for an unknown id",
                    extra={"code": LogCode.EVENT_REJECTED, "order_id": orderId},
                )
            return
        try:
            report = tr.open_order_report(contract, order, orderState, tws_zone=self._tws_zone)
        except Exception as exc:
            return _rejected("openOrder", exc, order_id=orderId)
        self.answers.open_order(report)

    def order_status_message(self, fields: list[str]) -> None:
        """orderStatus, the decoder's handler for its message (see `install`)."""
        try:
            report = tr.order_status_of_fields(fields)
        except Exception as exc:
            return _rejected("orderStatus", exc, order_id=fields[1] if len(fields) > 1 else None)
        self.answers.order_status(report)

    def openOrderEnd(self) -> None:
        self.answers.open_orders_end()

    def completedOrder(self, contract: Any, order: Any, orderState: Any) -> None:
        try:
            report = tr.open_order_report(contract, order, orderState, tws_zone=self._tws_zone)
        except Exception as exc:
            return _rejected("completedOrder", exc, perm_id=getattr(order, "permId", None))
        self.answers.completed_order(report)

    def completedOrdersEnd(self) -> None:
        self.answers.completed_orders_end()

    # --- executions ----------------------------------------------------------------------

    def execDetails(self, reqId: int, contract: Any, execution: Any) -> None:
        try:
            report = tr.execution_report(contract, execution)
        except Exception as exc:
            return _rejected("execDetails", exc, exec_id=getattr(execution, "execId", None))
        self.answers.execution(int(reqId), report)

    def execDetailsEnd(self, reqId: int) -> None:
        self.answers.executions_end(int(reqId))

    def commission_message(self, fields: list[str]) -> None:
        """commissionReport, the decoder's handler for its message (see `install`)."""
        try:
            report = tr.commission_of_fields(fields)
        except Exception as exc:
            return _rejected(
                "commissionReport", exc, exec_id=fields[2] if len(fields) > 2 else None
            )
        self.answers.commission(report)

    # --- positions, contracts ------------------------------------------------------------

    def position(self, account: str, contract: Any, posSize: Any, avgCost: Any) -> None:
        try:
            report = tr.position_report(account, contract, posSize, avgCost)
        except Exception as exc:
            return _rejected("position", exc, account=account)
        self.answers.position(report)

    def positionEnd(self) -> None:
        self.answers.positions_end()

    def contractDetails(self, reqId: int, contractDetails: Any) -> None:
        try:
            instrument = tr.instrument_of(contractDetails.contract)
        except Exception as exc:
            self.answers.contract_details_end(int(reqId))
            return _rejected("contractDetails", exc, req_id=reqId)
        self.answers.contract_details(int(reqId), instrument)

    def contractDetailsEnd(self, reqId: int) -> None:
        self.answers.contract_details_end(int(reqId))


def _rejected(kind: str, exc: Exception, **ids: object) -> None:
    log.error(
        "broker message the engine cannot take: %s",
        kind,
        extra={"code": LogCode.EVENT_REJECTED, "message_kind": kind, "error": repr(exc), **ids},
    )
