"""train.adder: the folder it writes records the pairs held out of training."""

import json


def test_adder_folder_records_its_held_out_pairs(models_dir):
    validation = json.loads((models_dir / "adder" / "metrics.json").read_text())["validation"]
    assert validation["held_out_pairs"] > 0 and 0 <= validation["held_out_accuracy"] <= 1
