"""Run a patch right after a module is first imported, and never import it ourselves.

Importing FastAPI costs ~150 ms; a script sandbox that never uses it must not pay that
for the harness's sake. Patches for FastAPI and AnyIO wait here until the lesson's own
code imports them.
"""
import importlib.abc
import sys

_pending = {}


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in _pending:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None and spec.loader is not None:
                original = spec.loader.exec_module

                def exec_module(module, _original=original, _name=name):
                    _original(module)
                    for patch in _pending.pop(_name, []):
                        patch(module)

                spec.loader.exec_module = exec_module
                return spec
        return None


_finder = _Finder()


def when_imported(name, patch):
    """Call `patch(module)` once `name` is imported (at once if it already is)."""
    if name in sys.modules:
        patch(sys.modules[name])
        return
    _pending.setdefault(name, []).append(patch)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
