"""A web demo of a trained model: `python -m keras_gan.demo` (gradio, `pip install 'keras-gan[demo]'`).

pix2pix-facades: draw or upload a label map in the 12 CMP class colours and see the
photo; GAN / CGAN: a grid of samples for a seed (and a class). See `__main__.py` for
the command, `app.py` for the page, `uploads.py` for the checks every upload passes,
and `label_maps.py` for the palette and the example map. Nothing here imports gradio
until the page is built, so `keras_gan` imports without it.
"""
