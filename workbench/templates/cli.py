"""`python -m workbench templates …`: list, show, render, apply, and manage your own templates."""
from __future__ import annotations

import sys
from pathlib import Path

EXIT_USER_ERROR = 2


def register(verbs) -> None:
    p = verbs.add_parser("templates", help="prompt templates: list, show, render, apply, create, edit, duplicate")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("list", help="builtin and workspace templates")
    a.add_argument("--category"), a.add_argument("--lang", dest="template_lang", choices=("zh", "en"))
    a.add_argument("--search"), a.set_defaults(handler=_list)
    a = actions.add_parser("show", help="a template's fields, text and rendered example (ID or ID@N)")
    a.add_argument("ref"), a.set_defaults(handler=_show)
    a = actions.add_parser("render", help="render a template with --var name=value")
    a.add_argument("ref"), a.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    a.add_argument("--example", action="store_true", help="start from the template's example values")
    a.set_defaults(handler=_render)
    a = actions.add_parser("apply", help="render a template on every row into a field (a new dataset version)")
    a.add_argument("dataset", help="DATASET or DATASET@N"), a.add_argument("template", help="ID or ID@N")
    a.add_argument("--target", required=True, help="field to write: instruction, system, input, …")
    a.add_argument("--map", action="append", default=[], metavar="VARIABLE=COLUMN")
    a.add_argument("--set", action="append", default=[], metavar="VARIABLE=TEXT", help="fixed text for a variable")
    a.add_argument("--overwrite", action="store_true", help="replace text already in the target field")
    a.add_argument("--allow-empty", action="store_true",
                   help="apply even where a required variable's value is empty (refused otherwise, with the rows)")
    a.set_defaults(handler=_apply)
    a = actions.add_parser("create", help="a new template of yours from a text file (version 1)")
    a.add_argument("name"), a.add_argument("--text-file", required=True)
    a.add_argument("--category", default="instruction")
    a.add_argument("--language", default="zh", choices=("zh", "en"))
    a.add_argument("--description", default=""), a.add_argument("--optional", nargs="*", default=[])
    a.set_defaults(handler=_create)
    a = actions.add_parser("edit", help="save a new version of your template from a text file")
    a.add_argument("id"), a.add_argument("--text-file", required=True)
    a.add_argument("--optional", nargs="*"), a.set_defaults(handler=_edit)
    a = actions.add_parser("duplicate", help="copy a builtin or user template into a new one of yours")
    a.add_argument("ref"), a.add_argument("--name"), a.set_defaults(handler=_duplicate)
    a = actions.add_parser("versions", help="the versions of one of your templates")
    a.add_argument("id"), a.set_defaults(handler=_versions)
    a = actions.add_parser("delete", help="hide one of your templates (its versions stay readable)")
    a.add_argument("id"), a.set_defaults(handler=_delete)


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"{flag} takes NAME=VALUE, got '{item}' / {flag} 的格式应为 名称=值，收到“{item}”")
        pairs[key.strip()] = value
    return pairs


def _guarded(function):
    """Template errors print located, in the chosen language, and exit 2."""
    def run(args, ws) -> int:
        from .render import TemplateError

        try:
            return function(args, ws)
        except TemplateError as error:
            print(f"error: {error.located(args.lang)}", file=sys.stderr)
            return EXIT_USER_ERROR
    return run


def _list(args, ws) -> int:
    from . import list_templates

    for template in list_templates(ws, args.category, args.template_lang, args.search):
        print(f"{template.ref}\t{template.category}\t{template.language}\t{template.title(args.lang)}")
    return 0


@_guarded
def _show(args, ws) -> int:
    from . import get_template, render_example

    template = get_template(ws, args.ref)
    print(f"{template.ref}  [{template.source}] {template.category}/{template.kind or '-'} {template.language}"
          f"  output: {template.output}")
    print(f"name: {template.name.zh} / {template.name.en}")
    if template.description:
        print(f"description: {template.description}")
    for variable in template.variables:
        flag = "required" if variable.required else f"optional, default {variable.default!r}"
        print(f"  {{{{ {variable.name} }}}}  ({flag})  {variable.description}")
    print("--- text ---")
    print(template.text.rstrip("\n"))
    if template.example:
        print("--- example ---")
        print(render_example(template))
    return 0


@_guarded
def _render(args, ws) -> int:
    from . import get_template, render

    template = get_template(ws, args.ref)
    values = dict(template.example) if args.example else {}
    values.update(_pairs(args.var, "--var"))
    print(render(template, values))
    return 0


@_guarded
def _apply(args, ws) -> int:
    from ..i18n import t
    from . import EmptyValueError, apply_template, get_template, resolve_mapping

    version = ws.resolve(args.dataset)
    template = get_template(ws, args.template)
    constants = _pairs(args.set, "--set")
    # As on the Templates page: a variable takes the column of the same name unless --map or --set says
    # otherwise (an empty mapping would leave every variable without a value).
    mapping = resolve_mapping(template, version.columns, None, constants) | _pairs(args.map, "--map")
    try:
        new = apply_template(ws, version, template, args.target, mapping, constants, overwrite=args.overwrite,
                             allow_empty=args.allow_empty)
    except EmptyValueError as error:
        print(f"error: {error.located(args.lang)}\n{t('templates.empty_cli', args.lang)}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"applied {template.ref} to {version.ref} -> {new.ref} ({new.rows} rows, field {args.target})")
    return 0


def _read_text_file(path_text: str) -> str:
    """A template's text from a UTF-8 file; a missing, unreadable or non-UTF-8 file is a located user error."""
    from ..data.encoding import decode_error

    path = Path(path_text)
    if not path.exists():
        raise ValueError(f"Template text file not found: {path} / 找不到模板文本文件：{path}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give the template's text file (--text-file) / "
                         f"{path} 是文件夹，请用 --text-file 指定模板文本文件")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        where = decode_error(path, "utf-8", str(path)).problems[0]
        raise ValueError(
            f"{path}:{where.line}:{where.column}: the template text is not UTF-8 (byte 0x{where.params['byte']}); "
            f"a Chinese file saved on Windows is usually GB18030/GBK: save it as UTF-8, e.g. "
            f"iconv -f GB18030 -t UTF-8 {path.name} > {path.stem}.utf8{path.suffix} / "
            f"{path}:{where.line}:{where.column}：模板文本不是 UTF-8 编码（字节 0x{where.params['byte']}）；"
            f"Windows 保存的中文文件通常是 GB18030/GBK，请另存为 UTF-8，例如 "
            f"iconv -f GB18030 -t UTF-8 {path.name} > {path.stem}.utf8{path.suffix}") from None
    except OSError as error:
        raise ValueError(f"Cannot read the template text file {path}: {error.strerror} / "
                         f"无法读取模板文本文件 {path}：{error.strerror}") from None


@_guarded
def _create(args, ws) -> int:
    from . import create_template

    text = _read_text_file(args.text_file)
    template = create_template(ws, args.name, text, category=args.category, language=args.language,
                               description=args.description, optional=args.optional)
    print(f"created {template.ref}")
    return 0


@_guarded
def _edit(args, ws) -> int:
    from . import get_template, save_template

    current = get_template(ws, args.id)
    if current.source != "user":
        raise ValueError(f"'{args.id}' is built in and read-only; duplicate it first / "
                         f"内置模板“{args.id}”不能修改，请先复制")
    changes = {"text": _read_text_file(args.text_file)}
    if args.optional is not None:
        changes["optional"] = args.optional
    template = save_template(ws, current.id, current.version, **changes)
    print(f"saved {template.ref}")
    return 0


def _duplicate(args, ws) -> int:
    from . import duplicate_template

    print(f"created {duplicate_template(ws, args.ref, args.name).ref}")
    return 0


def _versions(args, ws) -> int:
    import time

    from . import template_versions

    versions = template_versions(ws, args.id)
    if not versions:
        from ..workspace import NotFoundError

        raise NotFoundError(f"No user template '{args.id}' / 没有用户模板“{args.id}”")
    for template in versions:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(template.created_at or 0))
        print(f"{template.ref}\t{when}\tparent {template.parent or '-'}\t{template.derived_from or ''}")
    return 0


def _delete(args, ws) -> int:
    from . import delete_template

    delete_template(ws, args.id)
    print(f"hidden {args.id}")
    return 0
