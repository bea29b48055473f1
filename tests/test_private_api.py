"""Every private Keras / TensorFlow API keras_gan relies on is reached through `keras_gan/compat.py`,
and through nothing else, so a Keras upgrade that drops one fails in one obvious place
(`compat.check()`, `tests/test_compat.py`) instead of deep inside a training step.

The rule, checked on the source (`ast`) of every module of `keras_gan/`, `evaluation/` and `zoo/`
except `keras_gan/compat.py` (docstrings are prose and are not read):

1. No private module of Keras or TensorFlow: `keras.src...` or `tensorflow.python...` imported
   (`import`, `from ... import`, `from keras import src`), reached as an attribute (`keras.src.x`),
   or named in a string (for `importlib.import_module`, or a `__module__` compared with Keras' own).
2. No private attribute of TensorFlow's module: `tf._name`, `tf.__internal__` (`tf` being however
   `tensorflow` was imported).
3. No private attribute of a Keras object. Source does not tell the type of `x` in `x._name`, so
   this rule goes by the name: `_name` is Keras' when the installed Keras' own source uses it as
   a private attribute or method (`self._name`, `cls._name` or `def _name` in `keras/src`) and
   keras_gan does not define it for itself (`KERAS_GAN_NAMES`: a method or class attribute of one
   of keras_gan's classes, an attribute keras_gan sets on `self`, or a `_keras_gan_*` attribute it
   hangs on a Keras object). Every read, write and `del` counts, and `getattr` / `setattr` /
   `hasattr` / `delattr` with a literal name, on any object, `self` included: a keras_gan subclass
   reading Keras' `self._reduction_axes` is as fragile as any other reader. An attribute of one
   of keras_gan's own modules (`paired._require_translate`) is keras_gan's.
4. No method replaced on another object: a function (a `lambda`, `types.MethodType(...)`,
   `functools.partial(...)`, or a function defined in the same module) assigned to an attribute
   of anything but `self`. Such a replacement works only because Keras looks the method up on the
   instance (`SeedGenerator.next`, `Layer.call`, torch Adam's `_parallel_update_step`), which no
   public contract promises; compat.check() probes that Keras still does.

Rule 3 exempts keras_gan's own names, so a name both define would hide a Keras private behind
keras_gan's: `test_keras_gan_names_that_keras_also_uses_are_accounted_for` makes every such
collision explicit, either an override of Keras' method that `compat.OVERRIDDEN_TRAINER_METHODS`
declares (`compat.check()` probes it) or one of `COINCIDENT`, each with why it is keras_gan's own.

What the rules cannot see: a private attribute reached through a computed name
(`getattr(x, name)`, `vars(x)[...]`), or one of the COINCIDENT names read on a Keras object.
"""

from __future__ import annotations

import ast
import functools
import os
import re
from pathlib import Path


from tests.conftest import REPO

ROOTS = ("keras_gan", "evaluation", "zoo")
COMPAT = os.path.join("keras_gan", "compat.py")
PRIVATE_MODULES = ("keras.src", "tensorflow.python")
TF_MODULE = "tensorflow"

#: keras_gan names that Keras' source also uses privately, and why each is keras_gan's own here.
COINCIDENT = {
    "_optimizer": "keras_gan.backend.step.Step._optimizer(network): which of the model's two "
                  "optimizers updates a network (Step is not a Keras class)",
    "_model": "keras_gan.models.optimizer_pair.OptimizerPair's weak reference to its model "
              "(OptimizerPair is deliberately not a Keras object)",
}


def _modules() -> list[str]:
    """Every Python module under the roots, as a path relative to the repository."""
    found = []
    for root in ROOTS:
        for path in sorted(Path(REPO, root).rglob("*.py")):
            found.append(str(path.relative_to(REPO)))
    return found


@functools.lru_cache(maxsize=None)
def _tree(module: str) -> ast.Module:
    return ast.parse(Path(REPO, module).read_text(encoding="utf-8"), filename=module)


@functools.lru_cache(maxsize=None)
def keras_private_names() -> frozenset:
    """The private attribute and method names the installed Keras' own source uses (`keras/src`)."""
    import importlib.util

    spec = importlib.util.find_spec("keras")  # locates Keras without importing it
    pattern = re.compile(r"(?:\bdef\s+|\bself\.|\bcls\.)(_[A-Za-z0-9]\w*)")
    names = set()
    for path in Path(spec.submodule_search_locations[0], "src").rglob("*.py"):
        names.update(pattern.findall(path.read_text(encoding="utf-8", errors="replace")))
    assert len(names) > 500, "Keras' source was not found"
    return frozenset(names)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the string constants that are docstrings (module, class, function)."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
                    first.value.value, str):
                ids.add(id(first.value))
    return ids


@functools.lru_cache(maxsize=None)
def keras_gan_names() -> frozenset:
    """The private names keras_gan defines for itself (see the module docstring, rule 3)."""
    names = set()
    for module in _modules():
        for node in ast.walk(_tree(module)):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        names.add(item.name)
                    targets = item.targets if isinstance(item, ast.Assign) else (
                        [item.target] if isinstance(item, ast.AnnAssign) else [])
                    names.update(t.id for t in targets if isinstance(t, ast.Name))
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name) and node.value.id == "self"):
                names.add(node.attr)
    return frozenset(n for n in names if _is_private(n))


def _is_keras_gan_own(name: str) -> bool:
    return name.startswith("_keras_gan_") or name in keras_gan_names()


def _imported_names(tree: ast.Module) -> dict[str, str]:
    """{local name: the dotted name it was imported as}, for every import in the module."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    bound[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _dotted(node: ast.AST) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"], or None for anything but names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id] + parts[::-1]


def _is_project_module(dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[0] not in ROOTS:
        return False
    base = Path(REPO, *parts)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _names_private_module(text: str) -> bool:
    return any(text == m or text.startswith(m + ".") for m in PRIVATE_MODULES)


def violations(module: str, tree: ast.Module | None = None) -> list[str]:
    """What `module` does against the rules, as `path:line: what` strings."""
    tree = tree if tree is not None else _tree(module)
    imported = _imported_names(tree)
    docstrings = _docstrings(tree)
    keras_private = keras_private_names()
    local_functions = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found = []

    def flag(node: ast.AST, what: str) -> None:
        found.append(f"{module}:{node.lineno}: {what}")

    def resolved(node: ast.AST) -> str | None:
        """The dotted name an expression refers to through the module's imports (None if not)."""
        parts = _dotted(node)
        if parts is None or parts[0] not in imported:
            return None
        return ".".join([imported[parts[0]]] + parts[1:])

    def check_private_attribute(node: ast.AST, receiver: ast.AST, name: str) -> None:
        if not _is_private(name) and name != "__internal__":
            return
        target = resolved(receiver)
        if target is not None and (target == TF_MODULE or target.startswith(TF_MODULE + ".")):
            flag(node, f"TensorFlow private attribute {ast.unparse(receiver)}.{name} (rule 2)")
        elif target is not None and _is_project_module(target):
            return  # keras_gan's own module
        elif _is_private(name) and name in keras_private and not _is_keras_gan_own(name):
            flag(node, f"Keras private attribute {ast.unparse(receiver)}.{name} (rule 3)")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _names_private_module(alias.name):
                    flag(node, f"import {alias.name} (rule 1)")
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if _names_private_module(node.module) or _names_private_module(f"{node.module}.{alias.name}"):
                    flag(node, f"from {node.module} import {alias.name} (rule 1)")
        elif isinstance(node, ast.Attribute):
            target = resolved(node)
            if target is not None and _names_private_module(target) and not _names_private_module(
                    resolved(node.value) or ""):
                flag(node, f"{ast.unparse(node)}: a private module (rule 1)")
            check_private_attribute(node, node.value, node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if any(m in node.value for m in PRIVATE_MODULES):
                flag(node, f"string naming a private module: {node.value[:60]!r} (rule 1)")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            check_private_attribute(node, node.args[0], node.args[1].value)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Attribute)
                        and not (isinstance(target.value, ast.Name) and target.value.id == "self")
                        and _is_function(node.value, local_functions, imported)):
                    flag(node, f"{ast.unparse(target)} = {ast.unparse(node.value)[:40]}: a method replaced "
                               "on another object (rule 4)")
    return found


def _is_function(value: ast.AST, local_functions: set[str], imported: dict[str, str]) -> bool:
    if isinstance(value, ast.Lambda):
        return True
    if isinstance(value, ast.Name):
        return value.id in local_functions
    if isinstance(value, ast.Call):
        func = _dotted(value.func)
        if func is None:
            return False
        dotted = ".".join([imported.get(func[0], func[0])] + func[1:])
        return dotted in ("types.MethodType", "functools.partial", "MethodType", "partial")
    return False


def test_no_private_keras_or_tensorflow_api_outside_compat():
    found = [v for module in _modules() if module != COMPAT for v in violations(module)]
    assert found == [], (
        "Reach Keras' / TensorFlow's private API through a named function in keras_gan/compat.py "
        "(docstring: the private API and why it is needed; probed in compat.check()):\n" + "\n".join(found))


def test_keras_gan_names_that_keras_also_uses_are_accounted_for():
    """A private name keras_gan defines that Keras' source also uses is exempt from rule 3, so each
    must be a declared override or a known coincidence (see the module docstring)."""
    from keras_gan import compat

    overridden = {m for methods in compat.OVERRIDDEN_TRAINER_METHODS.values() for m in methods}
    shared = {n for n in keras_gan_names() if n in keras_private_names() and not n.startswith("_keras_gan_")}
    assert shared - overridden - set(COINCIDENT) == set(), (
        "keras_gan defines these private names that Keras uses too: an override goes into "
        "compat.OVERRIDDEN_TRAINER_METHODS, a coincidence into COINCIDENT with its reason, and "
        "otherwise rename it")


#: (offending source, the rule that must catch it)
OFFENCES = [
    ("from keras.src.models.functional import Functional", "rule 1"),
    ("import keras.src.backend", "rule 1"),
    ("from keras import src", "rule 1"),
    ("from tensorflow.python.framework import ops", "rule 1"),
    ("import keras\nx = keras.src.tree", "rule 1"),
    ("ok = type(o).__module__ == 'keras.src.backend.torch.optimizers.torch_adam'", "rule 1"),
    ("import tensorflow as tf\ntf.__internal__.distribute", "rule 2"),
    ("axes = layer._reduction_axes", "rule 3"),
    ("axes = self._reduction_axes", "rule 3"),
    ("mode = getattr(layer, '_remat_mode', None)", "rule 3"),
    ("v._value, v._layout = value, None", "rule 3"),
    ("generator.next = lambda ordered=True: seed", "rule 4"),
    ("import types\nnetwork.call = types.MethodType(f, network)", "rule 4"),
    ("def f(): pass\ngenerator.next = f", "rule 4"),
]

#: sources the rules must accept
ALLOWED = [
    "import keras\nx = keras.layers.Dense(2)",
    "self._torch_nchw = True",  # keras_gan's own attribute
    "optimizer._keras_gan_workspace = {}",  # keras_gan's attribute on a Keras object
    "from evaluation import paired\npaired._require_translate(model)",  # keras_gan's own module
    "self.seed_generator = keras.random.SeedGenerator(1)",
    '"""Keras\' torch Adam (`keras.src.backend.torch.optimizers.torch_adam`)."""',  # a docstring
]


def test_the_rules_catch_each_kind_of_offence():
    """Each rule fails on an offending line, as it would in any module of the library."""
    for source, rule in OFFENCES:
        found = violations("keras_gan/example.py", ast.parse(source))
        assert found and all(rule in v for v in found), (source, found)


def test_the_rules_leave_keras_gan_own_names_alone():
    for source in ALLOWED:
        assert violations("keras_gan/example.py", ast.parse(source)) == [], source
