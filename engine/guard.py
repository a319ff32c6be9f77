"""Who may trade: the identity checks that halt the engine, and the halt itself.

The engine halts for good (nothing is sent again, queued commands are undone) when the
broker says our clientId is in use (326, CONN-04), when orders of our clientId appear
that this engine did not place, and when the session does not manage the configured
account or an order of ours reports another one (SEC-02). Someone else's order in
another account the login can see is not a reason to halt.
"""

from __future__ import annotations

from ibguard.engine.book import Book, Sighting
from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.logcodes import LogCode
from ibguard.engine.outbox import Outbox
from ibguard.engine.session import Session

__all__ = ["Guard"]


class Guard:
    def __init__(
        self,
        config: EngineConfig,
        book: Book,
        session: Session,
        outbox: Outbox,
        log: DecisionLog,
    ) -> None:
        self._account = config.account
        self._book = book
        self._session = session
        self._outbox = outbox
        self._log = log

    def managed_accounts(self, accounts: tuple[str, ...]) -> None:
        if self._account not in accounts:
            self.halt(
                LogCode.ACCOUNT_MISMATCH,
                "the broker session does not manage the configured account",
                expected=self._account,
                got=",".join(accounts),
            )

    def wrong_account(self, account: str, order_ref: str) -> bool:
        """True (and halted) when an order of ours reports another account."""
        if not account or account == self._account:
            return False
        if self._book.ours(order_ref) is None:
            return False  # someone else's order in another account the login can see
        self.halt(
            LogCode.ACCOUNT_MISMATCH,
            "an order of ours reports another account",
            expected=self._account,
            got=account,
        )
        return True

    def check_stolen(self, sighting: Sighting, client_id: int, order_id: int) -> None:
        if sighting.stolen:
            self.halt(
                LogCode.CONNECTION_STOLEN,
                "orders of our clientId that this engine did not place: another session uses it",
                client_id=client_id,
                order_id=order_id,
            )

    def halt(self, code: LogCode, message: str, **fields: object) -> None:
        if self._session.halted:
            return
        self._session.halt(code.value)
        self._outbox.drop()
        self._log.alert(code, f"{message}: trading halted", **fields)
