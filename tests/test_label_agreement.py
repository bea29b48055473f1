"""evaluation.label_agreement: a generator that draws the asked digit scores the
classifier's accuracy; one that draws the next digit scores about zero."""

import json

import keras
import numpy as np
import pytest

from evaluation import sources
from evaluation.label_agreement import label_agreement, main
from keras_gan import datasets


# The metric runs no Keras code of its own (torch classifier, numpy): once, in the tensorflow
# pass, which also shows that torch loads after TensorFlow here.
pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                reason="backend-independent; run in the tensorflow pass only (CI time)")


class RealDigitGenerator:
    """Stands in for a conditional GAN: returns real test digits of the asked class
    (or of the class `shift` above it), so the right answer is known."""

    num_classes = 10

    def __init__(self, data_dir, shift=0):
        test = datasets.mnist("test", data_dir=data_dir)
        self.by_class = [np.asarray(test.images[test.labels == c], "float32") for c in range(10)]  # in [0, 1]
        self.shift = shift

    def generate(self, labels, seed=None):
        rng = np.random.default_rng(seed)
        pools = [self.by_class[(int(c) + self.shift) % 10] for c in labels]
        return np.stack([pool[rng.integers(len(pool))] for pool in pools])


def test_a_faithful_generator_scores_the_classifier_accuracy_and_a_wrong_one_zero(data_dir):
    right = label_agreement(RealDigitGenerator(data_dir), 500, data_dir=data_dir, progress=False)
    assert right.agreement >= 0.97 and right.classifier_test_accuracy >= 0.99
    assert len(right.per_class) == 10 and min(right.per_class) >= 0.85
    wrong = label_agreement(RealDigitGenerator(data_dir, shift=1), 500, baseline=False, progress=False)
    assert wrong.agreement <= 0.03 and wrong.classifier_test_accuracy is None


def test_command_line_writes_json_and_refuses_unconditional_or_bad_input(data_dir, tmp_path, capsys,
                                                                         monkeypatch):
    out = tmp_path / "agreement.json"
    monkeypatch.setattr(sources, "load_model", lambda source: RealDigitGenerator(data_dir))
    assert main(["fake", "--num-samples", "200", "--no-baseline", "--json", str(out)]) == 0
    assert "this model" in capsys.readouterr().out
    assert json.loads(out.read_text())["agreement"] >= 0.95

    monkeypatch.setattr(sources, "load_model", lambda source: object())
    out2 = tmp_path / "none.json"
    assert main(["gan", "--json", str(out2)]) == 2
    assert "not a conditional MNIST generator" in capsys.readouterr().err and not out2.exists()
    assert main(["fake", "--num-samples", "3"]) == 2
    assert "at least 10" in capsys.readouterr().err
    assert main(["fake", "--json", str(tmp_path / "missing" / "x.json")]) == 2
