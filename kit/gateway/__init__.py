"""The fake TWS gateway: sans-IO codec and the asyncio server fronting SimBroker.

Messages have one definition, in `ibguard.kit.sim.messages` (IB's value types and one frozen
dataclass per server-to-client message); `registry` holds the tables that encode them and
decode and serve client requests, filled by decorators where each encoder, decoder and handler
is written (its docstring says how to add a message).

Codec modules (no sockets, no asyncio):
- `framing`: `FrameReader` (feed / next_message / NEED_DATA, frame limit) and `encode`;
- `handshake`: version negotiation and the server's handshake reply;
- `outbound_session`, `outbound_orders`, `outbound_executions`, `outbound_account`,
  `outbound_contract`: server-to-client encoders, each returning a message's fields;
- `inbound`, `inbound_order`: client-to-server requests as frozen dataclasses and their
  decoders; `wire_values`: field text both ways.

Server (asyncio, fronting one SimBroker):
- `server.Gateway`: the listening socket on 127.0.0.1; `connection`: one client socket;
  `dispatch`: request -> SimBroker call; `wire_faults`: drop / delay / duplicate / reorder
  outgoing frames; `thread_host`: the gateway on a background thread; `command` and
  `script_file`: `ibguard gateway` and its TOML script; `logcodes`: the server's log codes.
"""
