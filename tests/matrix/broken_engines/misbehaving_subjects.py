"""Broken subjects: one hangs in submit(), one in start(), one whose engine raises in
submit() (the plugin must time out and name the method, and show a crash in a few lines)."""

from __future__ import annotations

import time

from ibguard.engine.model import OrderRequest
from ibguard.kit.matrix.reference import ReferenceSubject
from ibguard.kit.matrix.subject import Endpoint


class HangsInSubmit(ReferenceSubject):
    def submit(self, oms_id: str, request: OrderRequest) -> None:
        while True:  # waits for an acknowledgement that never comes
            time.sleep(0.05)


class HangsInStart(ReferenceSubject):
    def start(self, endpoint: Endpoint) -> None:
        try:
            time.sleep(3600)  # a connect with no timeout
        except Exception:  # an engine that swallows everything must not hide the timeout
            time.sleep(3600)


def _validate(request: OrderRequest) -> None:
    raise ValueError(f"tick size unknown for {request.instrument.symbol}")


class RaisesInSubmit(ReferenceSubject):
    def submit(self, oms_id: str, request: OrderRequest) -> None:
        _validate(request)


def hangs_in_submit() -> ReferenceSubject:
    return HangsInSubmit()


def hangs_in_start() -> ReferenceSubject:
    return HangsInStart()


def raises_in_submit() -> ReferenceSubject:
    return RaisesInSubmit()
