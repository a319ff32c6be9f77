"""Bracket orders and OCA groups at the simulated TWS: who waits for whom.

An order placed with ``transmit=False`` waits at TWS until a later order of its chain (its
parent or a sibling child) arrives with ``transmit=True``; a child (``parentId``) waits until
its parent is filled; when a child or an OCA member fills, the other live members of its group
are cancelled (a bracket's children are one OCA group, as at IB); cancelling a parent cancels
its children. This module answers the questions; the desk acts on them.
"""

from __future__ import annotations

from ibguard.kit.sim.book import Ledger, SimOrder

__all__ = ["Chains"]


class Chains:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def parent_of(self, sim: SimOrder) -> SimOrder | None:
        if not sim.parent_id:
            return None
        return self._ledger.latest_order(sim.client_id, sim.parent_id)

    def children_of(self, sim: SimOrder) -> list[SimOrder]:
        return [
            o
            for o in self._ledger.live_grouped_orders()
            if o.client_id == sim.client_id and o.parent_id == sim.order_id and o is not sim
        ]

    def waiting(self, sim: SimOrder) -> bool:
        """Not working yet: untransmitted, or a child whose parent has not filled."""
        if sim.untransmitted:
            return True
        parent = self.parent_of(sim)
        return parent is not None and parent.status != "Filled"

    def untransmitted_chain(self, sim: SimOrder) -> list[SimOrder]:
        """The members of ``sim``'s bracket still waiting for a transmit, parent first."""
        root = self.parent_of(sim) or sim
        members = [root, *self.children_of(root)]
        return [o for o in members if o.untransmitted and o.is_live]

    def oca_siblings(self, sim: SimOrder) -> list[SimOrder]:
        """Live orders that one fill of ``sim`` cancels: same OCA group, or the other
        children of the same parent."""
        return [
            o
            for o in self._ledger.live_grouped_orders()
            if o is not sim
            and o.client_id == sim.client_id
            and (
                (sim.oca_group and o.oca_group == sim.oca_group)
                or (sim.parent_id and o.parent_id == sim.parent_id)
            )
        ]
