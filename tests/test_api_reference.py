"""docs/api.md is generated from the sources (scripts/api_reference.py) and
must match them: a changed signature or docstring without a regenerated
reference fails here. The script reads the sources with ``ast``, so the pure
and the mypyc-compiled build check the same text."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def api_reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "api_reference", ROOT / "scripts" / "api_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference(api_reference: ModuleType) -> Any:
    return api_reference.generate()


def test_the_committed_reference_is_current(reference: Any) -> None:
    generated = reference.text
    committed = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert committed == generated, (
        "docs/api.md is stale: run `python scripts/api_reference.py` and commit the result"
    )


def test_every_public_name_is_in_the_reference(reference: Any) -> None:
    import realtime

    text = reference.text
    for name in realtime.__all__:
        assert f"### `realtime.{name}`" in text, name


def test_signatures_are_the_annotated_ones(reference: Any) -> None:
    text = reference.text
    assert (
        "def realtime.attach(\n    target: Any,\n    app: Any,\n    *,\n"
        "    body_timeout: float = 75.0,\n    handler_threads: int = 0,\n) -> None" in text
    )  # one parameter a line: the signature is longer than WIDTH
    assert 'def realtime.Server.close_room(room: str, namespace: str = "/") -> Done' in text
    assert "max_payload: int = 1_000_000," in text  # defaults as the source spells them
    assert "Where `DEFAULT_ACK_TIMEOUT = 60.0`." in text  # a constant default's value
    # overloads are each shown; private members are not
    assert (
        'def realtime.Server.on(event: str, handler: Handler, *, namespace: str = "/") -> Handler'
        in text
    )
    assert "realtime.Server._connect" not in text and "_Client" not in text


def test_a_changed_docstring_makes_the_reference_stale(
    api_reference: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "realtime"
    package.mkdir()
    (package / "__init__.py").write_text(
        '__all__ = ["greet"]\n\n\ndef greet(name: str = "x", /, *, loud: bool = False) -> str:\n'
        '    """Say hello."""\n    return name\n'
    )
    monkeypatch.setattr(api_reference, "PACKAGE", package)
    monkeypatch.setattr(
        api_reference, "SECTIONS", (api_reference.Section("Greeting", "Hello.", ("greet",)),)
    )
    greeting = api_reference.generate()
    assert 'def realtime.greet(name: str = "x", /, *, loud: bool = False) -> str' in greeting.text
    assert "Say hello." in greeting.text and greeting.undocumented == []
    (package / "__init__.py").write_text(
        '__all__ = ["greet"]\n\n\ndef greet() -> None:\n    pass\n'
    )
    assert api_reference.generate().undocumented == ["realtime.greet"]


def test_a_name_left_out_of_the_sections_is_refused(
    api_reference: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_reference, "SECTIONS", api_reference.SECTIONS[1:])
    with pytest.raises(LookupError, match="missing"):
        api_reference.generate()


def test_every_public_object_has_a_docstring(reference: Any) -> None:
    # each entry names a def, class or attribute of the sources to document
    assert reference.undocumented == []


def test_attributes_are_listed_with_their_types(reference: Any) -> None:
    text = reference.text
    assert "| `data` | `dict[str, Any]` | Free for the application: per-socket state. |" in text
    assert "| `pid` | `str \\| None` |" in text  # a pipe in a table cell is escaped
    assert "| `state` | `SocketState` |" in text  # typed by the enum member assigned
    assert "| `recovered` | `bool` |" in text  # by the constant
    assert "`_acks`" not in text
    # the errors module's tree, a literal block: kept as written, indented as code
    assert "\n    │   │   └── PayloadTooLarge       over ``max_payload``\n" in text
    # a grandparent's method, under the base that defines it
    section = text.split("### `realtime.DecodeError`")[1].split("### ")[0]
    assert "Inherited from `ProtocolError`: `to_json`." in section


def test_check_names_the_command_that_fixes_a_stale_file(
    api_reference: ModuleType,
    reference: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "docs" / "api.md"
    target.parent.mkdir()
    monkeypatch.setattr(api_reference, "ROOT", tmp_path)
    monkeypatch.setattr(api_reference, "TARGET", target)
    monkeypatch.setattr(api_reference, "generate", lambda: reference)  # generated once
    assert api_reference.main([]) == 0  # writes it
    assert api_reference.main(["--check"]) == 0
    target.write_text(target.read_text() + "a hand-written line\n")
    assert api_reference.main(["--check"]) == 1
    assert "run `python scripts/api_reference.py`" in capsys.readouterr().err
