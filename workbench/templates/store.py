"""User templates in the workspace: templates/<id>/v0001.yaml, v0002.yaml, … (never rewritten).

Each save writes the next version file with an exclusive link, so two editors saving from the same
version cannot both win: the second gets StaleTemplateError. Deleting hides a template (a marker
file); its versions stay, so a dataset that recorded `id@N` still resolves.
"""
from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import yaml

from ..storage import TMP_PREFIX, slug, write_json_atomic
from ..workspace import NotFoundError
from .library import builtin_templates, get_template
from .model import ID_PATTERN, Template, Variable
from .render import check_syntax, variables_of

FOLDER = "templates"
HIDDEN = "hidden.json"
VERSION_FILE = re.compile(r"^v(\d{4,})\.yaml$")


class StaleTemplateError(ValueError):
    def __init__(self, template_id: str, parent: int, head: int):
        self.template_id, self.parent, self.head = template_id, parent, head
        super().__init__(
            f"Template '{template_id}' changed since you opened version {parent} (newest is {head}); reload, "
            f"then save again. / 模板“{template_id}”已被修改（你打开的是版本 {parent}，最新为版本 {head}），请刷新后重新保存。")


def create_template(ws, name: str, text: str, *, category: str = "instruction", language: str = "zh",
                    description: str = "", optional: list[str] | None = None, example: dict | None = None,
                    kind: str = "", output: str = "text", target: str = "", derived_from: str | None = None,
                    variables: list[Variable] | None = None, scale: str = "") -> Template:
    """A new user template (version 1) with an id made from its name."""
    name = clean_name(name)
    check_syntax(text, name)
    template_id = _reserve_id(ws, name)
    draft = Template(id=template_id, name={"zh": name, "en": name}, category=category, kind=kind, language=language,
                     description=description, text=text, example=example or {}, output=output, target=target,
                     source="user", version=1, derived_from=derived_from, created_at=time.time(),
                     variables=variables or [], scale=scale)
    return _write(ws, _with_variables(draft, optional), 1)


def save_template(ws, template_id: str, parent: int, **changes) -> Template:
    """Version parent+1 of a user template: the parent with `changes` (text, name, description, …).

    `optional` (a list of variable names) marks which variables may be left empty.
    """
    base = user_version(ws, template_id, parent)
    if base is None:
        raise NotFoundError(f"No user template '{template_id}@{parent}' / 没有用户模板“{template_id}@{parent}”")
    optional = changes.pop("optional", None)
    if "name" in changes:
        name = clean_name(changes.pop("name"))
        changes["name"] = {"zh": name, "en": name}
    head = _head(_folder(ws, template_id))
    if head != parent:
        raise StaleTemplateError(template_id, parent, head)
    data = base.model_dump() | changes | {"version": parent + 1, "parent": parent, "created_at": time.time()}
    check_syntax(data["text"], f"{template_id}@{parent + 1}")
    return _write(ws, _with_variables(Template(**data), optional), parent + 1)


def duplicate_template(ws, ref: str, name: str | None = None) -> Template:
    """A new user template (version 1) copied from a builtin or a user template version."""
    source = get_template(ws, ref)
    return create_template(
        ws, name or f"{source.title(source.language)} (copy)", source.text, category=source.category,
        language=source.language, description=source.description, example=source.example, kind=source.kind,
        output=source.output, target=source.target, derived_from=source.ref, variables=source.variables,
        optional=[v.name for v in source.variables if not v.required], scale=source.scale)


def delete_template(ws, template_id: str, restore: bool = False) -> None:
    """Hide a user template from the library (or show it again); its versions stay readable."""
    folder = _folder(ws, user_template_id(ws, template_id) or template_id)
    if _head(folder) == 0:
        raise NotFoundError(f"No user template '{template_id}' / 没有用户模板“{template_id}”")
    if restore:
        (folder / HIDDEN).unlink(missing_ok=True)
    else:
        write_json_atomic(folder / HIDDEN, {"hidden_at": time.time()})


def template_versions(ws, template_id: str) -> list[Template]:
    folder = _folder(ws, user_template_id(ws, template_id) or template_id)
    return [_read(path) for path in sorted(folder.glob("v*.yaml")) if VERSION_FILE.match(path.name)]


def user_version(ws, template_id: str, number: int | None = None) -> Template | None:
    folder = _folder(ws, template_id)
    number = number if number is not None else _head(folder)
    path = folder / f"v{number:04d}.yaml"
    return _read(path) if number and path.is_file() else None


def user_templates(ws, include_hidden: bool = False) -> list[Template]:
    root = Path(ws.root) / FOLDER
    found = []
    for folder in sorted(root.glob("*")) if root.is_dir() else []:
        if ID_PATTERN.match(folder.name) and (include_hidden or not (folder / HIDDEN).exists()) and _head(folder):
            try:
                found.append(user_version(ws, folder.name))
            except ValueError:
                continue  # a hand-edited file that no longer parses: left out of the list, named by get_template
    return [t for t in found if t is not None]


def user_template_id(ws, name: str) -> str | None:
    """The user template a person means: its id, the name it was created with (`lawyer_sys`, `律师`), or the id
    that name makes (lawyer_sys -> lawyer-sys); a visible one before a hidden one; None when none matches."""
    text = str(name or "").strip()
    if not text:
        return None
    if ID_PATTERN.match(text) and _head(_folder(ws, text)):
        return text
    wanted = clean_name(text)
    named = sorted({t.id for t in user_templates(ws, include_hidden=True) if wanted in (t.name.zh, t.name.en)})
    named = [i for i in named if not is_hidden(ws, i)] or named
    if len(named) > 1:
        raise NotFoundError(f"'{wanted}' names {len(named)} templates ({', '.join(named)}); give the id / "
                            f"名为“{wanted}”的模板有 {len(named)} 个（{'、'.join(named)}），请使用 id")
    if named:
        return named[0]
    made = slug(text, default="")[:56].strip("-")  # as _reserve_id makes ids
    return made if made and ID_PATTERN.match(made) and _head(_folder(ws, made)) else None


def is_hidden(ws, template_id: str) -> bool:
    return (_folder(ws, template_id) / HIDDEN).exists()


def clean_name(name: str) -> str:
    """One line of at most 120 characters without control characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(name or ""))
    return " ".join(text.split())[:120] or "template"


# --- files -------------------------------------------------------------------------------------------
def _folder(ws, template_id: str) -> Path:
    if not ID_PATTERN.match(str(template_id)):  # only [a-z0-9_-] ids: nothing outside templates/ can be named
        raise NotFoundError(f"'{template_id}' is not a template id / “{template_id}”不是模板 id")
    return Path(ws.root) / FOLDER / template_id


def _head(folder: Path) -> int:
    numbers = [int(m.group(1)) for p in folder.glob("v*.yaml") if (m := VERSION_FILE.match(p.name))]
    return max(numbers, default=0)


def _reserve_id(ws, name: str) -> str:
    base = slug(name, default="template")[:56].strip("-") or "template"
    root = Path(ws.root) / FOLDER
    root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 10_000):
        candidate = base if attempt == 1 else f"{base}-{attempt}"
        if candidate in builtin_templates():
            continue
        try:
            (root / candidate).mkdir()  # atomic: two creators never get the same id
        except FileExistsError:
            continue
        return candidate
    raise ValueError(f"Too many templates named '{name}' / 名为“{name}”的模板过多")


def _with_variables(template: Template, optional: list[str] | None) -> Template:
    """Variables follow the text: kept ones keep their description, new ones are required, unused ones go."""
    names = variables_of(template.text, template.ref)
    optional = set(optional) if optional is not None else {v.name for v in template.variables if not v.required}
    variables = []
    for name in names:
        old = template.variable(name) or Variable(name=name)
        variables.append(old.model_copy(update={"required": name not in optional}))
    example = {k: v for k, v in template.example.items() if k in names}
    return template.model_copy(update={"variables": variables, "example": example})


class _Dumper(yaml.SafeDumper):
    pass


def _text_block(dumper, value: str):
    style = "|" if "\n" in value else None  # multi-line prompts stay readable in the file
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text_block)


def _write(ws, template: Template, number: int) -> Template:
    """Write version `number` once: temp file + fsync + hard link (fails if the version exists)."""
    folder = _folder(ws, template.id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"v{number:04d}.yaml"
    data = template.model_dump(mode="json", exclude={"source"}, exclude_none=True)
    text = "# A user prompt template version: written once, never changed (edit = next version).\n"
    text += yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    tmp = folder / f"{TMP_PREFIX}{uuid.uuid4().hex}-{target.name}"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise StaleTemplateError(template.id, number - 1, _head(folder)) from None
    finally:
        tmp.unlink(missing_ok=True)
    return _read(target)


def _read(path: Path) -> Template:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Template(**{**data, "source": "user"})
    except (yaml.YAMLError, TypeError, ValueError) as error:
        raise ValueError(f"Cannot read template file {path.name} ({path.parent.name}): {error} / "
                         f"无法读取模板文件 {path.parent.name}/{path.name}：{error}") from None
