"""The checks every interop client reports, in order; shared by the pytest
side and the Python client script."""

CHECKS = (
    "connect",
    "socket_id",
    "protocol",
    "auth_accepted",
    "event_echo",
    "ack_return_value",
    "ack_multiple_args",
    "ack_server_to_client",
    "binary_to_server",
    "binary_from_server_ack",
    "binary_from_server_event",
    "namespace_admin",
    "namespace_unknown",
    "auth_refused",
    "rooms",
    "rooms_skip_sender",
    "rooms_leave",
    "server_disconnect",
    "client_disconnect",
    "reconnect",
    "order_to_server",
    "order_to_client",
    "transport",
)
