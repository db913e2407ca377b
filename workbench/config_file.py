"""YAML config files of the typed models (TrainConfig, InferConfig, EvalConfig, FieldMapping, SplitConfig).

Every reader here turns a bad file into a ValueError whose lines are located and bilingual, never a traceback:

    train.yaml:22: max_step: unknown key / 未知参数
    eval.yaml:3: classification: Input should be 'auto', 'on' or 'off' / 取值不在可选范围内
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)
ERROR_ZH = {"extra_forbidden": "未知参数", "missing": "缺少必填项", "literal_error": "取值不在可选范围内"}


def read_text(path) -> str:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: cannot read the file (no such file) / 无法读取配置文件（文件不存在）") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read the file ({error}) / 无法读取配置文件") from None


def parse_mapping(text: str, where: str = "config") -> dict:
    """The YAML text as a dict (empty text: {}); `where` names it in errors (a file name)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        located = f"{where}:{mark.line + 1}" if mark else where
        raise ValueError(f"{located}: not valid YAML ({getattr(error, 'problem', None) or error}) / "
                         f"不是有效的 YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{where}: must be a mapping of key: value / 必须是“键: 值”的映射")
    return data


def problems(error: ValidationError, unknown: str = "unknown key") -> list[str]:
    """'field: message / 中文' per problem of a validation error (no pydantic links, no "Value error, ")."""
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = unknown
        if " / " not in message:
            message += f" / {ERROR_ZH.get(item['type'], '取值无效')}"
        lines.append(f"{'.'.join(map(str, item['loc'])) or 'config'}: {message}")
    return lines


def read(path) -> tuple[str, dict]:
    """(text, mapping) of a YAML config file; ValueError naming the file (and line) when it cannot be read."""
    text = read_text(path)
    return text, parse_mapping(text, str(path))


def located(path, text: str, lines: list[str]) -> ValueError:
    """'field: message' lines as one error, each prefixed with 'file:line' of its top-level key, in file order."""
    found = sorted((_line_of(text, line.split(":", 1)[0].split(".")[0].split("[")[0]), line) for line in lines)
    return ValueError("\n".join(f"{path}{f':{number}' if number else ''}: {line}" for number, line in found))


def read_checked(path, errors: Callable[[dict], list[str]], model: type[Model]) -> Model:
    """A config file checked by its module's own `errors(data)` (its wording of each problem), located."""
    text, data = read(path)
    found = errors(data)
    if found:
        raise located(path, text, found)
    return model(**data)


def load(model: type[Model], path, **overrides) -> Model:
    """A config file as `model`; `overrides` (not None) replace the file's values (command-line options)."""
    text, data = read(path)
    data.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return model(**data)
    except ValidationError as error:
        raise located(path, text, problems(error)) from None


def _line_of(text: str, key: str) -> int:
    """The line where `key:` is written at the top level (1-based), or 0 when it is not written."""
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE) if text else None
    return text.count("\n", 0, match.start()) + 1 if match else 0
