"""Quality page (AppTest): it renders, runs the check, shows groups and leakage as text, and a fix writes a version."""
import pyarrow as pa

from tests.pages.conftest import no_errors, page
from workbench import jobs

ROWS = {"instruction": ["你是谁？", "你是谁？", "  你是谁? ", "<b>皇上驾到</b>", "今天天气怎么样", "   ", "Translate: 你好",
                        "请介绍一下紫禁城的历史和建筑特点"],
        "output": ["我是甄嬛。", "我是甄嬛。", "我是甄嬛。", "万福金安。", "晴天。", "空", "hello",
                   "紫禁城是明清两代的皇宫，位于北京中轴线的中心，是中国古代宫廷建筑之精华。"]}


SPLITS = ["test", "train", "validation", "train", "train", "train", "test", "test"]


def dataset(ws, split: bool = False):
    return ws.create_dataset("quality", pa.table({**ROWS, **({"_split": SPLITS} if split else {})}))


def test_quality_page_runs_the_check_and_a_fix_writes_a_version(app_env):
    version = dataset(app_env)
    at = page("quality").run()
    no_errors(at)
    assert any("run the check" in i.value for i in at.info)
    at.button(key="quality_run").click().run()
    no_errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Exact duplicates"] == "2" and metrics["Empty rows"] == "1" and metrics["Too long"] == "–"
    groups = at.dataframe[0].value
    assert groups["_id"].tolist() == [0, 1, 2] and groups["keep"].tolist() == [True, False, False]
    assert not any("<b>" in m.value for m in at.markdown)  # row text stays in data grids
    at.button(key="quality_fix_exact").click().run()
    no_errors(at)
    head = app_env.version(version.dataset_id)
    assert (head.number, head.rows, head.op, head.params["dropped"]) == (2, 6, "dedup", [1, 2])
    assert any("Drop exact duplicates: dropped 2 rows" in i.value for i in at.info)
    # the new version was checked again right away with the same options
    assert {m.label: m.value for m in at.metric}["Exact duplicates"] == "0"
    assert at.button(key="quality_fix_exact").disabled
    at.button(key="quality_fix_empty").click().run()  # a second save starts from the new version, not a stale one
    no_errors(at)
    assert not at.error
    head = app_env.version(version.dataset_id)
    assert (head.number, head.parent, head.rows, head.op, head.params["dropped"]) == (3, 2, 5, "drop_empty", [5])


def test_quality_page_shows_leakage_and_drops_the_evaluation_side(app_env):
    version = dataset(app_env, split=True)
    at = page("quality").run()
    at.button(key="quality_run").click().run()
    no_errors(at)
    assert {m.label: m.value for m in at.metric}["Leakage"] == "2"
    leaks = at.dataframe[2].value  # exact groups, near groups, then the leaked rows beside their train row
    assert leaks[["id", "split", "train_id", "kind"]].values.tolist() == [[0, "test", 1, "exact"],
                                                                          [2, "validation", 1, "exact"]]
    assert leaks["train output"].tolist() == ["我是甄嬛。", "我是甄嬛。"]
    at.button(key="quality_fix_leakage").click().run()
    no_errors(at)
    head = app_env.version(version.dataset_id)
    assert (head.op, head.rows, head.params["dropped"], head.params["splits"]) == (
        "drop_leakage", 6, [0, 2], ["test", "validation"])


def test_a_big_version_is_checked_by_a_background_job(app_env, monkeypatch, huanhuan_rows):
    monkeypatch.setenv("WORKBENCH_QUALITY_INLINE_ROWS", "100")
    version = app_env.create_dataset("huanhuan", pa.Table.from_pylist(huanhuan_rows))
    at = page("quality").run()
    at.button(key="quality_run").click().run()
    no_errors(at)
    assert any("runs in the background" in s.value for s in at.success) and not at.metric
    job = jobs.list_jobs(app_env)[0]
    assert (job.kind, job.params["ref"]) == ("quality", version.ref)
    info = jobs.wait(app_env, job.id, timeout=60)
    assert info.state == "succeeded" and info.result["exact_duplicate_rows"] == 112 and info.result["cache"]
    at.run()
    no_errors(at)
    assert {m.label: m.value for m in at.metric}["Exact duplicates"] == "112"


def test_the_labels_tab_warns_of_blank_labels_and_spellings_that_differ_only_by_whitespace(app_env):
    version = app_env.create_dataset("reviews", pa.table({
        "instruction": [f"评论 {i}" for i in range(7)],
        "output": ["正面", "正面", "正面 ", "负面", "负面　", "中性", ""]}))
    at = page("quality").run()
    at.selectbox(key=f"quality_label_{version.ref}").select("output")  # in the form: sent with its button
    at.button(key="quality_run").click().run()
    no_errors(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "'正面 ' → '正面' (1 row)" in warnings and "1 row with a blank label" in warnings, warnings
