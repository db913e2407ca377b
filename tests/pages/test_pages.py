"""Every page renders, its main action works, and bad input shows a located error (AppTest)."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import ROOT, TIMEOUT, no_errors, page
from workbench import jobs


def sample(ws):
    from workbench.samples import load_sample

    return load_sample(ws)


def test_app_opens_on_home_with_navigation(app_env):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
    no_errors(at)
    assert any("Workbench" in t.value for t in at.title)


def test_pages_that_need_a_dataset_point_an_empty_workspace_to_import_and_the_sample(app_env):
    for name in ("datasets", "versions", "split", "export", "quality", "augment", "train", "inference"):
        at = page(name).run()
        no_errors(at)
        assert any(i.value == "Import a dataset first." for i in at.info), name
        links = {link.proto.page for link in at.get("page_link")}  # url paths: the Import page and Home
        assert {"import", ""} <= links, (name, links)


def test_home_loads_the_sample_in_one_click(app_env):
    at = page("home").run()
    no_errors(at)
    at.button(key="load_sample").click().run()
    no_errors(at)
    assert app_env.datasets()[0].rows == 37
    assert any("Loaded the sample" in s.value for s in at.success)


def test_import_by_path_checks_fixes_and_saves(app_env, tmp_path):
    data = tmp_path / "messy.jsonl"
    data.write_text('{"instruction": "问一", "output": "答一"}\n{"instruction": "  ", "output": "答二"}\n'
                    '{"instruction": "问三", "output": "答三"}\n', encoding="utf-8")
    at = page("import_data").run()
    at.text_input(key="import_path").input(str(data)).run()
    at.button(key="check").click().run()
    no_errors(at)
    assert any("3 rows read" in i.value for i in at.info)
    assert at.checkbox(key="drop_bad").value  # bad rows are dropped by default
    at.text_input(key="dataset_name").input("messy").run()
    at.button(key="save").click().run()
    no_errors(at)
    version = app_env.datasets()[0]
    assert (version.name, version.rows) == ("messy", 2)


def test_import_of_a_broken_file_shows_where(app_env, tmp_path):
    data = tmp_path / "broken.json"
    data.write_text('[\n  {"instruction": "a", "output": "b"},\n  {"instruction": "c" "output": "d"}\n]',
                    encoding="utf-8")
    at = page("import_data").run()
    at.text_input(key="import_path").input(str(data)).run()
    at.button(key="check").click().run()
    no_errors(at)
    assert at.error and "cannot be read" in at.error[0].value
    shown = at.dataframe[0].value
    assert int(shown["line"].iloc[0]) == 3
    assert app_env.datasets() == []


def test_datasets_page_browses_searches_edits_and_deletes(app_env):
    version = sample(app_env)
    at = page("datasets").run()
    no_errors(at)
    assert len(at.dataframe[0].value) == 37
    at.text_input(key="ds_search").input("物流").run()
    assert len(at.dataframe[0].value) == 1
    at.number_input(key="ds_edit_id").set_value(0).run()
    at.text_area(key="ds_edit_0_text").input("改过的评论").run()
    at.button(key="ds_edit_save").click().run()
    no_errors(at)
    head = app_env.version(version.dataset_id)
    assert head.number == 2 and app_env.read(head).column("text")[0].as_py() == "改过的评论"
    at.text_input(key="ds_delete_ids").input("1, 2").run()
    at.button(key="ds_delete").click().run()
    assert app_env.version(version.dataset_id).rows == 35


def test_datasets_page_checks_problems_and_shows_length_statistics(app_env):
    version = app_env.create_dataset("mixed", pa.table({"instruction": ["问", "  ", "三"], "output": ["答", "b", "c"]}))
    at = page("datasets").run()
    at.radio(key="ds_section").set_value("problems").run()
    at.button(key="ds_validate").click().run()
    no_errors(at)
    problems = at.dataframe[0].value
    # a saved version's rows are shown as their _id, the number the page's edit and delete boxes take
    assert problems["row"].tolist() == [1] and problems["field"].tolist() == ["instruction"]
    bad = app_env.version(version.dataset_id)
    assert pq.read_table(bad.path).to_pylist()[1]["instruction"] == "  "
    at.button(key="ds_drop_bad").click().run()
    no_errors(at)
    assert app_env.version(version.dataset_id).rows == 2
    at.radio(key="ds_section").set_value("stats").run()
    no_errors(at)
    table = at.dataframe[0].value
    assert set(table["field"]) == {"instruction", "output"} and set(table["unit"]) == {"characters"}
    assert table.set_index("field").loc["instruction", "max"] == 1
    chart = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert chart["encoding"]["x"]["bin"] == "binned"  # bars rise from 0 to each bin's count (not ticks at the count)
    zh = page("datasets")
    zh.session_state["lang"], zh.session_state["ds_section"] = "zh", "stats"
    zh.run()
    labels = {column.get("label") for column in json.loads(zh.dataframe[0].proto.columns).values()}
    assert {"字段", "单位", "行数", "中位数", "最长"} <= labels and set(zh.dataframe[0].value["unit"]) == {"字符"}
    at.button(key="ds_full_stats").click().run()
    job = jobs.list_jobs(app_env)[0]
    assert jobs.wait(app_env, job.id).state == "succeeded"
    at.run()
    assert len(at.dataframe) == 2  # the full statistics appear under the quick ones


def test_row_text_is_shown_as_text_not_html(app_env):
    sample(app_env)
    at = page("datasets").run()
    texts = at.dataframe[0].value["text"].astype(str).tolist()
    assert any("<script>alert(1)</script>" in text for text in texts)  # kept literally in a data grid
    assert not any("<script>" in m.value for m in at.markdown)


def test_map_split_export_flow(app_env):
    sample(app_env)
    at = page("map_fields").run()
    no_errors(at)
    assert at.selectbox(key="map_instruction_None").value == "prompt"
    assert any("<|im_start|>" in c.value for c in at.code)
    at.button(key="map_apply").click().run()
    no_errors(at)
    mapped = app_env.version(app_env.datasets()[0].id)
    assert {"instruction", "input", "output"} <= set(mapped.columns)

    at = page("split").run()
    no_errors(at)
    at.selectbox(key="split_stratify").select("output").run()
    at.button(key="split_save").click().run()
    no_errors(at)
    split = app_env.version(mapped.dataset_id)
    assert set(split.splits) == {"train", "validation", "test"}

    at = page("export").run()
    at.selectbox(key="export_format").select("llamafactory").run()
    at.button(key="export_prepare").click().run()
    no_errors(at)
    assert at.get("download_button")


def test_versions_page_diffs_and_restores(app_env):
    version = sample(app_env)
    from workbench.data import operations

    operations.delete_rows(app_env, version, [0, 1, 2])
    at = page("versions").run()
    no_errors(at)
    assert any(m.value == "3" for m in at.metric if m.label == "removed")
    zh = page("versions")
    zh.session_state["lang"] = "zh"
    assert any(m.value == "3" for m in zh.run().metric if m.label == "删除")
    assert list(zh.dataframe[0].value["operation"]) == ["删除行", "导入"]  # what made each version, in Chinese
    assert list(at.dataframe[0].value["operation"]) == ["delete rows", "import"]
    at.button(key="ver_restore_button").click().run()
    assert app_env.version(version.dataset_id).rows == 37


def test_jobs_page_shows_a_job(app_env):
    version = sample(app_env)
    job_id = jobs.start(app_env, "stats", {"ref": version.ref}, version.ref)
    jobs.wait(app_env, job_id)
    at = page("jobs").run()
    no_errors(at)
    assert job_id in at.dataframe[0].value["id"].tolist()
    assert at.dataframe[0].value["state"].tolist() == ["finished"]
    assert at.selectbox(key="jobs_selected").format_func(job_id) == f"statistics · {version.ref} · {job_id}"
    for name in ("jobs", "home"):  # in Chinese: kinds, states and headers
        zh = page(name)
        zh.session_state["lang"] = "zh"
        table = next(d for d in zh.run().dataframe if "state" in d.value.columns)
        assert table.value["state"].tolist() == ["已完成"]
        assert table.value["kind"].tolist() == ["统计"] and table.value["title"].tolist() == [version.ref]
        labels = {column.get("label") for column in json.loads(table.proto.columns).values()}
        assert {"类型", "状态", "进度", "处理对象"} <= labels
    zh = page("jobs")
    zh.session_state["lang"] = "zh"
    zh.run()
    assert any(f"统计 · {version.ref} · 已完成" in bar.proto.text for bar in zh.get("progress")), \
        [bar.proto.text for bar in zh.get("progress")]


def test_models_page_lists_bundled_models_and_refuses_a_folder_that_is_not_a_model(app_env, tmp_path):
    at = page("models").run()
    no_errors(at)
    listed = at.dataframe[0].value
    assert "smollm2-135m-instruct" in listed["id"].tolist()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("not a model", encoding="utf-8")
    at.text_input(key="models_path").input(str(tmp_path / "notes")).run()
    at.button(key="models_register").click().run()
    no_errors(at)
    assert at.error and "config.json" in at.error[0].value


def test_llm_page_saves_an_endpoint_keeps_the_key_secret_and_tests_it(app_env, tmp_path, monkeypatch, scripted):
    from tests.llm.conftest import answer

    secrets = tmp_path / "secrets.toml"
    monkeypatch.setenv("WORKBENCH_SECRETS", str(secrets))
    at = page("llm_settings").run()
    no_errors(at)
    assert "local:smollm2-135m-instruct" in at.dataframe[0].value.iloc[:, 0].tolist()
    at.text_input(key="llm_new_name").input("bad name!")
    at.text_input(key="llm_new_url").input("ftp://nowhere")
    at.button(key="llm_save").click().run()
    assert at.error and "http://" in at.error[0].value
    at.text_input(key="llm_new_name").input("scripted")
    at.text_input(key="llm_new_url").input(scripted.base_url)
    at.text_input(key="llm_new_model").input("m")
    at.text_input(key="llm_new_key").input("sk-very-secret-999")
    at.button(key="llm_save").click().run()
    no_errors(at)
    assert "sk-very-secret-999" in secrets.read_text(encoding="utf-8")
    shown = at.dataframe[0].value
    assert "scripted" in shown.iloc[:, 0].tolist() and "sk-very" not in shown.to_string()
    scripted.replies = [answer("ok")]
    at.selectbox(key="llm_test_name").select("scripted")
    at.button(key="llm_test").click().run()
    no_errors(at)
    assert at.success and "answered" in at.success[0].value
    assert scripted.requests[-1]["headers"]["authorization"] == "Bearer sk-very-secret-999"
    shown = [e.value for kind in ("markdown", "caption", "code", "success", "error", "info", "title")
             for e in getattr(at, kind)] + [d.value.to_string() for d in at.dataframe]
    assert shown and not any("sk-very-secret" in str(text) for text in shown)
