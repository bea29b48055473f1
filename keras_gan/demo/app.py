"""The demo page (gradio Blocks) for one model: pix2pix translates, GAN / CGAN sample.

The handlers (`Translator`, `Sampler`) are plain Python on numpy arrays, so they are
tested without a browser; `build_app` only lays them out. Every handler answers a
bad input with a message in the page's status line (`UploadError`) and leaves the
rest of the page as it was: the server keeps serving.
"""

from __future__ import annotations

import os

import numpy as np

from keras_gan.demo import label_maps
from keras_gan.demo.uploads import MAX_UPLOAD_BYTES, UploadError, read_upload, to_model_input

#: Sample grids are scaled up (nearest neighbour) until their longer side is at least this (MNIST is 28 x 28).
MIN_SHOWN_WIDTH = 448
#: Most samples one grid shows.
MAX_SAMPLES = 100


class Translator:
    """pix2pix on uint8 images: `translate(image, seed, mode)` -> uint8 photo at the model's size."""

    def __init__(self, model, label_map: bool):
        self.model = model
        self.label_map = label_map
        self.size, _, self.in_channels = model.input_image_shape
        self.out_channels = model.output_image_shape[-1]

    def prepare(self, image: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """The model's input (uint8) for an image from the page, snapped to the palette for label maps."""
        from PIL import Image

        array = np.asarray(image)
        if array.dtype != np.uint8:
            array = np.clip(array, 0, 255).astype(np.uint8)
        array, notes = to_model_input(Image.fromarray(array.squeeze(-1) if array.ndim == 3 and array.shape[-1] == 1
                                                      else array), self.size, self.in_channels, self.label_map)
        if self.label_map:
            array, off = label_maps.snap_to_palette(array)
            if off > 0.5:
                notes.append(f"{off:.0%} of the pixels are far from every palette colour: this does not look like "
                             "a CMP label map, so the photo will not look like a facade. Draw with the palette's colours.")
        return array, notes

    def translate(self, array: np.ndarray, seed: int, mode: str = "paper") -> np.ndarray:
        """uint8 (size, size, in) -> uint8 (size, size, out); `mode` and `seed` as `Pix2Pix.translate`."""
        x = array.astype(np.float32)[None] / 127.5 - 1.0
        y = self.model.translate(x, mode=mode, seed=int(seed) if mode == "paper" else None)[0]
        out = np.clip((y + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        return out[..., 0] if out.shape[-1] == 1 else out


class Sampler:
    """GAN / CGAN: `grid(seed, count, label)` -> uint8 grid of samples (label None: a row per class for a CGAN)."""

    def __init__(self, model, class_names: list[str] | None = None):
        from keras_gan.models.gan import generator_range

        self.model = model
        self.conditional = hasattr(model, "num_classes")
        self.class_names = list(class_names or ([str(i) for i in range(model.num_classes)] if self.conditional else []))
        self.value_range = generator_range(model.generator) or (0.0, 1.0)

    def grid(self, seed: int, count: int, label: str | None = None) -> np.ndarray:
        from keras_gan.utils.images import image_grid

        count = int(count)
        if not 1 <= count <= MAX_SAMPLES:
            raise ValueError(f"Ask for 1 to {MAX_SAMPLES} samples; got {count}.")
        if not self.conditional:
            images, cols = self.model.generate(count, seed=int(seed)), None
        elif label in (None, "", "all"):
            per_class = max(1, count // len(self.class_names))
            labels = np.repeat(np.arange(len(self.class_names)), per_class)
            images, cols = self.model.generate(labels, seed=int(seed)), per_class
        else:
            if label not in self.class_names:
                raise ValueError(f"Unknown class {label!r}; pick one of {', '.join(self.class_names)} or 'all'.")
            index = self.class_names.index(label)
            images, cols = self.model.generate(np.full(count, index), seed=int(seed)), None
        grid = image_grid(images, cols=cols, value_range=self.value_range)
        scale = max(1, -(-MIN_SHOWN_WIDTH // max(grid.shape[:2])))  # ceil: the longer side reaches it
        return np.kron(grid, np.ones((scale, scale) + (1,) * (grid.ndim - 2), np.uint8))


def _status(notes: list[str], done: str) -> str:
    return "\n\n".join([done] + [f"Note: {n}" for n in notes])


def build_app(model, title: str, class_names: list[str] | None = None, label_map: bool = False,
              examples: dict[str, np.ndarray] | None = None, max_upload_bytes: int = MAX_UPLOAD_BYTES):
    """The gradio Blocks page for `model` (a Pix2Pix, GAN or ConditionalGAN)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    from keras_gan.models import Pix2Pix

    with gr.Blocks(title=f"keras-gan demo: {title}") as app:
        if isinstance(model, Pix2Pix):
            _translation_page(gr, app, Translator(model, label_map), title, examples or {}, max_upload_bytes)
        else:
            _sampling_page(gr, app, Sampler(model, class_names), title)
    return app


def _translation_page(gr, app, translator: Translator, title: str, examples: dict, max_upload_bytes: int) -> None:
    size = translator.size
    what = "label map" if translator.label_map else "input image"
    gr.Markdown(f"## {title}: {what} → photo\n"
                + ("Draw on the label map with the 12 CMP class colours (the brush offers them; the legend below "
                   "names them) or upload one, then **Translate**. " if translator.label_map else
                   "Upload an image, then **Translate**. ")
                + f"Images of another size are resized to {size}x{size}. The *dropout seed* picks the "
                  "generator's dropout masks: pix2pix's only noise, on at test time as in the paper (mode *paper*); "
                  "mode *eval* turns it off.")
    if translator.label_map:
        gr.HTML(label_maps.palette_html())
    start = next(iter(examples.values()), None)
    with gr.Row():
        with gr.Column():
            brush = gr.Brush(colors=label_maps.palette_hex(), default_color=label_maps.palette_hex()[2],
                             color_mode="fixed") if translator.label_map else None
            editor = gr.ImageEditor(value=start, type="numpy", image_mode="RGB", label=what, brush=brush,
                                    canvas_size=(size, size), sources=(), layers=False, elem_id="label_map")
            if len(examples) > 1:
                choice = gr.Dropdown(list(examples), value=next(iter(examples)), label=f"start from this {what}")
                choice.change(lambda name: examples[name], choice, editor)
            upload = gr.File(label=f"upload a {what} (PNG or JPEG, up to {max_upload_bytes // (1024 * 1024)} MB)",
                             file_types=["image"], type="filepath", elem_id="upload")
        with gr.Column():
            photo = gr.Image(label="photo", type="numpy", format="png", interactive=False, elem_id="photo")
            with gr.Row():
                seed = gr.Number(value=0, precision=0, label="dropout seed", elem_id="seed")
                mode = gr.Radio(["paper", "eval"], value="paper", label="mode")
            button = gr.Button("Translate", variant="primary", elem_id="translate")
    status = gr.Markdown("Ready.", elem_id="status")

    def from_editor(value, seed_value, mode_value):
        image = (value or {}).get("composite") if isinstance(value, dict) else value
        if image is None:
            return gr.update(), f"Nothing to translate: draw a {what} or upload one."
        try:
            array, notes = translator.prepare(image)
        except UploadError as e:
            return gr.update(), f"**Refused:** {e}"
        return translator.translate(array, seed_value or 0, mode_value), _status(notes, "Translated.")

    def from_upload(path, seed_value, mode_value):
        # The file box is emptied after each upload (the last output), ready for the next file.
        if not path:
            return gr.update(), gr.update(), "Ready.", None
        try:
            array, notes = read_upload(path, size, translator.in_channels, translator.label_map, max_upload_bytes)
            array, more = translator.prepare(array)
        except UploadError as e:
            return gr.update(), gr.update(), f"**Upload refused:** {e}", None
        shown = array[..., 0] if array.shape[-1] == 1 else array
        return (shown, translator.translate(array, seed_value or 0, mode_value),
                _status(notes + more, f"Translated {os.path.basename(path)}."), None)

    button.click(from_editor, [editor, seed, mode], [photo, status])
    upload.upload(from_upload, [upload, seed, mode], [editor, photo, status, upload])
    app.load(from_editor, [editor, seed, mode], [photo, status])  # the page opens with a photo


def _sampling_page(gr, app, sampler: Sampler, title: str) -> None:
    kind = "class-conditional samples" if sampler.conditional else "samples"
    gr.Markdown(f"## {title}: {kind}\nEach seed gives the same grid every time (on one backend)"
                + ("; pick a class, or *all* for one row per class." if sampler.conditional else "."))
    with gr.Row():
        seed = gr.Number(value=0, precision=0, label="seed", elem_id="seed")
        count = gr.Slider(1, 100, value=50 if sampler.conditional else 36, step=1, label="samples")
        label = (gr.Dropdown(["all"] + sampler.class_names, value="all", label="class", elem_id="class")
                 if sampler.conditional else None)
        button = gr.Button("Generate", variant="primary", elem_id="generate")
    grid = gr.Image(label="samples", type="numpy", format="png", interactive=False, elem_id="samples")
    status = gr.Markdown("Ready.", elem_id="status")

    def generate(seed_value, count_value, label_value=None):
        try:
            image = sampler.grid(seed_value or 0, count_value, label_value)
        except ValueError as e:
            return gr.update(), f"**Refused:** {e}"
        return image, f"{int(count_value)} samples, seed {int(seed_value or 0)}."

    inputs = [seed, count] + ([label] if label is not None else [])
    button.click(generate, inputs, [grid, status])
    app.load(generate, inputs, [grid, status])  # the page opens with a grid
