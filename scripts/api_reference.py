"""Write docs/api.md, the API reference, from the package's sources.

Every public name of ``realtime`` (its ``__all__``) and the objects its
methods hand out, with their signatures as the annotations spell them and
their docstrings. Signatures are read from the source with ``ast``, not from
the imported package: the mypyc-compiled build and the pure one then give the
same text, and optional dependencies need not be installed.

    python scripts/api_reference.py           # rewrite docs/api.md
    python scripts/api_reference.py --check   # exit 1 if docs/api.md is stale
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "realtime"
TARGET = ROOT / "docs" / "api.md"
COMMAND = "python scripts/api_reference.py"
WIDTH = 88  # a signature longer than this is written one parameter a line


@dataclass(frozen=True)
class Section:
    title: str
    intro: str
    # "Name" for a name of realtime.__all__, "module:Name" for one that
    # realtime hands out without exporting it (its module is its address).
    names: tuple[str, ...]
    # Modules whose docstring introduces the section's names.
    about: tuple[str, ...] = ()


SECTIONS = (
    Section(
        "Server and its operators",
        "The Socket.IO server, the operator its broadcasting methods return, and the "
        "Engine.IO endpoint underneath it.",
        ("Server", "BroadcastOperator", "Engine"),
    ),
    Section(
        "Sockets and namespaces",
        "What a handler gets (`Socket`), where it lives (`Namespace`), and a socket "
        "as `fetch_sockets` describes it, possibly on another node (`RemoteSocket`).",
        ("Socket", "Namespace", "RemoteSocket"),
    ),
    Section(
        "Presence",
        "Who is online, per user: `sio.presence` (docs/server.md).",
        ("realtime.presence:Presence",),
        about=("realtime.presence",),
    ),
    Section(
        "Adapters and the emitter",
        "Where broadcasts go: the adapter of each namespace (`Server(adapter=...)`), "
        "Redis for a cluster (docs/scaling.md), and an emitter for processes that "
        "serve no clients.",
        (
            "realtime.bus.adapter:AdapterFactory",
            "realtime.bus.adapter:Adapter",
            "realtime.bus.adapter:MemoryAdapter",
            "RedisAdapter",
            "Emitter",
            "realtime.emitter:EmitterOperator",
        ),
    ),
    Section(
        "Hosts",
        "Serving the server: the embedded aiohttp host (`run`, `attach`), ASGI and "
        "WSGI (docs/hosting.md).",
        ("run", "attach", "ASGIApp", "WSGIApp", "COMPILED"),
    ),
    Section(
        "Metrics and the Admin UI",
        "Prometheus metrics on the embedded host (docs/operations.md) and the "
        "official Socket.IO Admin UI's protocol (`Server.instrument`).",
        ("realtime.metrics:install", "realtime.admin:AdminUI"),
        about=("realtime.metrics", "realtime.admin"),
    ),
    Section(
        "Option objects",
        "Options that take more than one value.",
        ("ConnectionStateRecovery",),
    ),
    Section(
        "Errors",
        "Every exception the package raises at its callers derives from `RealtimeError`; "
        "misuse is also the builtin it stands for (`InvalidArgument` is a `ValueError`).",
        (
            "RealtimeError",
            "ProtocolError",
            "UnknownTransport",
            "UnknownSession",
            "BadHandshakeMethod",
            "BadRequest",
            "DecodeError",
            "PayloadTooLarge",
            "Forbidden",
            "Overloaded",
            "UnsupportedProtocolVersion",
            "ConnectionRefused",
            "EventRefused",
            "InvalidArgument",
            "InvalidArgumentType",
            "Unsendable",
            "PresenceError",
            "InvalidState",
            "MissingDependency",
            "HandlerSignatureError",
            "UnknownSocket",
            "AckTimeout",
            "BroadcastAckTimeout",
            "Disconnected",
        ),
        about=("realtime.errors",),
    ),
)


# The typing Protocols a class implements without naming them as a base:
# a method left undocumented there takes the protocol's docstring.
IMPLEMENTS = {
    "realtime.server.Server": ("realtime.types:EngineListener",),
    "realtime.namespace.Namespace": ("realtime.bus.adapter:AdapterHost",),
    "realtime.presence.Presence": ("realtime.types:ServerWatcher",),
    "realtime.admin.AdminUI": ("realtime.types:ServerWatcher",),
}


@dataclass
class Reference:
    """The text of the reference, and the public objects it found without a
    docstring (each a line to fix in the sources)."""

    text: str
    undocumented: list[str] = field(default_factory=list)


Definition = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef | ast.Assign | ast.AnnAssign


@dataclass(frozen=True)
class Found:
    module: str
    node: Definition
    tree: ast.Module
    lines: tuple[str, ...]  # the module's source, for comments and constants' values


def module_path(module: str) -> Path:
    parts = module.split(".")[1:]
    base = PACKAGE.joinpath(*parts)
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def parse(module: str) -> tuple[ast.Module, tuple[str, ...]]:
    source = module_path(module).read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = tuple(source.splitlines())
    encoded = [line.encode() for line in source.splitlines(keepends=True)]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            written = [arg.annotation for arg in every if arg is not None]
            written += [*args.defaults, *args.kw_defaults, node.returns]
        elif isinstance(node, ast.AnnAssign):
            written = [node.annotation, node.value]
        else:
            continue
        for expr in written:
            if expr is not None:
                expr.spelled = segment(encoded, expr)  # type: ignore[attr-defined]
    return tree, lines


def one_line(written: str) -> str:
    """An expression the source spreads over lines, on one: no space inside
    its brackets, no trailing comma."""
    joined = " ".join(line.strip() for line in written.splitlines())
    return re.sub(r",? ([)\]}])", r"\1", re.sub(r"([(\[{]) ", r"\1", joined))


def segment(encoded: list[bytes], expr: ast.expr) -> str:
    """``ast.get_source_segment`` over lines encoded once (it splits the
    whole source at every call); offsets count UTF-8 bytes, as ast's do."""
    assert expr.end_lineno is not None and expr.end_col_offset is not None
    first, last = expr.lineno - 1, expr.end_lineno - 1
    if first == last:
        return encoded[first][expr.col_offset : expr.end_col_offset].decode()
    parts = [encoded[first][expr.col_offset :], *encoded[first + 1 : last]]
    parts.append(encoded[last][: expr.end_col_offset])
    return b"".join(parts).decode()


def spell(expr: ast.expr) -> str:
    """An annotation or a default as the source writes it (``1_000_000``,
    its quotes), on one line."""
    written = getattr(expr, "spelled", None)
    if written is None:
        return ast.unparse(expr)
    return one_line(written)


def absolute(module: str, node: ast.ImportFrom) -> str:
    package = module if module_path(module).name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    if node.level == 0:
        return node.module or ""
    return f"{package}.{node.module}" if node.module else package


def assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ):
        return node.targets[0].id
    return None


def find(module: str, name: str) -> Found:
    """Where ``name``, as ``module`` sees it, is defined: its own definition,
    else the import that brings it in (a lazy one inside a function too)."""
    tree, lines = parse(module)
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == name:
                return Found(module, node, tree, lines)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and assigned_name(node) == name:
            return Found(module, node, tree, lines)
    for anywhere in ast.walk(tree):
        if isinstance(anywhere, ast.ImportFrom):
            for alias in anywhere.names:
                if (alias.asname or alias.name) == name:
                    return find(absolute(module, anywhere), alias.name)
    raise LookupError(f"{name} is not defined in {module}")


def exported() -> list[str]:
    tree, _ = parse("realtime")
    for node in tree.body:
        if assigned_name(node) == "__all__" and isinstance(node, ast.Assign | ast.AnnAssign):
            assert node.value is not None
            return [str(name) for name in ast.literal_eval(node.value)]
    raise LookupError("realtime/__init__.py has no __all__")


# -- signatures -------------------------------------------------------------------


def parameter(arg: ast.arg, default: ast.expr | None, star: str = "") -> str:
    text = star + arg.arg
    if arg.annotation is not None:
        text += f": {spell(arg.annotation)}"
        if default is not None:
            text += f" = {spell(default)}"
    elif default is not None:
        text += f"={spell(default)}"
    return text


def parameters(args: ast.arguments, drop_first: bool) -> list[str]:
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += args.defaults
    out: list[str] = []
    for index, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        out.append(parameter(arg, default))
        if args.posonlyargs and index == len(args.posonlyargs) - 1:
            out.append("/")
    if drop_first and positional:
        out.pop(0)
        if out and out[0] == "/":
            out.pop(0)
    if args.vararg is not None:
        out.append(parameter(args.vararg, None, "*"))
    elif args.kwonlyargs:
        out.append("*")
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        out.append(parameter(arg, kw_default))
    if args.kwarg is not None:
        out.append(parameter(args.kwarg, None, "**"))
    return out


def signature(
    head: str, args: ast.arguments, returns: ast.expr | None, drop_first: bool = False
) -> str:
    params = parameters(args, drop_first)
    tail = f" -> {spell(returns)}" if returns is not None else ""
    line = f"{head}({', '.join(params)}){tail}"
    if len(line) <= WIDTH or not params:
        return line
    body = "".join(f"    {param},\n" for param in params)
    return f"{head}(\n{body}){tail}"


def decorators(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.add(ast.unparse(target))
    return names


# -- docstrings -------------------------------------------------------------------

ROLE = re.compile(r":(?:class|meth|func|mod|attr|exc|data):`~?([^`]+)`")
LITERAL = re.compile(r"``([^`]+)``")


def markdown(doc: str) -> str:
    """reST inline markup as Markdown, and a literal block (after ``::``)
    as an indented code block, left as written; everything else as written."""
    out: list[str] = []
    literal = False
    for line in doc.splitlines():
        if literal and line.strip() and not line.startswith(" "):
            literal = False
        if literal:
            out.append(line)
            continue
        if line.rstrip().endswith("::"):
            literal = True
            line = line.rstrip()[:-1]  # "text::" reads "text:"; a lone "::" goes
            if line.strip() == ":":
                continue
        out.append(LITERAL.sub(r"`\1`", ROLE.sub(r"`\1`", line)))
    return "\n".join(out)


def comment_above(lines: tuple[str, ...], lineno: int) -> str:
    """The comment block right above line ``lineno`` (1-based): a constant's
    documentation where it has no docstring after it."""
    block: list[str] = []
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        block.insert(0, lines[index].lstrip()[1:].strip())
        index -= 1
    return " ".join(block)


def comment_beside(lines: tuple[str, ...], node: ast.stmt) -> str:
    """The comment that ends a one-line statement."""
    if node.end_lineno != node.lineno:
        return ""
    code, mark, comment = lines[node.lineno - 1].partition("  # ")
    return comment.strip() if mark and "#" not in code else ""


def attribute_doc(body: list[ast.stmt], node: ast.stmt) -> str | None:
    """The string right after an assignment: its docstring, by convention."""
    index = body.index(node)
    if index + 1 < len(body):
        after = body[index + 1]
        if (
            isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            return ast.get_docstring(ast.Module([after], []))
    return None


# -- the document -----------------------------------------------------------------


class Writer:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.undocumented: list[str] = []

    def code(self, text: str) -> None:
        self.out += ["```python", text, "```", ""]

    def constants(self, module: str, args: ast.arguments) -> None:
        """The values of the module constants the defaults name, which the
        signature shows by name only."""
        values = []
        for default in [*args.defaults, *args.kw_defaults]:
            if isinstance(default, ast.Name) and default.id.lstrip("_")[:1].isupper():
                value = constant_value(module, default.id)
                if value is not None and f"`{default.id} = {value}`" not in values:
                    values.append(f"`{default.id} = {value}`")
        if values:
            self.out += ["Where " + ", ".join(values) + ".", ""]

    def doc(self, where: str, doc: str | None) -> None:
        if doc:
            self.out += [markdown(doc), ""]
        else:
            self.undocumented.append(where)

    def name(self, ref: str) -> None:
        module, _, name = ref.rpartition(":")
        found = find(module or "realtime", name)
        title = f"{module}.{name}" if module else f"realtime.{name}"
        node = found.node
        where = f"{found.module}.{name}"
        if isinstance(node, ast.ClassDef):
            self.klass(title, found)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.out += [f"### `{title}`", ""]
            prefix = "async def " if isinstance(node, ast.AsyncFunctionDef) else "def "
            self.code(signature(prefix + title, node.args, node.returns))
            self.constants(found.module, node.args)
            self.doc(where, ast.get_docstring(node))
        else:
            self.out += [f"### `{title}`", ""]
            assert isinstance(node, ast.Assign | ast.AnnAssign)
            annotation = f": {spell(node.annotation)}" if isinstance(node, ast.AnnAssign) else ""
            self.code(f"{title}{annotation}")
            doc = attribute_doc(found.tree.body, node) or comment_above(found.lines, node.lineno)
            self.doc(where, doc)

    def klass(self, title: str, found: Found) -> None:
        node = found.node
        assert isinstance(node, ast.ClassDef)
        self.out += [f"### `{title}`", ""]
        init = next(
            (
                item
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name == "__init__"
            ),
            None,
        )
        bases = [ast.unparse(base) for base in node.bases]
        fields = [item for item in node.body if isinstance(item, ast.AnnAssign)]
        is_dataclass = any("dataclass" in ast.unparse(d) for d in node.decorator_list)
        if init is not None:
            head = signature(f"class {title}", init.args, None, drop_first=True)
        elif is_dataclass:
            params = [
                parameter(ast.arg(ast.unparse(item.target), item.annotation), item.value)
                for item in fields
            ]
            args = ", ".join(params)
            head = f"class {title}(*, {args})" if params else f"class {title}()"
            if len(head) > WIDTH:
                head = f"class {title}(\n" + "".join(f"    {p},\n" for p in params) + ")"
        else:
            head = f"class {title}"
        self.code(head)
        if init is not None:
            self.constants(found.module, init.args)
        if bases:
            self.out += ["Bases: " + ", ".join(f"`{base}`" for base in bases), ""]
        protocols = IMPLEMENTS.get(f"{found.module}.{node.name}", ())
        if protocols:
            names = ", ".join(f"`{ref.replace(':', '.')}`" for ref in protocols)
            self.out += [f"Implements {names}.", ""]
        self.doc(f"{found.module}.{node.name}", ast.get_docstring(node))
        self.attributes(title, found, init, is_dataclass)
        self.members(title, found.module, node)
        self.inherited(found.module, node)

    def inherited(self, module: str, node: ast.ClassDef, own: frozenset[str] = frozenset()) -> None:
        """Name the public methods the bases of the package give the class,
        each documented under its base."""
        own |= {
            item.name
            for item in node.body
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for base in node.bases:
            if not isinstance(base, ast.Name):
                continue
            try:
                found = find(module, base.id)
            except LookupError:
                continue  # a base from outside the package
            if not isinstance(found.node, ast.ClassDef):
                continue
            names = [
                item.name
                for item in found.node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and not item.name.startswith("_")
                and item.name not in own
            ]
            if names:
                listed = ", ".join(f"`{name}`" for name in dict.fromkeys(names))
                self.out += [f"Inherited from `{base.id}`: {listed}.", ""]
            self.inherited(found.module, found.node, own)

    def attributes(
        self, title: str, found: Found, init: ast.FunctionDef | None, is_dataclass: bool
    ) -> None:
        """The public attributes: a dataclass's fields, and what ``__init__``
        sets on ``self``, typed as annotated (or as the parameter assigned),
        each with the docstring that follows it, if any."""
        node = found.node
        assert isinstance(node, ast.ClassDef)
        rows: list[tuple[str, str, str]] = []
        for item in node.body:
            if (
                isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and not item.target.id.startswith("_")
            ):
                name = item.target.id
                doc = attribute_doc(node.body, item) or comment_above(found.lines, item.lineno)
                if not doc and is_dataclass:
                    doc = f"The ``{name}`` argument, as passed."
                kind = spell(item.annotation)
                if not is_dataclass and item.value is not None:
                    kind += f" = {spell(item.value)}"  # a class attribute's value
                rows.append((name, kind, doc))
        if init is not None:
            annotations = {
                arg.arg: spell(arg.annotation)
                for arg in [*init.args.args, *init.args.kwonlyargs]
                if arg.annotation is not None
            }
            seen = {name for name, _, _ in rows}
            for item in init.body:
                target = self_attribute(item)
                if target is None or target.startswith("_") or target in seen:
                    continue
                seen.add(target)
                doc = (
                    attribute_doc(init.body, item)
                    or comment_beside(found.lines, item)
                    or comment_above(found.lines, item.lineno)
                    or stored_option(item, annotations)
                )
                rows.append((target, attribute_type(item, annotations), doc))
        if not rows:
            return
        self.out += ["| attribute | type | |", "|---|---|---|"]
        for name, kind, doc in rows:
            if not doc:
                self.undocumented.append(f"{found.module}.{node.name}.{name}")
            text = markdown(" ".join(doc.split())).replace("|", "\\|").replace("<", "&lt;")
            kind_cell = f"`{kind}`".replace("|", "\\|") if kind else ""
            self.out.append(f"| `{name}` | {kind_cell} | {text} |")
        self.out.append("")

    def members(self, title: str, module: str, node: ast.ClassDef) -> None:
        overloads: dict[str, list[str]] = {}
        for item in node.body:
            if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if item.name.startswith("_"):
                continue
            marks = decorators(item)
            qualified = f"{title}.{item.name}"
            where = f"{module}.{node.name}.{item.name}"
            static = "staticmethod" in marks
            prefix = "async def " if isinstance(item, ast.AsyncFunctionDef) else "def "
            if "overload" in marks or "typing.overload" in marks:
                overloads.setdefault(item.name, []).append(
                    signature(prefix + qualified, item.args, item.returns, drop_first=not static)
                )
                continue
            if any(mark.endswith((".setter", ".deleter")) for mark in marks):
                continue
            if "property" in marks or "cached_property" in marks:
                returns = f": {spell(item.returns)}" if item.returns else ""
                self.out += [f"#### `{qualified}` (property)", ""]
                self.code(f"{qualified}{returns}")
            else:
                self.out += [f"#### `{qualified}`", ""]
                heads = overloads.pop(item.name, None) or [
                    signature(prefix + qualified, item.args, item.returns, drop_first=not static)
                ]
                if static:
                    heads = [f"@staticmethod\n{head}" for head in heads]
                self.code("\n".join(heads))
                self.constants(module, item.args)
            self.doc(where, ast.get_docstring(item) or inherited_doc(module, node, item.name))


def constant_value(module: str, name: str) -> str | None:
    """A module constant's value as the source writes it, when it is a
    literal (a number, a string, a tuple of them)."""
    try:
        found = find(module, name)
    except LookupError:
        return None
    node = found.node
    if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
        return None
    try:
        ast.literal_eval(node.value)
    except ValueError:
        return None  # computed: its name says more than its expression
    written = segment([f"{line}\n".encode() for line in found.lines], node.value)
    return one_line(written)


def self_attribute(node: ast.stmt) -> str | None:
    """``name`` when ``node`` assigns ``self.name``."""
    target: ast.expr | None = None
    if isinstance(node, ast.AnnAssign):
        target = node.target
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
    if (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    ):
        return target.attr
    return None


def stored_option(node: ast.stmt, annotations: dict[str, str]) -> str:
    """Where ``__init__`` keeps a parameter as it came, under its own name, say so."""
    value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
    name = self_attribute(node)
    if isinstance(value, ast.Name) and value.id == name and name in annotations:
        return f"The ``{name}`` argument, as passed."
    return ""


def attribute_type(node: ast.stmt, annotations: dict[str, str]) -> str:
    """The annotation, else that of the parameter assigned, the class
    constructed, the constant's or the enum's; empty when none of those says."""
    if isinstance(node, ast.AnnAssign):
        return spell(node.annotation)
    assert isinstance(node, ast.Assign)
    value = node.value
    if isinstance(value, ast.Name):
        return annotations.get(value.id, "")
    if isinstance(value, ast.Constant) and isinstance(value.value, bool | int | float | str):
        return type(value.value).__name__
    if (
        isinstance(value, ast.Attribute)
        and isinstance(value.value, ast.Name)
        and value.value.id[:1].isupper()
    ):
        return value.value.id  # an enum's member
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id[:1].isupper()
    ):
        return value.func.id
    return ""


def inherited_doc(module: str, node: ast.ClassDef, name: str) -> str | None:
    """The docstring of the method ``name`` overrides, as ``inspect.getdoc``
    finds it: from the nearest base of the package that documents it, else
    from a protocol the class implements."""
    bases = [(module, base.id) for base in node.bases if isinstance(base, ast.Name)]
    for ref in IMPLEMENTS.get(f"{module}.{node.name}", ()):
        protocol_module, _, protocol = ref.partition(":")
        bases.append((protocol_module, protocol))
    for base_module, base in bases:
        try:
            found = find(base_module, base)
        except LookupError:
            continue  # a base from outside the package
        if not isinstance(found.node, ast.ClassDef):
            continue
        for item in found.node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == name:
                doc = ast.get_docstring(item)
                if doc:
                    return doc
        doc = inherited_doc(found.module, found.node, name)
        if doc:
            return doc
    return None


def generate() -> Reference:
    public = exported()
    listed = [ref for section in SECTIONS for ref in section.names if ":" not in ref]
    missing = sorted(set(public) - set(listed))
    unknown = sorted(set(listed) - set(public))
    if missing or unknown or len(listed) != len(set(listed)):
        raise LookupError(
            f"SECTIONS in {Path(__file__).name} must list each name of realtime.__all__ "
            f"once: missing {missing}, not exported {unknown}"
        )
    writer = Writer()
    writer.out += [
        "# API reference",
        "",
        f"<!-- Generated by `{COMMAND}` from the docstrings and annotations of the "
        "sources; edit those, then run it again. -->",
        "",
        "Every public name of `realtime` (`realtime.__all__`), and the objects its methods "
        "hand out, with their signatures as annotated and their docstrings. The guide to "
        "using them is docs/server.md.",
        "",
    ]
    for section in SECTIONS:
        writer.out += [f"- [{section.title}](#{anchor(section.title)})"]
    writer.out.append("")
    for section in SECTIONS:
        writer.out += [f"## {section.title}", "", section.intro, ""]
        for module in section.about:
            tree, _ = parse(module)
            writer.out += [f"From `{module}`:", ""]
            writer.doc(module, ast.get_docstring(tree))
        for ref in section.names:
            writer.name(ref)
    text = "\n".join(writer.out).rstrip("\n") + "\n"
    return Reference(text, writer.undocumented)


def anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/api.md is stale")
    options = parser.parse_args(argv)
    reference = generate()
    for where in reference.undocumented:
        print(f"no docstring: {where}", file=sys.stderr)
    if options.check:
        if TARGET.read_text(encoding="utf-8") != reference.text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(reference.text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
