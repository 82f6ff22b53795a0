"""The AWS::LanguageExtensions transform, as much of it as template.yaml uses, offline.

CloudFormation runs that transform before SAM's: it expands every `Fn::ForEach::Name` key
(in Conditions, Resources, Outputs and inside a resource's Properties) and resolves
`Fn::FindInMap` with a `DefaultValue`. SAM's translator (samtranslator) does neither, so the
checks (infra/checks/template_checks.py) and the idle cost (infra/cost/cost_model.py) expand
the template here first. template_checks.py compares the result with SAM CLI's own expander.

    "Fn::ForEach::Loop": [Identifier, Collection, {"OutputKey${Identifier}": body}]

Collection is a literal list, or a Ref to a CommaDelimitedList parameter. In the output keys
and anywhere in the body, `${Identifier}` becomes the item, `&{Identifier}` the item without
its non-alphanumeric characters, and `{"Ref": "Identifier"}` the item itself.

Needs only the standard library; `load` needs PyYAML.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

TRANSFORM = "AWS::LanguageExtensions"
FOREACH = "Fn::ForEach::"


class ExpansionError(ValueError):
    pass


def load(path: Path) -> dict:
    """template.yaml as a dict, short-form tags (!Ref, !Sub, ...) in their long form."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct(loader, suffix, node):
        name = "Ref" if suffix == "Ref" else ("Condition" if suffix == "Condition" else f"Fn::{suffix}")
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", construct)
    return yaml.load(Path(path).read_text(), Loader)


def uses_language_extensions(template: dict) -> bool:
    transform = template.get("Transform", [])
    return TRANSFORM in (transform if isinstance(transform, list) else [transform])


def expand(template: dict, params: dict[str, str] | None = None) -> dict:
    """A copy of the template with the language extensions applied and the transform removed
    from Transform (what SAM's translator is given)."""
    out = copy.deepcopy(template)
    if not uses_language_extensions(out):
        return out
    params = params or {}
    for section in ("Conditions", "Resources", "Outputs"):
        if isinstance(out.get(section), dict):
            out[section] = _expand_map(out[section], out, params)
    for resource in out.get("Resources", {}).values():
        if isinstance(resource, dict) and isinstance(resource.get("Properties"), dict):
            resource["Properties"] = _expand_properties(resource["Properties"], out, params)
    out["Resources"] = {n: _find_in_map(r, out.get("Mappings", {})) for n, r in out.get("Resources", {}).items()}
    transforms = [t for t in _list(out["Transform"]) if t != TRANSFORM]
    if transforms:
        out["Transform"] = transforms[0] if len(transforms) == 1 else transforms
    else:
        del out["Transform"]
    return out


def loop_collections(template: dict) -> dict[str, list]:
    """Loop name -> its collection, for every top-level Fn::ForEach in Resources."""
    return {
        key[len(FOREACH):]: value[1]
        for key, value in template.get("Resources", {}).items()
        if isinstance(key, str) and key.startswith(FOREACH)
    }


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def _collection(key: str, value, template: dict, params: dict[str, str]) -> tuple[str, list[str], dict]:
    if not (isinstance(value, list) and len(value) == 3):
        raise ExpansionError(f"{key}: needs [Identifier, Collection, {{OutputKey: body}}]")
    identifier, collection, body = value
    if not isinstance(identifier, str) or not isinstance(body, dict):
        raise ExpansionError(f"{key}: the identifier must be a string and the body a mapping")
    if isinstance(collection, dict) and set(collection) == {"Ref"}:
        name = collection["Ref"]
        spec = template.get("Parameters", {}).get(name)
        if not spec or spec.get("Type") != "CommaDelimitedList":
            raise ExpansionError(f"{key}: Ref {name} is not a CommaDelimitedList parameter")
        text = params.get(name, spec.get("Default", ""))
        collection = [item.strip() for item in str(text).split(",") if item.strip()]
    if not isinstance(collection, list) or not all(isinstance(i, (str, int, float, bool)) for i in collection):
        raise ExpansionError(f"{key}: the collection must be a literal list or a CommaDelimitedList parameter")
    items = ["true" if i is True else "false" if i is False else str(i) for i in collection]
    return identifier, items, body


def _expand_map(mapping: dict, template: dict, params: dict[str, str]) -> dict:
    result: dict = {}

    def put(key, value, where):
        if key in result:
            raise ExpansionError(f"{where} makes {key}, which already exists")
        result[key] = value

    for key, value in mapping.items():
        if isinstance(key, str) and key.startswith(FOREACH):
            identifier, items, body = _collection(key, value, template, params)
            for item in items:
                expanded = _expand_map(_substitute(body, identifier, item), template, params)
                for out_key, out_value in expanded.items():
                    if "${" in out_key or "&{" in out_key:
                        raise ExpansionError(f"{key}: output key {out_key} still has a placeholder")
                    put(out_key, out_value, key)
        else:
            put(key, value, "the template")
    return result


def _expand_properties(node, template: dict, params: dict[str, str]):
    if isinstance(node, dict):
        expanded = _expand_map(node, template, params) if any(
            isinstance(k, str) and k.startswith(FOREACH) for k in node
        ) else node
        return {k: _expand_properties(v, template, params) for k, v in expanded.items()}
    if isinstance(node, list):
        return [_expand_properties(v, template, params) for v in node]
    return node


def _substitute(node, identifier: str, item: str):
    if isinstance(node, str):
        stripped = re.sub(r"[^A-Za-z0-9]", "", item)
        return node.replace("${" + identifier + "}", item).replace("&{" + identifier + "}", stripped)
    if isinstance(node, dict):
        if node == {"Ref": identifier}:
            return item
        return {_substitute(k, identifier, item): _substitute(v, identifier, item) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, identifier, item) for v in node]
    return node


def _find_in_map(node, mappings: dict):
    """Fn::FindInMap whose names are all literal: the value, or its DefaultValue."""
    if isinstance(node, list):
        return [_find_in_map(v, mappings) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _find_in_map(v, mappings) for k, v in node.items()}
    args = node.get("Fn::FindInMap")
    if len(node) == 1 and isinstance(args, list) and all(isinstance(a, str) for a in args[:3]):
        name, top, second = args[:3]
        default = args[3].get("DefaultValue") if len(args) > 3 and isinstance(args[3], dict) else None
        found = mappings.get(name, {}).get(top, {}).get(second)
        if found is not None:
            return found
        if default is not None:
            return default
        raise ExpansionError(f"Fn::FindInMap {args[:3]} finds nothing and has no DefaultValue")
    return node
