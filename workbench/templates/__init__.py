"""Prompt templates (jinja2): a builtin library plus the workspace's own versioned templates.

    from workbench.templates import list_templates, get_template, render, render_row, apply_template
    template = get_template(ws, "classify_text_zh")                # builtin; user ones are "id" or "id@N"
    render(template, {"labels": "正面、负面、中性", "text": "物流很快"})   # TemplateError when a value is missing
    render_row(template, row, {"text": "text"}, constants={"labels": "正面、负面、中性"})
    apply_template(ws, version, "classify_text_zh", "instruction", {"text": "text"},
                   constants={"labels": "正面、负面、中性"})           # -> a new dataset version, op "template"
    mine = duplicate_template(ws, "classify_text_zh", "评论分类")    # user template version 1
    save_template(ws, mine.id, parent=1, text=...)                    # version 2 (version 1 never changes)
"""
from .apply import (apply_template, check_apply, check_mapping, empty_values, preview_rows, render_column,
                    render_row, required_variables, resolve_mapping, row_variables, suggest_mapping,
                    version_empty_values)
from .library import builtin_templates, get_template, list_templates, parse_ref
from .model import CATEGORIES, LANGUAGES, Names, Template, Variable
from .render import EmptyValueError, TemplateError, check_syntax, render, render_example, variables_of
from .store import (StaleTemplateError, create_template, delete_template, duplicate_template, is_hidden,
                    save_template, template_versions)

__all__ = ["apply_template", "check_apply", "check_mapping", "empty_values", "required_variables",
           "version_empty_values", "EmptyValueError", "preview_rows", "render_column", "render_row",
           "resolve_mapping", "row_variables", "suggest_mapping", "builtin_templates", "get_template", "list_templates", "parse_ref",
           "CATEGORIES", "LANGUAGES", "Names", "Template", "Variable", "TemplateError", "check_syntax", "render",
           "render_example", "variables_of", "StaleTemplateError", "create_template", "delete_template",
           "duplicate_template", "is_hidden", "save_template", "template_versions"]
