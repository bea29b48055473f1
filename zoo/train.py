"""Train a zoo model with its paper's recipe: `python -m zoo.train NAME`.

    python -m zoo.train gan-mnist --data-dir ../shared/data --out outputs/zoo/gan-mnist
    python -m zoo.train gan-mnist --epochs 5          # a short run
    python -m zoo.train gan-mnist --out DIR           # re-run: resumes where DIR stopped
    python -m zoo.train gan-mnist --epochs 1 --limit 1000 --out /tmp/try   # a smoke test
    python -m zoo.train pix2pix-facades --init-from pretrained --initial-epoch 75 --epochs 200
                                                      # continue a shipped checkpoint
    python -m zoo.train gan-mnist --init-from pretrained --initial-epoch 1256 --epochs 1356 \
        --generator-ema 0.99995 --out outputs/zoo/gan-mnist-ema
                                                      # ... and export the average of G's iterates

Several processes (one per device or machine) run it under their engine's launcher:
`torchrun --nproc-per-node 2 -m zoo.train gan-mnist` (PyTorch: torch unless
another backend is named), the
KERAS_DISTRIBUTION_* variables (JAX) or TF_CONFIG (TensorFlow) on every
process. The global batch is split over the processes (pix2pix: each process
trains on its own batch of 1, the global batch is processes x 1, and `--norm`
picks synchronized or per-process batch norm) and process 0 alone writes
(README: "Several devices and machines").

What it writes under --out:
  backup/            the run's two newest states (model, both optimizers, random
                     states; keras_gan.callbacks.ResumableBackup), written at each
                     epoch's end and, with --backup-every-steps N or
                     --backup-every-minutes T, inside epochs: atomically and
                     sha256-checked, so a run killed at any moment resumes from
                     its last backup and ends bit-identical to an uninterrupted
                     run on the same backend.
                     A resume must keep --limit, --seed and --generator-ema.
                     Without a backup (a new machine, a lost output folder),
                     --init-from continues from exported weights instead; the
                     optimizers then start afresh, which the card names.
  samples/           a PNG grid of samples after every epoch (fixed latents).
  history.csv        the logged losses per epoch (every session of the run).
  export/NAME.weights.h5  the weights of the epoch with the best validation
                     score (no optimizer state: that is what the zoo ships).
  summary.json       epochs, wall time, machine, best epoch and score, sha256.
  losses.png         the loss curves.
  <score>.csv, .png  the validation score per scored epoch (val_parzen, or
                     val_minus_l1 for pix2pix), the exported epoch marked.
  evaluation.json    the recipe's test metrics (Parzen on MNIST test, or L1 /
                     PSNR / SSIM on facades test) measured on the export.
  card.md            a model card with all of the above and the paper's numbers.
  generator_average.json  the --generator-ema momentum, when given: a resume
                     must repeat it (the average is part of G's optimizer state).
  run.json           the --limit and --seed (and pix2pix's --norm) the run started with.
  run.lock           held (fcntl.flock) while a run writes the folder, with its pid,
                     host, start time and command: a second run on the same --out
                     is refused before it writes anything.

SIGTERM or SIGINT: the step in flight finishes, a backup is written, and the run
exits with status 75 (EX_TEMPFAIL); run the same command to resume. A write that
fails (full disk, read-only folder, quota) exits 74 naming what failed and the
last good backup. (zoo/run_guard.py; README: "Long runs".)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time


def parse_args(argv=None):
    from zoo import folder_recipes
    from zoo.recipes import RECIPES

    p = argparse.ArgumentParser(
        prog="python -m zoo.train",
        description="Train a keras_gan zoo model with its paper's recipe (resumable).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
    )
    p.add_argument("name", help=f"zoo entry: {', '.join(sorted(RECIPES))}")
    p.add_argument("--epochs", type=int, default=None, help="total epochs (default: the recipe's)")
    p.add_argument("--data-dir", "--data", dest="data_dir", default=None,
                   help="data folder (default: $KERAS_GAN_DATA_DIR); the folder recipes: your folder")
    p.add_argument("--out", default=None, help="output folder (default: outputs/zoo/NAME)")
    p.add_argument("--backend", choices=["jax", "tensorflow", "torch"], default=None,
                   help="Keras backend (default: Keras' own choice: $KERAS_BACKEND, else the backend "
                        "of keras.json in $KERAS_HOME or ~/.keras, else tensorflow; under torchrun, "
                        "torch)")
    p.add_argument("--seed", type=int, default=None,
                   help="random seed (default: the recipe's, the one its checkpoint was trained with)")
    p.add_argument("--score-every", type=int, default=1, help="validation scoring period in epochs")
    p.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2], help="Keras fit verbosity")
    p.add_argument("--limit", type=int, default=None,
                   help="train on the first N training examples only (quick runs; named on the card)")
    p.add_argument("--no-eval", action="store_true",
                   help="skip the final test-split evaluation and the card")
    p.add_argument("--init-from", default=None, metavar="WEIGHTS",
                   help="start from these network weights ('pretrained' = the zoo checkpoint, or a "
                        ".weights.h5 path) instead of the paper's initialisation; ignored when --out "
                        "holds a backup, which restores the optimizers too")
    p.add_argument("--initial-epoch", type=int, default=0,
                   help="epochs the --init-from weights were already trained for (the run counts on "
                        "from there to --epochs)")
    p.add_argument("--norm", choices=NORMS, default=None,
                   help="pix2pix's batch norm under several processes (the reference's --norm): "
                        "'syncbatch' (default) takes statistics over the global batch, so N processes "
                        "train as one process on it; 'batch' normalises each process's own batch (with "
                        "one image per process: each image alone, as the paper's batch-1 training). "
                        "One process: the same either way. A resume must keep it")
    p.add_argument("--generator-ema", type=float, default=None, metavar="MOMENTUM",
                   help="also keep an exponential moving average of the generator's weights "
                        "(e.g. 0.9999) and score, sample and export it instead of the last "
                        "iterate (a deviation from the papers, named on the card); a resumed "
                        "run must pass the same value")
    folder_recipes.add_folder_arguments(p)
    p.add_argument("--backup-every-steps", type=int, default=None, metavar="N",
                   help="also back up after every N steps inside an epoch (default: at epoch ends "
                        "only); a run killed mid-epoch resumes from the last one, bit-identical")
    p.add_argument("--backup-every-minutes", type=float, default=None, metavar="T",
                   help="also back up when T minutes have passed since the last backup (checked after "
                        "each step); may be combined with --backup-every-steps")
    args = p.parse_args(argv)
    if args.name not in RECIPES:
        import difflib

        close = difflib.get_close_matches(args.name, sorted(RECIPES), n=1)
        p.error(f"unknown zoo recipe {args.name!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                + f" Available: {', '.join(sorted(RECIPES))}")
    if args.epochs is not None and args.epochs < 1:
        p.error("--epochs must be >= 1")
    if args.limit is not None and args.limit < 1:
        p.error("--limit must be >= 1")
    if args.score_every < 1:
        p.error("--score-every must be >= 1")
    if args.initial_epoch < 0:
        p.error("--initial-epoch must be >= 0")
    if args.initial_epoch and args.init_from is None:
        p.error("--initial-epoch needs --init-from: the epochs must have trained some weights")
    if args.init_from not in (None, "pretrained") and not os.path.isfile(args.init_from):
        p.error(f"--init-from {args.init_from}: no such file (give a .weights.h5 export or 'pretrained')")
    if args.norm is not None and not RECIPES[args.name].per_replica_batch:
        p.error(f"--norm applies to the pix2pix recipes' batch norm; {args.name} has none to choose")
    if args.backup_every_steps is not None and args.backup_every_steps < 1:
        p.error("--backup-every-steps must be >= 1")
    if args.backup_every_minutes is not None and not args.backup_every_minutes > 0:
        p.error("--backup-every-minutes must be > 0")
    if args.generator_ema is not None and not 0.0 < args.generator_ema < 1.0:
        p.error(f"--generator-ema {args.generator_ema}: the momentum must be in (0, 1), e.g. 0.9999")
    folder_recipes.check_folder_arguments(p, args)
    epochs = args.epochs or folder_recipes.configure(RECIPES[args.name], args).epochs
    if args.init_from is not None and args.initial_epoch >= epochs:
        p.error(f"--initial-epoch {args.initial_epoch} leaves nothing to train: raise --epochs above it")
    return args


#: Keras' own default backend, when neither KERAS_BACKEND nor keras.json names one.
KERAS_DEFAULT_BACKEND = "tensorflow"


def _keras_json_path(environ) -> str:
    """Where Keras reads keras.json: $KERAS_HOME, else ~/.keras (/tmp/.keras when ~ is not
    writable), as `keras.src.backend.config` does."""
    if "KERAS_HOME" in environ:
        return os.path.join(environ["KERAS_HOME"], "keras.json")
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras", "keras.json")


def _under_torchrun(environ) -> bool:
    """torchrun started this process: it sets LOCAL_RANK and WORLD_SIZE on every one."""
    if "LOCAL_RANK" in environ and "WORLD_SIZE" in environ:
        return True
    try:
        return int(environ.get("WORLD_SIZE", "1") or 1) > 1  # as keras_gan.distributed.launcher_environment
    except ValueError:
        return False  # launcher_environment reports it


BACKENDS = ("jax", "tensorflow", "torch")
#: pix2pix's batch norm choices under several processes (the reference's --norm), and the default.
NORMS, DEFAULT_NORM = ("syncbatch", "batch"), "syncbatch"


def resolve_backend(flag: str | None, environ) -> tuple[str | None, str]:
    """`(backend, where it came from)`, or `(None, error)`: the Keras backend zoo.train runs on.

    Keras' own order: --backend, then $KERAS_BACKEND, then keras.json's `backend`
    ($KERAS_HOME or ~/.keras), then Keras' default (tensorflow). Under torchrun,
    whose processes only torch can join, a run with neither --backend nor
    $KERAS_BACKEND uses torch (keras.json is a machine-wide default, not a choice
    for this job), and an explicit other backend is an error.
    """
    torchrun = _under_torchrun(environ)
    if flag or environ.get("KERAS_BACKEND"):
        backend = flag or environ["KERAS_BACKEND"]
        where = f"--backend {flag}" if flag else f"KERAS_BACKEND={backend}"
        if backend not in BACKENDS:
            return None, f"{where} is not a Keras backend zoo.train runs on; use one of {', '.join(BACKENDS)}."
        if torchrun and backend != "torch":
            return None, (f"torchrun started this process (LOCAL_RANK / WORLD_SIZE are set), but {where} "
                          "asks for another backend; torchrun's processes run torch: pass --backend torch "
                          "(or unset KERAS_BACKEND), or launch without torchrun.")
        return backend, where
    config_path = _keras_json_path(environ)
    configured = None
    if os.path.isfile(config_path):
        try:
            with open(config_path) as f:
                configured = json.load(f).get("backend")
        except (OSError, ValueError, AttributeError):
            configured = None  # Keras itself ignores an unreadable keras.json
    if torchrun:
        said = f"; {config_path} says {configured!r}" if configured and configured != "torch" else ""
        return "torch", f"torchrun started this process and no --backend or KERAS_BACKEND was given{said}"
    if configured:
        if configured not in BACKENDS:
            return None, (f"{config_path} names the backend {configured!r}; zoo.train runs on "
                          f"{', '.join(BACKENDS)}: fix its \"backend\" or pass --backend.")
        return configured, f"from {config_path}"
    return KERAS_DEFAULT_BACKEND, "Keras' default: no --backend, KERAS_BACKEND or keras.json backend"


def main(argv=None) -> int:
    from zoo import run_guard

    try:
        return _main(argv)
    except OSError as e:  # a full disk while writing the plots, summary or card: one line
        ended = run_guard.after_training(e)
        if ended is None:
            raise
        print(ended[1], file=sys.stderr)
        return ended[0]
    finally:
        run_guard.release_lock()  # this run's lock on --out (zoo.run_guard), however it ended


def _main(argv=None) -> int:
    from zoo import run_guard

    args = parse_args(argv)
    backend, where = resolve_backend(args.backend, os.environ)
    if backend is None:
        print(f"error: {where}", file=sys.stderr)
        return 2
    if not where.startswith(("--backend", "KERAS_BACKEND")):  # not spelled out by the user: say it
        print(f"zoo.train: Keras backend {backend} ({where})", file=sys.stderr)
    os.environ["KERAS_BACKEND"] = backend
    import keras

    from keras_gan import datasets, distributed, utils, zoo
    from keras_gan.callbacks import (BackupError, ResumableBackup, TrainingStopped, WriteFailed, restorable_state,
                                     stop_on_signals)
    from zoo.training_callbacks import ProcessLocal, RecipeGrid, exported_weights
    from zoo import folder_recipes
    from zoo.recipes import RECIPES
    from zoo.selection import BestValidationExport

    recipe = folder_recipes.configure(RECIPES[args.name], args)  # a folder recipe: bound to --data
    epochs = args.epochs or recipe.epochs
    out = args.out or os.path.join("outputs", "zoo", args.name)
    try:
        launcher = distributed.launcher_environment()
    except ValueError as e:  # a malformed TF_CONFIG or process count: before anything is written
        print(f"error: {e}", file=sys.stderr)
        return 2
    if launcher is not None and launcher != keras.backend.backend():
        print(f"error: {distributed.LAUNCHERS[launcher]} is set, but KERAS_BACKEND is "
              f"{keras.backend.backend()!r}; zoo.train runs several processes under torchrun with "
              "KERAS_BACKEND=torch, keras.distribution with KERAS_BACKEND=jax, or TF_CONFIG with "
              "KERAS_BACKEND=tensorflow (README: 'Several devices and machines').", file=sys.stderr)
        return 2
    busy = run_guard.lock_holder_problem(out)  # one writer per --out: checked before anything is written
    if busy:  # (before the job is joined: every process of a job sees the same answer)
        print(f"error: {busy}", file=sys.stderr)
        return 2
    job = distributed.initialize()  # joins the torchrun / JAX / TF_CONFIG job, if any
    world, rank = job.processes, job.index
    if world > 1 and not recipe.per_replica_batch and recipe.batch_size % world:
        print(f"error: {args.name}'s global batch of {recipe.batch_size} cannot be split over {world} "
              f"processes; run it on a number of processes that divides {recipe.batch_size}.", file=sys.stderr)
        return 2
    try:
        data = recipe.load_data(args.data_dir, args.limit)
    except (FileNotFoundError, datasets.DataFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    backup_dir = os.path.join(out, "backup")
    try:  # checked before anything is written
        restored = restorable_state(backup_dir)
    except BackupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    seed = recipe.seed if args.seed is None else args.seed
    run_path = os.path.join(out, "run.json")
    norm = args.norm or DEFAULT_NORM
    settings = {"limit": args.limit, "seed": seed}
    if recipe.per_replica_batch:
        settings["norm"] = norm
    changed = _run_settings_mismatch(run_path, restored, settings)
    if changed:  # checked before anything is written
        print(f"error: {changed}", file=sys.stderr)
        return 2
    changed = folder_recipes.options_mismatch(out, args, restored) if recipe.from_folder else None
    if changed:  # checked before anything is written
        print(f"error: {changed}", file=sys.stderr)
        return 2
    warm_start = args.init_from is not None and restored is None
    if warm_start:  # checked before anything is written
        try:
            source_path = zoo.weights_path(args.name, args.init_from)
            source = zoo.load(args.name, weights=source_path)
        except zoo.ZooWeightsError as e:
            print(f"error: --init-from: {e}", file=sys.stderr)
            return 2
    average_path = os.path.join(out, "generator_average.json")
    mismatch = _generator_average_mismatch(average_path, restored, backup_dir, args.generator_ema)
    if mismatch:  # checked before anything is written
        print(f"error: {mismatch}", file=sys.stderr)
        return 2
    x = recipe.fit_inputs(data)
    x, y = x if isinstance(x, tuple) else (x, None)  # (images, labels) for conditional models
    steps_per_epoch = len(x) // recipe.batch_size if hasattr(x, "shape") else len(x)  # a dataset's len: batches
    if steps_per_epoch < 1:  # checked before anything is written
        print(f"error: {len(x)} training examples make no batch of {recipe.batch_size}; raise --limit",
              file=sys.stderr)
        return 2
    if world > 1 and not hasattr(x, "shape"):
        if not recipe.per_replica_batch:
            print(f"error: {args.name} feeds a dataset, not arrays; zoo.train splits only arrays over "
                  "processes.", file=sys.stderr)
            return 2
        try:  # whole per-replica batches (one image each for pix2pix); TF's strategy splits global ones
            x = datasets.ReplicaBatches(x, world, None if job.strategy is not None else rank)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        steps_per_epoch = len(x)
    if hasattr(x, "shape"):  # arrays: batches in an order keyed on (seed, epoch), so a resume is exact
        x, y = datasets.EpochShuffledArrays(x, y, batch_size=recipe.batch_size, seed=seed,
                                            shard=(rank, world) if world > 1 and job.strategy is None
                                            else None), None  # TF's strategy splits the global batches itself
        steps_per_epoch = len(x)  # the batches fit takes per epoch (a ragged last one included): the SGD ramp's epoch
    problem = _output_folder_problem(out)
    if problem:
        print(f"error: --out: {problem}", file=sys.stderr)
        return 2
    initial_epoch = args.initial_epoch if warm_start else 0  # a backup sets its own epoch
    if rank > 0:  # only process 0 writes; the others follow its state
        return _follow_process_zero(args, recipe, data, x, seed, steps_per_epoch, epochs, backup_dir, rank,
                                    source if warm_start else None, initial_epoch, job.strategy, norm)
    busy = run_guard.take_lock(out, "python -m zoo.train " + " ".join(sys.argv[1:] if argv is None else argv))
    if busy:  # taking the lock creates --out: the first write
        print(f"error: {busy}", file=sys.stderr)
        return 2
    if restored is None:  # records of a first epoch whose backup never landed
        _rewind_records(out, recipe.score_name, 0)
    if recipe.from_folder and restored is None:  # what a resume must repeat (checked above)
        folder_recipes.record_options(out, args)
    if restored is None:
        _write_json(run_path, settings)
    else:  # epochs recorded after the restored backup are run again: drop their records first
        _rewind_records(out, recipe.score_name, restored.epoch)
        print(f"resuming from {os.path.dirname(restored.weights_path)} ({restored.where})",
              file=sys.stderr)
    if args.generator_ema is not None:
        _write_json(average_path, {"momentum": args.generator_ema})
    model = _recipe_model(recipe, data, seed, steps_per_epoch, args.generator_ema,
                          source if warm_start else None, initial_epoch, job.strategy, norm)
    if warm_start:
        del source
        print(f"warm start: {args.init_from} (trained {args.initial_epoch} epochs); "
              "optimizer state starts afresh", file=sys.stderr)
        with open(os.path.join(out, "warm_start.json"), "w") as f:
            json.dump({"init_from": args.init_from, "initial_epoch": args.initial_epoch,
                       "sha256": zoo.sha256_of(source_path)}, f)
    elif args.init_from is not None:
        print(f"{backup_dir} holds a backup: resuming from it; --init-from is ignored", file=sys.stderr)

    export_path = os.path.join(out, "export", f"{args.name}.weights.h5")

    def score(m):
        with exported_weights(m):
            return recipe.score(m, data)

    # Export only the networks' weights (no optimizer state): copy into a fresh
    # uncompiled model of the registry architecture and save that.
    def save_weights(path):
        from keras_gan import folder_models

        architecture = recipe.architecture(data) if recipe.architecture else None
        fresh = folder_models.build_model(architecture) if architecture else zoo.build(args.name)
        with exported_weights(model):
            _copy_network_weights(model, fresh)
        fresh.save_weights(path)
        if architecture:  # the export rebuilds itself (python -m keras_gan.translate / generate)
            folder_models.record_architecture(path, architecture)

    exporter = BestValidationExport(score, export_path, os.path.join(out, "best.json"),
                                    every=args.score_every, save_fn=save_weights,
                                    metric_name=recipe.score_name, keep=recipe.keep)
    callbacks = [run_guard.labelled(exporter, f"the validation score or the export ({recipe.score_name}.csv, "
                                              f"{os.path.relpath(export_path, out)}, best.json)"),
                 run_guard.labelled(keras.callbacks.CSVLogger(os.path.join(out, "history.csv"), append=True),
                                    "history.csv")]
    if hasattr(data.get("train"), "skipped_reads"):  # before CSVLogger: bad files skipped, in history.csv
        callbacks.insert(0, folder_recipes.SkippedFilesLog(data["train"]))
    if recipe.sample_grid is not None:
        callbacks.append(run_guard.labelled(RecipeGrid(recipe, data, os.path.join(out, "samples"), seed),
                                            "a sample grid (samples/)"))
    clock_path = os.path.join(out, "wall_time.json")
    previous = _read_json(clock_path)["seconds"] if os.path.isfile(clock_path) else 0.0
    start = time.time()

    class _Clock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            _write_json(clock_path, {"seconds": previous + time.time() - start, "epochs": epoch + 1})

    callbacks.append(run_guard.labelled(_Clock(), "wall_time.json"))
    # Last: an epoch's backup lands only after every record of that epoch was written, so a
    # resumed run's records are whole (a kill in between reruns the epoch; see _rewind_records).
    # The folder is kept at the end: a finished run can be extended with a larger --epochs.
    callbacks.append(ResumableBackup(backup_dir, every_steps=args.backup_every_steps,
                                     every_minutes=args.backup_every_minutes))
    # On a JAX job, process 0 scores, samples and saves on its own copy of the replicated model.
    callbacks = [ProcessLocal(c) for c in callbacks]
    try:
        with stop_on_signals():  # SIGTERM / SIGINT: finish the step, back up, stop (zoo.run_guard)
            model.fit(x, y, epochs=epochs, initial_epoch=initial_epoch, callbacks=callbacks,
                      verbose=args.verbose)
    except BackupError as e:  # every saved state failed to load (the sha256s matched: rare)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (TrainingStopped, WriteFailed, OSError) as e:  # a signal, a full disk: one line, the state kept
        ended = run_guard.one_line(e, backup_dir)
        if ended is None:
            raise
        print(ended[1], file=sys.stderr, flush=True)
        if isinstance(e, TrainingStopped):
            run_guard.stop_together()  # the other processes of a job exit after this message
        return ended[0]
    except Exception as e:  # a file went bad during training: the last backup stays the run's state
        failure = getattr(x, "read_error", None) or getattr(getattr(x, "dataset", None), "read_error", None)
        if failure is None and not isinstance(e, datasets.DataFileError):
            raise
        print(f"error: {failure or e}", file=sys.stderr)  # (on TensorFlow, tf.data wraps the error)
        return 2
    logged, logged_epochs = _logged_history(os.path.join(out, "history.csv"))
    if logged:  # every session of the run, at its real epochs (fit's history holds only this one)
        utils.save_history_plot(os.path.join(out, "losses.png"), logged, args.name, epochs=logged_epochs)
    score_epochs, scores = _logged_scores(os.path.join(out, f"{recipe.score_name}.csv"))
    if scores:  # the curve the export was chosen on, the exported epoch marked
        utils.save_score_plot(os.path.join(out, f"{recipe.score_name}.png"), score_epochs, scores,
                              recipe.score_name, f"{args.name}: validation score")
    best = _read_json(os.path.join(out, "best.json")) if os.path.isfile(os.path.join(out, "best.json")) else {}
    summary = {
        "name": args.name,
        "backend": keras.backend.backend(),
        "epochs": epochs,
        "batch_size": recipe.batch_size,
        "global_batch_size": recipe.batch_size * world if recipe.per_replica_batch else recipe.batch_size,
        **({"norm": norm} if recipe.per_replica_batch else {}),
        "wall_time_s": round(previous + time.time() - start, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "keep": recipe.keep,
        "exported_epoch": best.get("exported_epoch", best.get("best_epoch")),
        "exported_validation_score": best.get("exported_score", best.get("best")),
        "best_epoch": best.get("best_epoch"),
        "best_validation_score": best.get("best"),
        "export": export_path,
        "sha256": zoo.sha256_of(export_path) if os.path.isfile(export_path) else None,
        "command": "python -m zoo.train " + " ".join(sys.argv[1:] if argv is None else argv),
        "processes": world,
        "epochs_run": _epochs_run(out),
        "limit": args.limit,
        "seed": seed,
        "optimizer_iterations": {key: int(keras.ops.convert_to_numpy(opt.iterations))
                                 for key, opt in (("d", model.d_optimizer), ("g", model.g_optimizer))},
        "generator_average": args.generator_ema,
        "warm_start": (_read_json(os.path.join(out, "warm_start.json"))
                       if os.path.isfile(os.path.join(out, "warm_start.json")) else None),
    }
    if not args.no_eval and recipe.evaluate is not None and os.path.isfile(export_path):
        with distributed.process_local_view(model):  # process 0 alone, on a JAX job too
            summary["evaluation"] = _evaluate_and_write_card(args.name, recipe, summary, out, args.data_dir)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    distributed.leave_torch_job()
    return 0


def _recipe_model(recipe, data, seed: int, steps_per_epoch: int, generator_ema: float | None,
                  source=None, initial_epoch: int = 0, strategy=None, norm: str = "syncbatch"):
    """The recipe's model, built from `seed` and compiled (with G's moving average if asked), and
    warm-started from `source`'s networks after `initial_epoch` epochs if given: the same on
    every process of a job (a JAX job's processes must each assign the same values). On a
    TF_CONFIG job it is built under the job's `strategy`. `norm` "batch" turns the pix2pix
    networks' synchronized batch norm off (`--norm`)."""
    import contextlib

    import keras

    from keras_gan.layers.batch_norm import set_synchronized
    from keras_gan.models import reset_generator_average, with_generator_average

    keras.utils.set_random_seed(seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = recipe.build(data)
        if recipe.per_replica_batch:
            set_synchronized(model, norm == "syncbatch")
        recipe.compile(model, steps_per_epoch)
        if generator_ema is not None:
            with_generator_average(model, generator_ema)
        if source is not None:
            _copy_network_weights(source, model)
            _continue_schedules(model, initial_epoch * steps_per_epoch)
            if generator_ema is not None:
                reset_generator_average(model)
    return model


def _follow_process_zero(args, recipe, data, shard, seed: int, steps_per_epoch: int, epochs: int,
                         backup_dir: str, rank: int, source, initial_epoch: int, strategy=None,
                         norm: str = "syncbatch") -> int:
    """A process other than 0 of a torchrun, JAX or TF_CONFIG job: train in step with process 0, write nothing
    to --out.

    It builds (and warm-starts) the same model as process 0, serves its slice of
    every global batch, and resumes from process 0's backup: copied to a private
    folder first, so that it restores the same state and knows the epoch to start
    from (on torch the step also broadcasts process 0's state at `fit`). Records,
    exports and the card are process 0's alone.
    """
    import shutil
    import tempfile

    from keras_gan import distributed
    from keras_gan.callbacks import ResumableBackup, TrainingStopped, stop_on_signals
    from zoo import run_guard
    from zoo.training_callbacks import ProcessLocal

    scratch = tempfile.mkdtemp(prefix=f"keras_gan_rank{rank}_")
    try:
        if os.path.isdir(backup_dir):  # process 0's newest state (a step backup too) is where all resume
            shutil.copytree(backup_dir, os.path.join(scratch, "backup"))
        model = _recipe_model(recipe, data, seed, steps_per_epoch, args.generator_ema, source, initial_epoch,
                              strategy, norm)
        del source
        # The stop on a signal (to this process or another) is agreed at every step: all stop together.
        with stop_on_signals():
            model.fit(shard, epochs=epochs, initial_epoch=initial_epoch,
                      callbacks=[ProcessLocal(ResumableBackup(
                          # At the same steps as process 0's: a torch backup gathers every process's random state.
                          os.path.join(scratch, "backup"), every_steps=args.backup_every_steps,
                          every_minutes=args.backup_every_minutes))], verbose=0)
    except TrainingStopped as e:  # process 0 wrote the job's backup
        print(f"zoo.train (process {rank}): stopped by {e.signal_name}; process 0 wrote the backup.",
              file=sys.stderr, flush=True)
        run_guard.stop_together()
        return run_guard.EXIT_STOPPED
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    distributed.leave_torch_job()
    return 0


def _output_folder_problem(out: str) -> str | None:
    """Why the run's folder cannot be used (a file is there, or it cannot be created or written)."""
    if os.path.exists(out) and not os.path.isdir(out):
        return f"{out} is a file, not a folder; give a folder for the run's outputs."
    existing = out
    while existing and not os.path.exists(existing):  # the deepest part that exists must be writable
        existing = os.path.dirname(existing.rstrip(os.sep)) or "."
    if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot create or write {out} (no write access to {existing})."
    try:
        probe_dir = out if os.path.isdir(out) else existing
        import tempfile

        with tempfile.TemporaryFile(dir=probe_dir):
            pass
    except OSError as e:
        return f"cannot write in {out}: {e.strerror or e}."
    return None


def _read_json(path: str):
    """The JSON value in `path` (the file closed at once)."""
    with open(path) as f:
        return json.load(f)


def _continue_schedules(model, iterations: int) -> None:
    """Put SGD optimizers' update counters where the continued run left off.

    The paper's SGD recipes derive the learning rate (decayed every update) and
    the momentum ramp (per epoch) from `optimizer.iterations`; restarting it at 0
    would rewind both to epoch 1. Only the velocity is lost, and it rebuilds
    within a few updates. Adam is left at 0: its counter drives the bias
    correction of its moments, which restart at zero, so a large count would
    make the first steps about 16 times too big.
    """
    import keras

    for optimizer in (model.d_optimizer, model.g_optimizer):
        if isinstance(optimizer, keras.optimizers.SGD):
            optimizer.iterations.assign(iterations)


def _write_json(path: str, value) -> None:
    """Write `value` as JSON through a temporary file, so a kill never leaves half a file."""
    _write_text(path, json.dumps(value, indent=2))


def _run_settings_mismatch(run_path: str, restored, settings: dict) -> str | None:
    """Why this resume cannot go on with these settings, or None.

    The epochs already run used the recorded --limit and --seed; continuing with
    others would mix two runs while the summary names one.
    """
    if restored is None or not os.path.isfile(run_path):
        return None
    recorded = _read_json(run_path)
    # runs from before --norm existed had synchronized batch norm, the default
    recorded.setdefault("norm", DEFAULT_NORM)
    changed = [f"--{key} {recorded.get(key)} (now {value})" for key, value in settings.items()
               if recorded.get(key) != value]
    if not changed:
        return None
    return (f"this run was started with {', '.join(changed)}; a resume must keep them. Pass the "
            "recorded values, or start a new --out folder.")


def _rewind_records(out: str, score_name: str, epoch: int) -> None:
    """Cut the run's records back to the `epoch` epochs the restored backup holds.

    A kill after an epoch's records were written but before its backup landed
    runs that epoch again; without this its rows would appear twice. Each file
    is rewritten through a temporary file.
    """
    import csv
    import glob

    history = os.path.join(out, "history.csv")
    if os.path.isfile(history):  # CSVLogger's 0-based epochs
        with open(history, newline="") as f:  # keep CSVLogger's \r\n line ends
            lines = f.read().splitlines(keepends=True)
        # A write cut short (a kill, a full disk) can leave a partial last row, or a partial header when
        # it was the first: without a whole header every row is of the rerun epoch (CSVLogger writes
        # the header with the first row), and an empty file makes CSVLogger write the header again.
        if lines and lines[0].startswith("epoch,") and lines[0].endswith("\n"):
            kept = lines[:1] + [line for line in lines[1:] if -1 < _leading_int(line) < epoch]
        else:
            kept = []
        _write_text(history, "".join(kept))
    scores_path = os.path.join(out, f"{score_name}.csv")
    if os.path.isfile(scores_path):  # 1-based epochs
        with open(scores_path) as f:
            rows = [row for row in csv.DictReader(f)
                    if 0 < _leading_int(f"{row.get('epoch')},") <= epoch and _is_number(row.get("score"))]
        _write_text(scores_path, "epoch,score\n" + "".join(f"{r['epoch']},{r['score']}\n" for r in rows))
        best_path = os.path.join(out, "best.json")
        if os.path.isfile(best_path):
            state = _read_json(best_path)
            scored = [(int(r["epoch"]), float(r["score"])) for r in rows]
            if scored:
                best_epoch, best = max(scored, key=lambda item: (item[1], -item[0]))
                exported = scored[-1] if state.get("keep") == "last" else (best_epoch, best)
                state.update(best=best, best_epoch=best_epoch, last_epoch=scored[-1][0], last_score=scored[-1][1],
                             exported_epoch=exported[0], exported_score=exported[1])
                _write_json(best_path, state)
            else:
                os.remove(best_path)
    for path in glob.glob(os.path.join(out, "samples", "samples_epoch_*.png")):
        if int(os.path.basename(path)[len("samples_epoch_"):-len(".png")]) > epoch:
            os.remove(path)
    clock = os.path.join(out, "wall_time.json")
    if os.path.isfile(clock):
        _write_json(clock, {**_read_json(clock), "epochs": epoch})


def _leading_int(line: str) -> int:
    """The integer before a CSV line's first comma (-1 when there is none: a partial or empty row)."""
    head, comma, _ = line.partition(",")
    return int(head) if comma and head.strip().isdigit() else -1


def _is_number(text) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _write_text(path: str, text: str) -> None:
    from keras_gan.utils.files import write_text_atomically  # after main() chose the backend

    write_text_atomically(path, text)


def _generator_average_mismatch(average_path: str, restored, backup_dir: str,
                                momentum: float | None) -> str | None:
    """Why --generator-ema cannot resume this --out folder, or None.

    The average is part of the generator optimizer's state, so a backup holds
    it only if the run kept one, and a resume must build the same optimizer to
    restore it.
    """
    if restored is None:
        return None
    recorded = _read_json(average_path)["momentum"] if os.path.isfile(average_path) else None
    if recorded == momentum:
        return None
    said = f"--generator-ema {recorded}" if recorded is not None else "no --generator-ema"
    asked = f"--generator-ema {momentum}" if momentum is not None else "no --generator-ema"
    return (f"{backup_dir} was trained with {said}; resuming it needs the same ({asked} was "
            "given). Pass the same value, or start a new --out folder.")


def _logged_history(csv_path: str) -> tuple[dict, list[int]]:
    """The losses CSVLogger wrote over all sessions: ({series: values}, 1-based epochs).
    Validation columns that Keras leaves "NA" (no validation data) are dropped."""
    import csv

    if not os.path.isfile(csv_path):
        return {}, []
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    epochs = [int(row["epoch"]) + 1 for row in rows]
    series = {}
    for key in (rows[0] if rows else {}):
        if key == "epoch" or any(row[key] in ("NA", "", None) for row in rows):
            continue
        series[key] = [float(row[key]) for row in rows]
    return series, epochs


def _logged_scores(csv_path: str) -> tuple[list[int], list[float]]:
    """The validation scores BestValidationExport appended over all sessions: (epochs, scores).
    A session that was cut off may have repeated an epoch on resume; the last value wins."""
    import csv

    if not os.path.isfile(csv_path):
        return [], []
    with open(csv_path) as f:
        by_epoch = {int(row["epoch"]): float(row["score"]) for row in csv.DictReader(f)}
    epochs = sorted(by_epoch)
    return epochs, [by_epoch[e] for e in epochs]


def _copy_network_weights(source, target) -> None:
    """Copy the networks' variables between a training model and a fresh registry model
    of the same architecture (same variable order; optimizer state is not part of it)."""
    for to, from_ in zip(target.weights, source.weights):
        to.assign(from_.value)


def _epochs_run(out: str) -> int:
    """Epochs finished over all sessions of this run (the clock file counts them)."""
    clock = os.path.join(out, "wall_time.json")
    return int(_read_json(clock)["epochs"]) if os.path.isfile(clock) else 0


def _evaluate_and_write_card(name: str, recipe, summary: dict, out: str, data_dir: str | None) -> dict:
    """The recipe's test metrics on the exported weights -> evaluation.json and card.md."""
    from keras_gan import zoo
    from zoo.card import render_card

    model = zoo.load(name, weights=summary["export"])
    print(f"evaluating the export on the test split ({recipe.evaluate_command}) ...", flush=True)
    evaluation = recipe.evaluate(model, data_dir)
    with open(os.path.join(out, "evaluation.json"), "w") as f:
        json.dump(evaluation, f, indent=2)
    with open(os.path.join(out, "card.md"), "w") as f:
        f.write(render_card(zoo.get_entry(name), recipe, summary, evaluation))
    print(f"card: {os.path.join(out, 'card.md')}")
    return evaluation


if __name__ == "__main__":
    sys.exit(main())
