"""One place for each thing: one sha256 of a file, imports that run one way between the library's
parts, and keras_gan's Keras-free modules usable by `evaluation` without starting Keras."""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, one_pass


def _imports(path: Path, module_level_only: bool = False) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in a file (`from a import b` gives a.b), function-level
    ones too unless `module_level_only`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    if module_level_only:  # module level includes if/try blocks, not function or class bodies
        stack, nodes = list(tree.body), []
        while stack:
            node = stack.pop()
            nodes.append(node)
            if isinstance(node, (ast.If, ast.Try, ast.With)):
                stack.extend(ast.iter_child_nodes(node))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _under(dotted: str, package: str) -> bool:
    return dotted == package or dotted.startswith(package + ".")


def test_one_sha256_of_a_file(tmp_path):
    """Every file hash of keras_gan, the zoo and evaluation is keras_gan.utils.files.sha256_of."""
    import importlib

    from evaluation import checkpoints
    from keras_gan import resumable, zoo
    from keras_gan.utils import files

    image_files = importlib.import_module("keras_gan.datasets.image_files")  # reads facades' and your folders' files

    data = bytes(range(256)) * 10_000  # 2.5 MiB: more than one block
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert files.sha256_of(str(path)) == files.sha256_of(path) == files.sha256_of(data) == expected
    assert files.sha256_of(memoryview(data)) == expected
    assert zoo.sha256_of is zoo.weights.sha256_of is resumable.sha256_of is image_files.sha256_of is files.sha256_of
    # evaluation's: the same file's function (loaded without Keras when keras_gan was not imported yet)
    assert checkpoints.file_sha256.__code__.co_filename == files.sha256_of.__code__.co_filename
    assert checkpoints.file_sha256(path) == expected
    for root in ("keras_gan", "evaluation", "zoo"):
        for module in Path(REPO, root).rglob("*.py"):
            if module.name == "files.py" and module.parent.name == "utils":
                continue
            source = module.read_text(encoding="utf-8")
            assert "hashlib.sha256(open(" not in source and "digest.update(block)" not in source, module


def test_resumable_never_imports_the_zoo_and_models_never_import_resumable():
    """keras_gan.resumable (backups) stands below the zoo; the models stand below resumable
    (`fit` adds `keras_gan.datasets.shuffled.DataEpoch`, not resumable's)."""
    library = Path(REPO, "keras_gan")
    assert [i for i in _imports(library / "resumable.py") if _under(i[1], "keras_gan.zoo")] == []
    for module in sorted((library / "models").glob("*.py")):
        assert [i for i in _imports(module) if _under(i[1], "keras_gan.resumable")] == [], module.name


def test_data_epoch_is_one_class_public_where_it_was():
    from keras_gan import callbacks, resumable
    from keras_gan.datasets import shuffled

    assert callbacks.DataEpoch is resumable.DataEpoch is shuffled.DataEpoch


def test_the_keras_free_modules_import_only_the_standard_library():
    from evaluation import keras_free

    for name in keras_free.KERAS_FREE:
        path = Path(REPO, *name.split(".")).with_suffix(".py")
        for line, dotted in _imports(path):
            top = dotted.split(".")[0]
            assert top == "__future__" or top in sys.stdlib_module_names, f"{path}:{line} imports {dotted}"


@one_pass("jax", "a fresh interpreter's imports do not depend on the backend")
def test_evaluation_uses_keras_gans_keras_free_modules_without_keras():
    """In a fresh interpreter, evaluation's Keras-free view of keras_gan (and the modules using it)
    loads keras_gan's own files and leaves Keras (and keras_gan's package) unimported; once keras_gan
    is imported, it is keras_gan's module itself."""
    code = (
        "import sys\n"
        "from evaluation import keras_free, checkpoints\n"
        "assert 'keras' not in sys.modules and 'keras_gan' not in sys.modules, sorted(sys.modules)\n"
        "for name in keras_free.KERAS_FREE:\n"
        "    module = keras_free.keras_gan_module(name)\n"
        "    assert module.__file__.endswith(name.replace('.', '/') + '.py'), module.__file__\n"
        "assert checkpoints.file_sha256 is keras_free.files.sha256_of\n"
        "assert 'keras' not in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr
    code = (
        "import keras_gan.utils.files\n"
        "from evaluation import keras_free\n"
        "assert keras_free.files is keras_gan.utils.files\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr


@one_pass("jax", "a fresh interpreter's imports do not depend on the backend")
def test_the_papers_numbers_import_without_keras():
    """The papers' numbers module, as evaluation imports it, and the evaluation commands that print
    them, leave Keras out of a fresh interpreter: `keras_gan.zoo.papers`' own file, no copy.

    (`import keras_gan.zoo.papers` itself runs keras_gan/__init__.py, which imports Keras: importing
    keras_gan registers its layers and models with Keras' serialization.)"""
    code = (
        "import sys\n"
        "from evaluation.keras_free import papers\n"
        "assert 'keras' not in sys.modules, 'keras imported by the numbers module'\n"
        "assert papers.__file__.replace('\\\\', '/').endswith('keras_gan/zoo/papers.py'), papers.__file__\n"
        "import evaluation.fcn_score, evaluation.parzen\n"
        "assert 'keras' not in sys.modules, 'keras imported by the evaluation commands'\n"
        "assert evaluation.fcn_score.PAPER_TABLE_1 is papers.PIX2PIX_FCN_SCORES\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr


def test_the_papers_numbers_have_one_copy():
    """evaluation's tables are keras_gan.zoo.papers' numbers, and no other module spells them out."""
    from evaluation import fcn_score, parzen
    from keras_gan.zoo import papers

    assert fcn_score.PAPER_TABLE_1 == papers.PIX2PIX_FCN_SCORES
    assert {k: tuple(v.__dict__.values()) for k, v in parzen.PAPER_NUMBERS.items()} == papers.PARZEN_MNIST
    assert (papers.GAN_MNIST_PARZEN["parzen_ll"], papers.CGAN_MNIST_PARZEN["parzen_se"]) == (225.0, 1.8)
    spelled = [repr(row)[1:-1] for row in papers.PIX2PIX_FCN_SCORES.values()]
    spelled += [f"{mean!r}, {se!r}" for _, mean, se, _ in papers.PARZEN_MNIST.values()]
    for root in ("keras_gan", "evaluation", "zoo"):
        for module in Path(REPO, root).rglob("*.py"):
            if module != Path(REPO, "keras_gan", "zoo", "papers.py"):
                source = module.read_text(encoding="utf-8")
                assert not [s for s in spelled if s in source], module


def test_layers_and_backend_import_each_other_only_inside_functions():
    """keras_gan.layers' torch code is keras_gan.backend.torch_layers; the layers reach it (and
    torch_collectives) inside their methods, and keras_gan.backend reaches the layers (torch_kernels'
    Maxout) inside a function, so at module import neither package imports the other."""
    library = Path(REPO, "keras_gan")
    for package, other in (("layers", "keras_gan.backend"), ("backend", "keras_gan.layers")):
        for module in sorted((library / package).glob("*.py")):
            found = [i for i in _imports(module, module_level_only=True)
                     if _under(i[1], other) or i[1] == "keras_gan." + other.split(".")[1]]
            assert found == [], f"{module.relative_to(REPO)} imports {found} at module level"
    torch_code = [m.name for m in sorted((library / "layers").glob("*.py"))
                  if any(_under(i[1], "torch") for i in _imports(m))]
    assert torch_code == [], f"torch code left in keras_gan/layers: {torch_code}"
