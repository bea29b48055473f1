"""What the image-to-image metrics say when given a model that cannot translate (a GAN)."""

import pytest

from evaluation import fcn_score, paired


@pytest.mark.parametrize("main, metric", [(fcn_score.main, "the FCN-score"),
                                          (paired.main, "the paired metrics (L1, PSNR, SSIM)")])
def test_a_gan_is_refused_naming_the_metric_and_what_to_use(main, metric, data_dir, tmp_path, capsys):
    """`fcn_score gan-mnist` used to speak of "paired metrics"."""
    out = tmp_path / "out.json"
    assert main(["gan-mnist", "--data-dir", data_dir, "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: GAN 'gan' has no translate() method, so {metric} cannot score it; give an image-to-image "
                   "model such as keras_gan.Pix2Pix (its .keras file or a zoo name such as pix2pix-facades); for a "
                   "GAN or CGAN use evaluation.parzen or evaluation.fidelity.\n")
    assert not out.exists()
