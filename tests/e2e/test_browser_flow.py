"""A new user in a real browser: upload a messy CSV, fix, map, split, export, check the download, then train
the bundled SmolLM2 for a few steps, watch its curve and find the run on the Runs page."""
import json
import zipfile

import pytest

pytestmark = pytest.mark.e2e

CSV = ("prompt,text,label\n"
       "判断情感,\"物流很快，\n包装完好\",正面\n"           # an embedded newline inside quotes
       "判断情感,\"他说\"\"还行\"\"\",中性\n"               # embedded quotes
       + "".join(f"判断情感,评论{i},{'正面' if i % 2 else '负面'}\n" for i in range(30)))


def wait_idle(page):
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)


def click(page, name):
    page.get_by_role("button", name=name).click()
    wait_idle(page)


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
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    target = tmp_path / "export.zip"
    download_info.value.save_as(target)
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

    train_a_few_steps(page, url, tmp_path)


def set_number(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)


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
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 2  # loss and learning rate
    page.screenshot(path=str(tmp_path / "train.png"), full_page=True)

    page.goto(f"{url}/runs")
    page.get_by_role("heading", name="Run details").wait_for()
    model_id = page.locator('[data-testid="stCode"]').filter(has_text="run-").first.inner_text().strip()
    assert model_id.startswith("run-")
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 1  # the run's curves
    assert page.get_by_text("succeeded").count() >= 1
    page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)
