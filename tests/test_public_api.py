"""The public names of ``realtime`` and its exception tree, pinned.

A name added, removed or moved in the tree is an API change: it has to be
made here too, on purpose. And no module raises a bare builtin exception at
its callers: misuse raises a class of the tree that is also that builtin.
"""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

import pytest

import realtime
import realtime.errors as errors

PUBLIC_NAMES = {
    "COMPILED",
    "ASGIApp",
    "AckTimeout",
    "BadHandshakeMethod",
    "BadRequest",
    "BroadcastAckTimeout",
    "BroadcastOperator",
    "ConnectionRefused",
    "ConnectionStateRecovery",
    "DecodeError",
    "Disconnected",
    "Emitter",
    "Engine",
    "EventRefused",
    "Forbidden",
    "HandlerSignatureError",
    "InvalidArgument",
    "InvalidArgumentType",
    "InvalidState",
    "MissingDependency",
    "Namespace",
    "Overloaded",
    "PayloadTooLarge",
    "PresenceError",
    "ProtocolError",
    "RealtimeError",
    "RedisAdapter",
    "RemoteSocket",
    "Server",
    "Socket",
    "UnknownSession",
    "UnknownSocket",
    "UnknownTransport",
    "Unsendable",
    "UnsupportedProtocolVersion",
    "WSGIApp",
    "attach",
    "run",
}

# Each class of realtime.errors and its bases, in order: the tree its
# docstring draws.
TREE: dict[str, tuple[str, ...]] = {
    "RealtimeError": ("Exception",),
    "ProtocolError": ("RealtimeError",),
    "UnknownTransport": ("ProtocolError",),
    "UnknownSession": ("ProtocolError",),
    "BadHandshakeMethod": ("ProtocolError",),
    "BadRequest": ("ProtocolError",),
    "DecodeError": ("BadRequest",),
    "PayloadTooLarge": ("BadRequest",),
    "Forbidden": ("ProtocolError",),
    "Overloaded": ("ProtocolError",),
    "UnsupportedProtocolVersion": ("ProtocolError",),
    "ConnectionRefused": ("RealtimeError",),
    "EventRefused": ("RealtimeError",),
    "InvalidArgument": ("RealtimeError", "ValueError"),
    "InvalidArgumentType": ("RealtimeError", "TypeError"),
    "Unsendable": ("InvalidArgument", "InvalidArgumentType"),
    "PresenceError": ("InvalidArgument",),
    "InvalidState": ("RealtimeError", "RuntimeError"),
    "MissingDependency": ("RealtimeError", "ImportError"),
    "HandlerSignatureError": ("InvalidArgumentType",),
    "UnknownSocket": ("RealtimeError", "KeyError"),
    "AckTimeout": ("RealtimeError", "TimeoutError"),
    "BroadcastAckTimeout": ("AckTimeout",),
    "Disconnected": ("RealtimeError",),
}

PACKAGE = Path(realtime.__file__).resolve().parent

# Builtin exceptions a module may still raise, and why.
ALLOWED_BUILTINS = {
    "AttributeError",  # module __getattr__: Python's protocol for a missing name
    "SystemExit",  # the command line and run(): one line, not a traceback
    "AssertionError",  # a state machine's impossible transition: a bug in realtime
    "ArgumentTypeError",  # argparse's own way to refuse a command-line value
    "ConnectionResetError",  # a host's "the client is gone", to itself or to its WSGI server
    "StopIteration",  # gunicorn's way to end a WebSocket request without a word
    "ValueError",  # json's parse hooks: caught around the scanner, in the same module
    "NotImplementedError",  # a base class's method that each subclass overrides
}


def test_all_is_pinned() -> None:
    assert set(realtime.__all__) == PUBLIC_NAMES
    for name in PUBLIC_NAMES - {"RedisAdapter", "WSGIApp"}:  # those import optional packages
        assert getattr(realtime, name) is not None, name


def test_the_tree_is_pinned_and_exported() -> None:
    classes = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and issubclass(cls, BaseException)
    }
    bases = {name: tuple(base.__name__ for base in cls.__bases__) for name, cls in classes.items()}
    assert bases == TREE
    for name, cls in classes.items():
        assert getattr(realtime, name) is cls, name
        assert name in errors.__doc__, f"{name} is missing from the tree in realtime/errors.py"


def test_every_exception_class_of_the_package_is_in_the_tree() -> None:
    # The internal ones too (a transport's, the host's): a caller that
    # catches RealtimeError never misses one that escapes. Read from the
    # sources, so that optional dependencies need not be imported.
    outside = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "errors.py":
            continue  # the tree's roots and its builtin mixins
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                for base in node.bases:
                    if isinstance(base, ast.Name) and is_builtin_exception(base.id):
                        outside.append(f"{path.relative_to(PACKAGE)}: {node.name}({base.id})")
    assert outside == []


def is_builtin_exception(name: str) -> bool:
    builtin = getattr(builtins, name, None)
    return inspect.isclass(builtin) and issubclass(builtin, BaseException)


def raised_builtins(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if is_builtin_exception(name) or name == "ArgumentTypeError":
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {name}")
    return found


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_module_raises_a_bare_builtin(path: Path) -> None:
    raised = raised_builtins(path)
    bare = [line for line in raised if line.rsplit(" ", 1)[1] not in ALLOWED_BUILTINS]
    assert bare == []


def test_json_hooks_are_the_only_bare_value_errors() -> None:
    value_errors = [
        line
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in raised_builtins(path)
        if line.endswith(": ValueError")
    ]
    assert len(value_errors) == 2 and all(
        line.startswith("protocol/socketio.py") for line in value_errors
    ), value_errors


def test_misuse_is_catchable_as_the_builtin_and_as_realtime_error() -> None:
    with pytest.raises(realtime.InvalidArgument) as bad_option:
        realtime.Server(event_rate_policy="sometimes")
    assert isinstance(bad_option.value, ValueError)
    with pytest.raises(realtime.InvalidState) as unbound:
        _ = realtime.Server().runtime
    assert isinstance(unbound.value, RuntimeError)
    with pytest.raises(TypeError) as not_a_name:
        realtime.Server().emit(42)  # type: ignore[arg-type]
    # The compiled build checks the ``str`` annotation itself, before realtime's
    # own check can run: a TypeError there too, but not one of the tree.
    assert isinstance(not_a_name.value, realtime.InvalidArgumentType) or realtime.COMPILED
    with pytest.raises(realtime.InvalidArgumentType) as twice:
        realtime.Server().emit("ev", to="a", room="a")
    assert isinstance(twice.value, TypeError)


def test_an_unsendable_value_is_both_a_type_error_and_a_value_error() -> None:
    from realtime.protocol.socketio import Packet, PacketType, encode

    cycle: list[object] = [b"x"]
    cycle.append(cycle)
    for value in (float("nan"), float("inf"), {1, 2}, object(), [b"x", float("nan")], cycle):
        with pytest.raises(realtime.Unsendable) as info:
            encode(Packet(PacketType.EVENT, "/", ["ev", value]))
        assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
