"""`python -m keras_gan.demo [--model NAME_OR_FILE] [--host 127.0.0.1] [--port 7860]`: the web demo.

    python -m keras_gan.demo                          # pix2pix-facades: label map -> photo
    python -m keras_gan.demo --model cgan-mnist       # a grid of digits, a class picker, a seed
    python -m keras_gan.demo --model runs/mine/export/pix2pix-folder.weights.h5

MODEL is a zoo name or an exported `.weights.h5` file (as `python -m
keras_gan.translate` takes). The page binds 127.0.0.1 (this machine only) unless
`--host 0.0.0.0` says otherwise: a demo runs a model on whatever is uploaded, so
opening it to a network is a decision, not a default. With KERAS_GAN_DATA_DIR
holding the facades, the first label maps of its test split are offered as starting
points beside the map drawn in code. Exit status 0 when stopped (Ctrl-C), 2 with
one line for a model that cannot be loaded, a missing gradio or a port in use.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

#: Label maps of the facades test split offered as starting points (when the data is there).
TEST_EXAMPLES = 3


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m keras_gan.demo", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="pix2pix-facades", help="zoo name or exported .weights.h5 (default pix2pix-facades)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--max-upload-mb", type=float, default=10.0, help="largest upload accepted (default 10)")
    p.add_argument("--allow-unverified", action="store_true", help="load a weights file whose sha256 record does not match")
    args = p.parse_args(argv)
    if not 0 < args.port < 65536:
        p.error(f"--port must be in 1..65535; got {args.port}")
    if args.max_upload_mb <= 0:
        p.error("--max-upload-mb must be > 0")
    return args


def facade_examples(size: int) -> dict:
    """The drawn example map and, when the data is there, the first test-split label maps (uint8)."""
    import numpy as np

    from keras_gan.demo.label_maps import example_label_map

    examples = {"drawn example": example_label_map(size)}
    try:
        from keras_gan.datasets.facades import facades

        maps = facades("test", image_size=size, limit=TEST_EXAMPLES).inputs
    except Exception:  # noqa: BLE001 - no data set here: the drawn map is enough
        return examples
    for i, m in enumerate(maps):
        examples[f"test-split map {i + 1}"] = np.clip((m + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    return examples


def main(argv=None) -> int:
    args = parse_args(argv)
    if importlib.util.find_spec("gradio") is None:
        return _fail("the demo needs gradio: pip install 'keras-gan[demo]'")
    from keras_gan.folder_models import load_model
    from keras_gan.models import Pix2Pix

    try:
        model, architecture = load_model(args.model, allow_unverified=args.allow_unverified)
    except (ValueError, RuntimeError) as e:  # ModelFileError, zoo errors
        return _fail(str(e))
    name = os.path.basename(args.model)
    label_map = isinstance(model, Pix2Pix) and name.startswith("pix2pix-facades")
    examples = facade_examples(model.input_image_shape[0]) if label_map else None
    from keras_gan.demo.app import build_app

    app = build_app(model, name, class_names=(architecture or {}).get("class_names"), label_map=label_map,
                    examples=examples, max_upload_bytes=int(args.max_upload_mb * 1024 * 1024))
    try:
        app.launch(server_name=args.host, server_port=args.port, max_file_size=int(args.max_upload_mb * 1024 * 1024),
                   show_error=True, footer_links=[])
    except OSError as e:  # port in use
        return _fail(f"cannot serve on {args.host}:{args.port} ({e}); pick another --port")
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
