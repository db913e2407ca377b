"""A new user in a real browser: upload a messy CSV, fix, map, split, export, check the download, then train
the bundled SmolLM2 for a few steps, watch its curve and find the run on the Runs page; then answer the test split
with base, tuned and a prompt variant, score with a judge, override two judgements and download the HTML report."""
import json
import re
import zipfile

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.evaluate.judge_server import judge_server
from tests.waiting import wait_idle
from workbench.llm import Endpoint, save_endpoint
from workbench.workspace import Workspace

pytestmark = pytest.mark.e2e

CSV = ("prompt,text,label\n"
       "判断情感,\"物流很快，\n包装完好\",正面\n"           # an embedded newline inside quotes
       "判断情感,\"他说\"\"还行\"\"\",中性\n"               # embedded quotes
       + "".join(f"判断情感,评论{i},{'正面' if i % 2 else '负面'}\n" for i in range(30)))


def click(page, name):
    page.get_by_role("button", name=name).click()
    wait_idle(page)


def download(page, name, target) -> None:
    """Click a download button and save the file. A rerun that lands between the click and the transfer
    (a fragment refreshing, the last input settling) replaces the button's file and Chromium reports the
    download canceled: click the new button again (what a user does)."""
    for attempt in range(3):
        wait_idle(page)
        with page.expect_download() as download_info:
            page.get_by_role("button", name=name).click()
        try:
            download_info.value.save_as(target)
            return
        except PlaywrightError as error:
            if "canceled" not in str(error) or attempt == 2:
                raise


def test_upload_map_split_export_train(app_server, browser_page, tmp_path):
    url, workspace = app_server
    page = browser_page
    source = tmp_path / "reviews.csv"
    source.write_bytes(CSV.encode("gb18030"))  # a typical Chinese Excel export

    page.goto(f"{url}/import")
    page.locator('input[type="file"]').set_input_files(str(source))
    wait_idle(page)
    click(page, "Read and check")
    page.get_by_text("32 rows read").wait_for()
    assert "gb18030" in page.get_by_text("32 rows read").inner_text()
    page.get_by_label("Dataset name").fill("reviews")
    click(page, "Save dataset")
    page.get_by_text("Saved reviews@1 with 32 rows").wait_for()
    page.screenshot(path=str(tmp_path / "import.png"))

    page.goto(f"{url}/map")
    page.get_by_text("The prompt as the model sees it").wait_for()
    click(page, "Apply mapping (new version)")
    page.get_by_text("Saved reviews@2").wait_for()

    page.goto(f"{url}/split")
    page.get_by_text("Sizes").wait_for()
    click(page, "Save split (new version)")
    page.get_by_text("Saved reviews@3").wait_for()

    page.goto(f"{url}/export")
    page.get_by_text("Format").first.wait_for()
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Format").click()
    page.get_by_role("option", name="LLaMA-Factory folder (zip)").click()
    wait_idle(page)
    click(page, "Prepare file")
    target = tmp_path / "export.zip"
    download(page, "Download", target)
    page.screenshot(path=str(tmp_path / "export.png"))

    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        info = json.loads(archive.read(next(n for n in names if n.endswith("dataset_info.json"))))
        assert {"reviews_train", "reviews_validation", "reviews_test"} <= set(info)
        assert info["reviews_train"]["formatting"] == "alpaca"
        rows = []
        for key in ("reviews_train", "reviews_validation", "reviews_test"):
            member = next(n for n in names if n.endswith(info[key]["file_name"]))
            rows += json.loads(archive.read(member))
    assert len(rows) == 32
    assert {"instruction": "判断情感", "input": "物流很快，\n包装完好", "output": "正面"} in rows
    assert any(r["input"] == '他说"还行"' for r in rows)

    model_id = train_a_few_steps(page, url, tmp_path)
    with judge_server(lambda prompt, attempt: '{"reason": "通顺", "score": 7}') as (judge, judge_url):
        save_endpoint(Workspace(workspace), Endpoint("judge", base_url=judge_url, model="scripted-judge"))
        infer_base_tuned_and_variant(page, url, model_id, tmp_path)
        evaluate_review_and_export(page, tmp_path)
    test_rows = Workspace(workspace).version("reviews").splits["test"]
    assert len(judge.calls) == 3 * test_rows  # every answer of the 3 arms on the test rows, judged once


def choose(page, box, index: int) -> None:
    """Open a selectbox and pick its index-th option (again if a rerun closed the list before the click)."""
    for attempt in range(3):
        box.click()
        try:
            option = page.get_by_role("option").nth(index)
            label = option.inner_text(timeout=10_000)
            option.click(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            wait_idle(page)
    else:
        raise AssertionError("the selectbox never showed its options")
    # the choice is on screen, not still in flight (the combobox shows the label without its line breaks)
    expect(box.get_by_role("combobox")).to_have_value(re.compile("^" + re.escape(label.split()[0])), timeout=30_000)
    wait_idle(page)


def set_number(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)
    expect(box).to_have_value(re.compile(rf"^{re.escape(value)}(\.0+)?$"))  # not reset by a rerun still in flight


def train_a_few_steps(page, url, tmp_path) -> None:
    """3 LoRA steps on reviews@3 (train/validation splits) with SmolLM2, max length 128: about a minute on CPU,
    most of it preparing the bundled GGUF once."""
    page.goto(f"{url}/train")
    page.get_by_text("Model and method").wait_for()
    set_number(page, "Max steps (empty = by epochs)", "3")
    set_number(page, "Max length (tokens)", "128")
    set_number(page, "Batch size", "4")
    click(page, "Start training")
    page.get_by_text("Started run reviews@3").wait_for()
    page.get_by_text("Finished. Use model id run-").wait_for(timeout=360_000)  # slow when the CPU is shared
    wait_idle(page)
    assert page.locator('[data-testid="stMetricValue"]').filter(has_text="3 / 3").count() == 1
    page.locator('[data-testid="stVegaLiteChart"]').nth(1).wait_for()  # loss and learning rate
    page.screenshot(path=str(tmp_path / "train.png"), full_page=True)

    page.goto(f"{url}/runs")
    page.get_by_role("heading", name="Run details").wait_for()
    code = page.locator('[data-testid="stCode"]').filter(has_text=re.compile(r"^\s*run-[\w-]+\s*$")).first
    code.wait_for()  # the model id block, not a log that mentions a run
    model_id = code.text_content().strip()
    assert re.fullmatch(r"run-[\w-]+", model_id), model_id
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(1, timeout=30_000)  # the run's curves
    assert page.get_by_text("· finished").count() >= 1  # the run's state, in the user's words
    page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)
    return model_id


def infer_base_tuned_and_variant(page, url, model_id: str, tmp_path) -> None:
    """The test split through the base model, the tuned run and a system-prompt variant of the base."""
    page.goto(f"{url}/inference")
    page.get_by_text("Only the first N rows").wait_for(state="attached")
    page.locator('[data-testid="stMultiSelect"]').click()
    page.get_by_role("option", name=model_id).click()
    page.keyboard.press("Escape")
    wait_idle(page)
    click(page, "Add a system-prompt variant")
    page.get_by_label("System prompt (optional)").last.fill("只回答“正面”或“负面”。")
    page.get_by_label("Label", exact=True).last.fill("prompted")
    wait_idle(page)
    page.get_by_text("Generation", exact=True).click()
    set_number(page, "Max new tokens", "6")
    click(page, "Start inference (background job)")
    page.get_by_text("Started inference").wait_for()
    page.get_by_role("button", name="Evaluate these answers").wait_for(timeout=300_000)
    wait_idle(page)
    page.screenshot(path=str(tmp_path / "inference.png"), full_page=True)


def evaluate_review_and_export(page, tmp_path) -> None:
    """Score with the judge, open the report, override two judgements, download the standalone HTML."""
    click(page, "Evaluate these answers")
    page.get_by_text("LLM judge: score each answer").first.click()
    wait_idle(page)
    click(page, "Start evaluation (background job)")
    page.get_by_role("heading", name="Human review").wait_for(timeout=300_000)
    wait_idle(page)
    rows = page.locator(".st-key-eval_review_row").locator('[data-testid="stSelectbox"]')  # not the pick's row box
    page.get_by_role("button", name="Download HTML report").wait_for()  # the report is fully on screen
    for choice in (0, 1):
        expect(rows).to_have_count(1, timeout=30_000)  # a rerun after Save may still show the old box beside the new
        choose(page, rows, choice)
        set_number(page, "Your score (1-10)", str(3 + choice))
        click(page, "Save my score")
        human = page.locator('[data-testid="stMetric"]').filter(has_text="Human scores")
        expect(human.locator('[data-testid="stMetricValue"]')).to_have_text(str(choice + 1), timeout=30_000)
    page.get_by_text(re.compile(r"Judge: 7(\.0)? · human: 4")).wait_for()
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    target = tmp_path / "report.html"
    download(page, "Download HTML report", target)
    text = target.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html>") and "prompted" in text and "<script" not in text
    assert "Judge score with human overrides" in text and "(n=5 · 2 by a human)" in text  # the summary
    assert "human <b>3</b>" in text and "human <b>4</b>" in text  # each overridden answer
