"""The template library: builtins from builtin/*.yaml plus the workspace's own, listed and looked up by ref.

A ref is `id` (a builtin, or a user template's newest version) or `id@N` (version N of a user template).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from ..workspace import NotFoundError
from .model import CATEGORIES, ID_PATTERN, Template

BUILTIN_DIR = Path(__file__).with_name("builtin")


@lru_cache(maxsize=1)
def builtin_templates() -> dict[str, Template]:
    """Every builtin by id (a broken or duplicated builtin is a bug: it raises)."""
    found: dict[str, Template] = {}
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("templates", []):
            try:
                template = Template(**entry, source="builtin")
            except ValueError as error:
                raise ValueError(f"{path.name}: template '{entry.get('id')}': {error}") from None
            if template.id in found:
                raise ValueError(f"builtin template id '{template.id}' appears twice ({path.name})")
            found[template.id] = template
    return found


def parse_ref(ref: str) -> tuple[str, int | None]:
    """`id` or `id@N` -> (id, N or None); a malformed ref raises NotFoundError."""
    template_id, at, number = str(ref).strip().partition("@")
    if not ID_PATTERN.match(template_id) or (at and not number.isdigit()):
        raise NotFoundError(f"'{ref}' is not a template reference (id or id@N) / “{ref}”不是模板引用（id 或 id@N）")
    return template_id, int(number) if at else None


def get_template(ws, ref: str) -> Template:
    """A builtin by id, or a user template (newest version, or `@N`) by id or by the name it was created with
    (`lawyer_sys` finds lawyer-sys); unknown refs raise NotFoundError."""
    from .store import user_template_id, user_version

    try:
        template_id, number = parse_ref(ref)
    except NotFoundError:
        template_id, number = _name_ref(ref)  # a name such as "律师 系统@2" is no id, but may name a template
    builtin = builtin_templates().get(template_id)
    if builtin is not None:
        if number is not None:
            raise NotFoundError(f"Builtin template '{template_id}' has no versions; use '{template_id}' / "
                                f"内置模板“{template_id}”没有版本号，请直接使用“{template_id}”")
        return builtin
    user_id = user_template_id(ws, template_id) if ws is not None else None
    if user_id is not None:
        template = user_version(ws, user_id, number)
        if template is not None:
            return template
    raise NotFoundError(f"No template '{ref}' / 没有模板“{ref}”")


def _name_ref(ref: str) -> tuple[str, int | None]:
    name, at, number = str(ref).strip().rpartition("@")
    if at and number.isdigit() and name.strip():
        return name.strip(), int(number)
    if not str(ref).strip():
        raise NotFoundError(f"'{ref}' is not a template reference (id or id@N) / “{ref}”不是模板引用（id 或 id@N）")
    return str(ref).strip(), None


def list_templates(ws=None, category: str | None = None, language: str | None = None, query: str | None = None,
                   include_hidden: bool = False) -> list[Template]:
    """Builtins and (with a workspace) the newest version of each user template, filtered."""
    from .store import user_templates

    templates = list(builtin_templates().values())
    if ws is not None:
        templates += user_templates(ws, include_hidden=include_hidden)
    words = (query or "").lower().split()

    def keep(template: Template) -> bool:
        if category and template.category != category or language and template.language != language:
            return False
        haystack = " ".join((template.id, template.name.zh, template.name.en, template.kind, template.description,
                             template.category)).lower()
        return all(word in haystack for word in words)

    return sorted(filter(keep, templates), key=lambda t: (t.source != "user", CATEGORIES.index(t.category), t.id))
