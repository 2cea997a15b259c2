"""The layering of the package (docs: ARCHITECTURE.md), checked on its imports.

- ``learn`` computes and never draws: importing the package and every
  ``hyperspy_manifold.learn`` module imports neither ``hyperspy_manifold.plot``
  nor matplotlib nor Bokeh (results import them inside the methods that draw);
- ``kernels`` are pure array code: no ``hyperspy``;
- ``features`` sit below ``learn``: no ``hyperspy_manifold.learn``.

Each rule runs in a fresh interpreter, one per rule, where an import hook
records every module being executed when a forbidden module is first imported,
so a failure names the import chain from the offending module down to the
forbidden one.  For ``kernels`` and ``features`` the package ``__init__`` (which
imports every layer, hyperspy included) is replaced by an empty package, so only
the layer's own imports count.
"""

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hyperspy_manifold

#: Runs in the fresh interpreter: argv[1] is a JSON dict with ``package`` (its
#: name), ``root`` (the folder holding it), ``layer`` (the sub-package whose
#: modules are imported), ``forbidden`` (module names; their submodules count)
#: and ``bare`` (replace the package's ``__init__`` by an empty package).
#: Prints the JSON list of violations, ``"chain -> forbidden"`` each.
CHECKER = textwrap.dedent(
    """
    import importlib.machinery, importlib.util, json, os, sys

    args = json.loads(sys.argv[1])
    package, forbidden = args["package"], tuple(args["forbidden"])

    def rule(name):
        # the forbidden entry `name` falls under, or None
        for f in forbidden:
            if name == f or name.startswith(f + "."):
                return f
        return None

    violations = [f"{name} imported at start-up" for name in sys.modules if rule(name)]
    named = set()

    class Recorder:
        # finds nothing: it notes who first imports each forbidden module
        def find_spec(self, name, path=None, target=None):
            f = rule(name)
            if f is not None and f not in named:
                named.add(f)
                frame, chain = sys._getframe(1), []
                while frame is not None:
                    module = frame.f_globals.get("__name__", "")
                    if frame.f_code.co_name == "<module>" and not (
                        module == "__main__" or module.startswith("importlib")
                    ):
                        chain.append(module)
                    frame = frame.f_back
                violations.append(" -> ".join(chain[::-1] + [name]))
            return None

    sys.meta_path.insert(0, Recorder())
    top = os.path.join(args["root"], package)
    if args["bare"]:
        init = os.path.join(top, "__init__.py")
        spec = importlib.machinery.ModuleSpec(
            package, None, origin=init, is_package=True
        )
        spec.submodule_search_locations = [top]
        sys.modules[package] = importlib.util.module_from_spec(spec)
    folder = os.path.join(top, *args["layer"].split(".")[1:])
    for where, _, files in sorted(os.walk(folder)):
        parts = os.path.relpath(where, args["root"]).split(os.sep)
        for file in sorted(files):
            if file.endswith(".py"):
                stem = file[:-3]
                importlib.import_module(
                    ".".join(parts if stem == "__init__" else parts + [stem])
                )
    violations += [
        f"{f} imported (route not recorded)"
        for f in sorted(set(filter(None, map(rule, sys.modules))) - named)
    ]
    print(json.dumps(violations))
    """
)

ROOT = Path(hyperspy_manifold.__file__).resolve().parent.parent


def import_violations(layer, forbidden, bare=True, root=ROOT, package=None):
    """The violations of "importing every module of ``layer`` imports nothing of
    ``forbidden``", found in a fresh interpreter."""
    package = package or layer.split(".")[0]
    args = dict(
        package=package, root=str(root), layer=layer, forbidden=forbidden, bare=bare
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", CHECKER, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_learn_imports_no_drawing_code():
    # the real package __init__ too: `import hyperspy_manifold` must not draw
    found = import_violations(
        "hyperspy_manifold.learn",
        ["hyperspy_manifold.plot", "matplotlib", "bokeh"],
        bare=False,
    )
    assert not found, "learn/ imports drawing code:\n" + "\n".join(found)


def test_kernels_import_no_hyperspy():
    found = import_violations("hyperspy_manifold.kernels", ["hyperspy"])
    assert not found, "kernels/ imports hyperspy:\n" + "\n".join(found)


def test_features_import_no_learn():
    found = import_violations("hyperspy_manifold.features", ["hyperspy_manifold.learn"])
    assert not found, "features/ imports learn/:\n" + "\n".join(found)


@pytest.mark.parametrize("bare", [True, False])
def test_checker_names_the_offending_module(tmp_path, bare):
    """A layer breaking the rule twice, directly and through a helper, inside a
    function called at import: both chains are named."""
    package = tmp_path / "layered"
    (package / "low").mkdir(parents=True)
    (package / "high").mkdir()
    (package / "__init__.py").write_text("")
    (package / "_helper.py").write_text("import layered.high.draw\n")
    (package / "high" / "__init__.py").write_text("")
    (package / "high" / "draw.py").write_text("import colorsys\n")
    (package / "low" / "__init__.py").write_text("")
    (package / "low" / "clean.py").write_text("import json\n")
    (package / "low" / "direct.py").write_text(
        "def load():\n    import layered.high.draw\n\nload()\n"
    )
    (package / "low" / "indirect.py").write_text("import layered._helper\n")
    (package / "low" / "stdlib.py").write_text("import wave\n")
    found = import_violations(
        "layered.low", ["layered.high", "wave"], bare=bare, root=tmp_path
    )
    assert found == [
        "layered.low.direct -> layered.high",
        "layered.low.stdlib -> wave",
    ]
    # `direct` imported layered.high first; with it gone, `indirect` is named
    (package / "low" / "direct.py").write_text("")
    found = import_violations("layered.low", ["layered.high"], bare=bare, root=tmp_path)
    assert found == ["layered.low.indirect -> layered._helper -> layered.high"]


#: Names of a convention and the one module that defines each.
HOMES = {
    "MASKED": "learn/_labels.py",
    "NOISE": "learn/_labels.py",
    "MASKED_COLOR": "plot/colours.py",
    "NOISE_COLOR": "plot/colours.py",
}


def test_label_and_colour_conventions_have_one_home():
    """The label values and their colours are assigned in one module each; every
    other module imports them from there."""
    package = ROOT / "hyperspy_manifold"
    found = []
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = (
                    node.targets if isinstance(node, ast.Assign) else [node.target]
                )
                names = {t.id for t in targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.ImportFrom) and node.module:
                # an import from another module than the home is a second home
                source = node.module.replace(".", "/") + ".py"
                names = {
                    alias.name
                    for alias in node.names
                    if not source.endswith(HOMES.get(alias.name, source))
                }
            else:
                continue
            found += [
                f"{where}:{node.lineno} {name}"
                for name in names & set(HOMES)
                if where != HOMES[name]
            ]
    assert not found, "defined or imported outside their home:\n" + "\n".join(found)
