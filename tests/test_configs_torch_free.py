"""`rec_core.configs` is the bottom layer: building and validating a run's config loads no torch."""

from __future__ import annotations

import subprocess
import sys

from rec_core.configs import MODEL_CONFIGS, RunConfig
from rec_core.configs.model import BUILT_IN_BACKBONES


def test_configs_import_no_torch() -> None:
    code = (
        "import sys\n"
        "from rec_core.configs import RunConfig, PRESETS\n"
        "config = RunConfig.from_dict({'model': {'name': 'enhanced', 'preset': 'cold'}})\n"
        "assert config.model.preset == 'cold' and 'cold' in PRESETS\n"
        "assert RunConfig.from_dict(config.to_dict()) == config\n"
        "loaded = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_config_classes_are_the_models() -> None:
    """The torch-free map names the registry's config classes, and the old import paths give the
    same classes."""
    from rec_core.models.enhanced import EnhancedConfig
    from rec_core.models.registry import MODELS
    from rec_core.text.layout import _BUILT_IN

    assert {name: pair[0] for name, pair in MODELS.items()} == MODEL_CONFIGS
    assert MODEL_CONFIGS["enhanced"] is EnhancedConfig
    assert tuple(_BUILT_IN) == BUILT_IN_BACKBONES
    assert RunConfig.from_dict({"model": {"name": "mf"}}).model.name == "mf"
