"""The message throttle queues in order, releases by the one-second window, and can take a
waiting message back (a cancel before the order ever left)."""

from __future__ import annotations

from datetime import timedelta

from ibguard.engine.throttle import MessageThrottle

from tests.engine.scenario import T0


def test_sends_up_to_the_limit_then_queues_in_order_and_drains_a_second_later() -> None:
    throttle: MessageThrottle[int] = MessageThrottle(2)
    assert throttle.submit([1, 2, 3, 4], T0) == [1, 2]
    assert throttle.depth == 2
    assert throttle.release(T0 + timedelta(seconds=0.5)) == []
    assert throttle.release(T0 + timedelta(seconds=1)) == [3, 4]


def test_withdraw_takes_the_first_matching_waiting_message_only() -> None:
    throttle: MessageThrottle[str] = MessageThrottle(1)
    throttle.submit(["a", "b", "c", "b"], T0)
    assert throttle.withdraw(lambda m: m == "b") == "b"
    assert throttle.withdraw(lambda m: m == "zzz") is None
    assert throttle.release(T0 + timedelta(seconds=1)) == ["c"]
    assert throttle.release(T0 + timedelta(seconds=2)) == ["b"]


def test_the_window_slides_each_send_leaves_it_one_second_after_it_went() -> None:
    throttle: MessageThrottle[int] = MessageThrottle(2)
    assert throttle.submit([1], T0) == [1]
    assert throttle.submit([2], T0 + timedelta(seconds=0.5)) == [2]
    assert throttle.submit([3], T0 + timedelta(seconds=0.9)) == []
    assert throttle.release(T0 + timedelta(seconds=1)) == [3]  # 1 left the window, 2 has not
