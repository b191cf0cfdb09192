"""gml's mm registries, children of mmcv's and mmcls's so that scoped names resolve across packages.

In an mm config a ``type`` may name

- ``'gml.X'``: a class registered in gml's registry (scope ``gml``);
- ``'mmcls.X'`` (or any installed OpenMMLab scope): a class from that package's registry;
- ``'X'`` without a scope: the registry being built from first, then its parents up to mmcv's root
  (so ``algorithm.model=dict(type='ImageClassifier')`` finds mmcls's class through gml's MODELS).

The tree::

    mmcv MODELS ─ mmcls MODELS ─ gml MODELS      (BACKBONES = NECKS = HEADS = LOSSES = CLASSIFIERS = MODELS)
    mmcls DATASETS ─ gml DATASETS,  mmcls PIPELINES ─ gml PIPELINES,  mmcv HOOKS ─ gml HOOKS
    gml ALGORITHMS, gml MUTATORS                 (roots of their own; scope gml)

Because gml's MODELS is a child of mmcls's, mmcls's builders resolve ``'gml.X'`` too: a gml backbone named inside an
``mmcls.ImageClassifier`` config builds. It is also listed under mmcv's root MODELS, where mmcv looks up scopes that
a registry does not know, so other OpenMMLab packages' builders resolve ``'gml.X'`` as well. Register a class with the usual decorator::

    from gml.models.registry import MODELS

    @MODELS.register_module()
    class ResNetSlice(BaseModule): ...
"""
from __future__ import annotations

from typing import Optional

from .. import torchvision_stand_in

torchvision_stand_in.install_torchvision_stand_in()

from mmcls.datasets.builder import DATASETS as MMCLS_DATASETS  # noqa: E402
from mmcls.datasets.builder import PIPELINES as MMCLS_PIPELINES  # noqa: E402
from mmcls.models.builder import MODELS as MMCLS_MODELS  # noqa: E402
from mmcv.runner.hooks import HOOKS as MMCV_HOOKS  # noqa: E402
from mmcv.utils import Registry as _MMCVRegistry  # noqa: E402

SCOPE = "gml"


def _find_scope(registry: _MMCVRegistry, scope: str) -> Optional[_MMCVRegistry]:
    """The registry with ``scope`` in the tree under ``registry`` (depth first), or None."""
    if registry.scope == scope:
        return registry
    for child in registry.children.values():
        found = _find_scope(child, scope)
        if found is not None:
            return found
    return None


class ScopedRegistry(_MMCVRegistry):
    """An mmcv registry (unlike :class:`gml.registry.Registry`, which holds the controller's light extension
    points) whose lookups also reach parents (unscoped names) and any scope in the tree.

    ``get`` returns None for an unknown name (mmcv's ``build_from_cfg`` then raises a KeyError naming the key and the
    registry), and never fails on a scope that no registry in the tree holds.
    """

    def get(self, key):
        scope, real_key = self.split_scope_key(key)
        if scope is None or scope == self.scope:
            if real_key in self._module_dict:
                return self._module_dict[real_key]
            node = self.parent if scope is None else None
            while node is not None:
                if real_key in node.module_dict:
                    return node.module_dict[real_key]
                node = node.parent
            return None
        if scope in self.children:
            return self.children[scope].get(real_key)
        root = self
        while root.parent is not None:
            root = root.parent
        target = _find_scope(root, scope)
        if target is None or target is self:
            return None
        return target.get(real_key)


MODELS = ScopedRegistry("models", parent=MMCLS_MODELS, scope=SCOPE)
# mmcv resolves an unknown scope at the root of the tree, which only looks at its direct children; list gml's MODELS
# there too (its parent stays mmcls's), so that 'gml.X' also builds from other OpenMMLab packages' registries.
MMCLS_MODELS.parent._children.setdefault(SCOPE, MODELS)
BACKBONES = MODELS
NECKS = MODELS
HEADS = MODELS
LOSSES = MODELS
CLASSIFIERS = MODELS

#: Algorithms wrap a model (``cfg.algorithm``); built by :func:`gml.models.build_algorithm`.
ALGORITHMS = ScopedRegistry("algorithm", scope=SCOPE)
#: Mutators sample/fix the choices of a searchable model.
MUTATORS = ScopedRegistry("mutator", scope=SCOPE)
#: Quantizers turn a float model into a fake-quant and then an int8 model (``algorithm.quantizer``).
QUANTIZERS = ScopedRegistry("quantizer", scope=SCOPE)

DATASETS = ScopedRegistry("dataset", parent=MMCLS_DATASETS, scope=SCOPE)
PIPELINES = ScopedRegistry("pipeline", parent=MMCLS_PIPELINES, scope=SCOPE)
HOOKS = ScopedRegistry("hook", parent=MMCV_HOOKS, scope=SCOPE)

__all__ = ["ScopedRegistry", "SCOPE", "MODELS", "BACKBONES", "NECKS", "HEADS", "LOSSES", "CLASSIFIERS", "ALGORITHMS",
           "MUTATORS", "DATASETS", "PIPELINES", "HOOKS", "QUANTIZERS"]
