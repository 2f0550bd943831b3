"""Python facts from tree-sitter: imports, definitions, references, and what test code asks of the code it tests."""
from __future__ import annotations

from typing import Iterator

from .facts import Call, Definition, Facts, Import, Raises

_RAISES = {"raises", "assertRaises", "assertRaisesRegex"}


def _text(node) -> str:
    return node.text.decode("utf-8", "replace") if node is not None else ""


def _walk(node) -> Iterator:
    cursor = [node]
    while cursor:
        current = cursor.pop()
        yield current
        cursor.extend(reversed(current.children))


class PythonAnalyzer:
    language = "python"
    suffixes = (".py",)
    _shared: "PythonAnalyzer | None" = None

    def __init__(self) -> None:
        import tree_sitter_python
        from tree_sitter import Language, Parser

        self._parser = Parser(Language(tree_sitter_python.language()))

    @classmethod
    def shared(cls) -> "PythonAnalyzer":
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def parse(self, source: bytes):
        """The tree-sitter syntax tree of source."""
        return self._parser.parse(source)

    def analyze(self, source: bytes) -> Facts:
        root = self._parser.parse(source).root_node
        imports, definitions, calls, attributes, raises = [], [], [], [], []
        references: set[str] = set()
        fixtures_used: list[str] = []
        fixtures_defined: list[str] = []
        tests: list[str] = []
        bindings: list[tuple[str, str]] = []
        for node in _walk(root):
            kind = node.type
            if kind == "import_statement":
                for name in node.children_by_field_name("name"):
                    module = name.child_by_field_name("name") if name.type == "aliased_import" else name
                    imports.append(Import(_text(module)))
            elif kind == "import_from_statement":
                imports.append(_from_import(node))
            elif kind == "class_definition":
                bases = node.child_by_field_name("superclasses")
                definitions.append(Definition(_text(node.child_by_field_name("name")), "class",
                                              f"class {_text(node.child_by_field_name('name'))}{_text(bases)}:",
                                              node.start_point[0] + 1))
            elif kind == "function_definition":
                definitions.append(_function(node))
                name = definitions[-1].name
                if _is_fixture(node):
                    fixtures_defined.append(name)
                elif name.startswith("test"):
                    tests.append(name)
                    params = node.child_by_field_name("parameters")
                    fixtures_used += [_text(p) for p in params.named_children
                                      if p.type == "identifier" and _text(p) not in ("self", "cls")]
            elif kind == "call":
                call = _call(node)
                calls.append(call)
                if call.target.rsplit(".", 1)[-1] in _RAISES:
                    found = _raises(node)
                    if found:
                        raises.append(found)
            elif kind == "attribute":
                obj, attr = node.child_by_field_name("object"), node.child_by_field_name("attribute")
                if obj is not None and obj.type == "identifier":
                    attributes.append((_text(obj), _text(attr)))
            elif kind == "identifier":
                references.add(_text(node))
            elif kind == "assignment":
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if left is not None and left.type == "identifier" and right is not None and right.type == "call":
                    bindings.append((_text(left), _text(right.child_by_field_name("function"))))
            if kind == "expression_statement" and node.parent is not None and node.parent.type == "module":
                assignment = node.named_children[0] if node.named_children else None
                if assignment is not None and assignment.type == "assignment":
                    left = assignment.child_by_field_name("left")
                    if left is not None and left.type == "identifier":
                        definitions.append(Definition(_text(left), "variable", f"{_text(left)} = …",
                                                      node.start_point[0] + 1))
        return Facts(tuple(imports), tuple(definitions), frozenset(references), tuple(calls), tuple(attributes),
                     tuple(raises), tuple(dict.fromkeys(fixtures_used)), tuple(fixtures_defined), tuple(tests),
                     tuple(bindings))


def _from_import(node) -> Import:
    module = node.child_by_field_name("module_name")
    level = 0
    name = ""
    if module is not None and module.type == "relative_import":
        for child in module.children:
            if child.type == "import_prefix":
                level = _text(child).count(".")
            elif child.type == "dotted_name":
                name = _text(child)
    else:
        name = _text(module)
    names = []
    for child in node.children_by_field_name("name"):
        target = child.child_by_field_name("name") if child.type == "aliased_import" else child
        names.append(_text(target))
    if any(child.type == "wildcard_import" for child in node.children):
        names.append("*")
    return Import(name, tuple(names), level)


def _function(node) -> Definition:
    name = _text(node.child_by_field_name("name"))
    params = _text(node.child_by_field_name("parameters"))
    returns = node.child_by_field_name("return_type")
    parent = ""
    ancestor = node.parent
    while ancestor is not None:
        if ancestor.type == "class_definition":
            parent = _text(ancestor.child_by_field_name("name"))
            break
        if ancestor.type == "function_definition":
            break
        ancestor = ancestor.parent
    signature = f"def {name}{' '.join(params.split())}" + (f" -> {_text(returns)}" if returns is not None else "") + ":"
    return Definition(name, "method" if parent else "function", signature, node.start_point[0] + 1, parent)


def _is_fixture(node) -> bool:
    parent = node.parent
    if parent is None or parent.type != "decorated_definition":
        return False
    return any("fixture" in _text(child) for child in parent.children if child.type == "decorator")


def _call(node) -> Call:
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    positional, keywords = 0, []
    if arguments is not None:
        for argument in arguments.named_children:
            if argument.type == "keyword_argument":
                keywords.append(_text(argument.child_by_field_name("name")))
            elif argument.type != "comment":
                positional += 1
    return Call(_text(function), positional, tuple(keywords), node.start_point[0] + 1)


def _raises(node) -> Raises | None:
    arguments = node.child_by_field_name("arguments")
    if arguments is None or not arguments.named_children:
        return None
    first = arguments.named_children[0]
    match = None
    for argument in arguments.named_children:
        if argument.type == "keyword_argument" and _text(argument.child_by_field_name("name")) == "match":
            match = _text(argument.child_by_field_name("value"))
    if match is None and len(arguments.named_children) > 1 and _text(node.child_by_field_name("function")).endswith(
            "Regex"):
        match = _text(arguments.named_children[1])
    return Raises(_text(first), match, node.start_point[0] + 1)
