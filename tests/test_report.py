"""train.report builds REPORT.md and the README's results block from the repository's own records: every
section renders, every linked plot exists, the words are plain, the MNIST-addition table follows its CSV and
the model folders, and the README keeps its text outside the results markers."""

import csv
import re

import pytest

from train import report


@pytest.fixture(scope="module")
def rendered():
    return report.render()


def test_the_report_has_every_task_and_every_linked_plot_exists(rendered):
    text, block = rendered
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert [h.split(":")[0] for h in headings[:5]] == ["Results", "1. Reader", "2. Adder", "3. End-to-end (bonus)",
                                                       "4. Multi-digit MNIST addition, learned from sums alone"]
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images and all((report.ROOT / image).exists() for image in images)
    assert not re.search(r"issue [0-9]|course_val", text + block, flags=re.I)
    assert "{{" not in text and "{%" not in text


def test_each_experiment_record_carries_its_decision_and_the_report_quotes_it(rendered):
    text, _ = rendered
    for path in sorted(report.EXPERIMENTS.glob("*.json")):
        record = report.read_json(path)
        assert {"question", "rule", "verdict"} <= set(record), path.name
    assert report.read_json(report.EXPERIMENTS / "reader.json")["verdict"] in text
    assert report.read_json(report.EXPERIMENTS / "reader-elastic1-full.json")["verdict"] in text


def test_the_reader_ensemble_is_one_cnn_table(rendered):
    text, _ = rendered
    cnns = report.cnn_count(report.run_record(report.MODELS_DIR / "reader"))
    assert f"The reader averages {cnns} x the CNN below" in text
    assert f"{cnns} x network `reader/member_0`" in text
    assert "member_1/" not in text and text.count("trunk/conv2d") < 40  # not one table per CNN


def test_results_block_has_one_row_per_measure_with_its_command(rendered):
    _, block = rendered
    rows = [line for line in block.splitlines() if line.startswith("| ")][1:]
    assert len(block.splitlines()) <= 21 and rows
    assert all("`python -m " in row for row in rows)
    assert re.search(r"\| reader +\| number read exactly, 10,000 test strips +\| 99\.\d\d % ", block)


def test_addition_table_follows_the_csv_and_the_model_folders(tmp_path, monkeypatch):
    published = tmp_path / "mnist_addition.csv"
    with open(report.PUBLISHED / "mnist_addition.csv") as f:
        rows = list(csv.DictReader(f))
    rows.append({**rows[0], "method": "A new method", "N": "100", "sum_accuracy": "50.00", "std": "1.00", "status": ""})
    with open(published, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setattr(report, "PUBLISHED", tmp_path)
    records = {p.stem: report.read_json(p) for p in report.EXPERIMENTS.glob("*.json")}
    table = report.addition_tables(records)["published"]
    ours = sorted(int(p.name.removeprefix("addition-n")) for p in report.MODELS_DIR.glob("addition-n*"))
    header = table.splitlines()[0]
    assert all(f"N={n}" in header for n in {1, 2, 4, 15, 100, *ours})
    new = next(line for line in table.splitlines() if line.startswith("| A new method"))
    assert "50.00 ± 1.00" in new and new.count("| -") >= 4


def test_replace_block_keeps_the_markers_and_the_rest(tmp_path):
    readme = "# Title\n\nintro\n<!-- results:start -->\nold\nrows\n<!-- results:end -->\n\nafter\n"
    replaced = report.replace_block(readme, "## Results\n\nnew")
    assert replaced == "# Title\n\nintro\n<!-- results:start -->\n## Results\n\nnew\n<!-- results:end -->\n\nafter\n"
    assert report.replace_block(replaced, "## Results\n\nnew") == replaced
