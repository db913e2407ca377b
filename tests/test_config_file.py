"""Config files and command-line options that are wrong: a located, bilingual error and exit 2, never a traceback."""
import pyarrow as pa
import pytest

from workbench.cli import main
from workbench.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    workspace.create_dataset("faq", pa.table({"instruction": ["你好", "在吗", "几点", "多少"],
                                              "output": ["您好", "在的", "三点", "十元"]}))
    return workspace


def run(ws, capsys, *args):
    code = main(["--workspace", str(ws.root), *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_mapping_file_with_a_misspelt_field_is_refused_at_its_line(ws, tmp_path, capsys):
    mapping = write(tmp_path, "m.yaml", "instruction: instruction\noutput: output\nsystm: 你是律师助手\n")
    code, _, err = run(ws, capsys, "--lang", "zh", "map", "faq", "--mapping", mapping)
    assert code == 2 and err.startswith("错误: ") and f"{mapping}:3: systm: unknown key / 未知参数" in err
    assert ws.version("faq").number == 1  # nothing written


@pytest.mark.parametrize(("text", "expected"), [
    ("instruction: [instruction\n", ":2: not valid YAML"),
    ("- instruction\n", "must be a mapping of key: value / 必须是“键: 值”的映射"),
])
def test_a_mapping_file_that_is_not_a_yaml_mapping_is_refused(ws, tmp_path, capsys, text, expected):
    code, _, err = run(ws, capsys, "map", "faq", "--mapping", write(tmp_path, "m.yaml", text))
    assert code == 2 and expected in err


def test_missing_files_and_malformed_options_are_named(ws, tmp_path, capsys):
    code, _, err = run(ws, capsys, "map", "faq", "--mapping", str(tmp_path / "none.yaml"))
    assert code == 2 and "none.yaml: cannot read the file (no such file)" in err
    code, _, err = run(ws, capsys, "map", "faq", "--set", "instruction")
    assert code == 2 and "--set takes target=source" in err and "'instruction'" in err
    code, _, err = run(ws, capsys, "map", "faq", "--use", "nosuch")
    assert code == 2 and "no saved mapping 'nosuch'" in err
    code, _, err = run(ws, capsys, "versions", "nope")
    assert code == 2 and err.startswith("error: No dataset 'nope'")  # the message, not the KeyError's repr


def test_split_options_and_files_are_checked_before_anything_is_written(ws, tmp_path, capsys):
    code, _, err = run(ws, capsys, "split", "faq", "--train", "0.8", "--validation", "0.3", "--test", "0.1")
    assert code == 2 and "must add up to 1, got 1.2" in err and "pydantic" not in err
    config = write(tmp_path, "s.yaml", "train: 0.5\nvalidaton: 0.5\n")
    code, _, err = run(ws, capsys, "split", "faq", "--config", config)
    assert code == 2 and f"{config}:2: validaton: unknown key" in err
    code, _, err = run(ws, capsys, "split", "faq", "--train", "-0.5", "--test", "1.5", "--validation", "0")
    assert code == 2 and "train: Input should be greater than or equal to 0 / 取值无效" in err
    assert ws.version("faq").number == 1
    code, out, _ = run(ws, capsys, "--lang", "zh", "split", "faq", "--config", write(tmp_path, "ok.yaml", "test: 0.25\n"),
                       "--train", "0.5", "--validation", "0.25")
    assert code == 0 and out.startswith("已划分 -> faq@2")  # the file's value, with the command line's on top


def test_an_evaluation_config_reads_an_unquoted_on_as_on(tmp_path):
    from workbench.evaluate.config import read_config

    config = read_config(write(tmp_path, "e.yaml", "inference: abc\nclassification: on\nlexical: off\n"))
    assert config.classification == "on" and config.lexical is False
    assert read_config(write(tmp_path, "f.yaml", "inference: abc\nclassification: off\n")).classification == "off"
    with pytest.raises(ValueError) as caught:
        read_config(write(tmp_path, "g.yaml", "inference: abc\n\nclassification: maybe\n"))
    assert "g.yaml:3: classification: Input should be 'auto', 'on' or 'off' / 取值不在可选范围内" in str(caught.value)


def test_inference_and_evaluation_configs_locate_bad_yaml_and_unknown_knobs(tmp_path):
    from workbench.evaluate.config import read_config as read_eval
    from workbench.infer.config import read_config as read_infer

    with pytest.raises(ValueError) as caught:
        read_eval(write(tmp_path, "e.yaml", "inference: abc\nsimilarity: [true\n"))
    assert "e.yaml:3: not valid YAML (expected ',' or ']'" in str(caught.value)  # where YAML noticed
    with pytest.raises(ValueError) as caught:
        read_infer(write(tmp_path, "i.yaml", "dataset: faq\narms:\n- model: smollm2-135m-instruct\n"
                                             "temprature: 0.5\n"))
    assert "i.yaml:4: temprature: unknown knob" in str(caught.value)


def test_infer_names_the_splits_a_dataset_has(ws, tmp_path, capsys):
    assert run(ws, capsys, "split", "faq", "--train", "0.5", "--validation", "0.25", "--test", "0.25")[0] == 0
    config = write(tmp_path, "i.yaml", "dataset: faq\nsplit: tst\narms:\n- {label: base, model: smollm2-135m-instruct}\n")
    code, _, err = run(ws, capsys, "infer", config, "--detach")
    assert code == 2 and "faq@2 has no split 'tst'; it has " in err and "test" in err


def test_the_evaluate_verb_locates_a_broken_config(ws, tmp_path, capsys):
    config = write(tmp_path, "e.yaml", "inference: abc\nclassification: maybe\n")
    code, _, err = run(ws, capsys, "evaluate", config)
    assert code == 2 and f"{config}:2: classification: Input should be 'auto', 'on' or 'off'" in err
    code, _, err = run(ws, capsys, "evaluate", write(tmp_path, "b.yaml", "inference: [abc\n"))
    assert code == 2 and "b.yaml:2: not valid YAML" in err
